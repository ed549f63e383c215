"""SavedModel export for TF Serving (issue 5, point 1).

Layout: `<export_base>/<model_name>/<version>/` (saved_model.pb, variables/, assets.extra/),
the directory TF Serving's `--model_base_path=<export_base>/<model_name>` polls. The version
directory is written under a temporary name and renamed when complete, so a running server
never loads a half-written version.

Signatures (all with a dynamic batch size; see tpgan_tf/inference.py for what they compute):
    serving_default   image uint8 [B,128,128,3], landmarks float32 [B,5,2] (0-based crop coords)
                      -> frontal uint8 [B,128,128,3]
    frontalize_image  image_bytes string [B] (JPEG/PNG, any size), landmarks float32 [B,5,2]
                      (0-based pixel coords of each photo)
                      -> frontal_png_bytes, aligned_png_bytes string [B] (PNG; the `_bytes`
                      suffix makes TF Serving's REST API return them as {"b64": ...});
                      aligned_landmarks float32 [B,5,2] (0-based crop coordinates)
    frontal_float     as serving_default -> frontal_float float32 [B,128,128,3] (G's raw output)

Why keras.export.ExportArchive: a plain tf.saved_model.save of a Keras 3 model writes
signatures that TF Serving's session-based loader cannot run; ExportArchive writes concrete
functions over tf.Variables that tf.compat.v1.saved_model.loader.load (what TF Serving uses)
accepts.

BN at serving time: with bn_mode="batch_stats" (the original's, spec 2.1) every request batch
is normalised with its own statistics, so a face's frontal depends on the other faces sent
with it, and a request of one face is normalised over that face alone. `bn_batch_effect`
measures this; "inference" mode (moving averages) removes the dependence but uses statistics
the original never used. The BN moving averages are still assigned in the serving graph in
batch_stats mode (as in the original's graph); they do not affect any output. Do not turn on
TF Serving's server-side batching (--enable_batching) for a batch_stats export: it would merge
requests of different clients into one batch, and so into one set of statistics.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import shutil

import keras
import numpy as np
import tensorflow as tf

from tpgan_tf.config import Config
from tpgan_tf.generator import Generator
from tpgan_tf.inference import POSE_INDEPENDENT_NOSE_OFFSET, Frontalizer

SIGNATURES = ("serving_default", "frontalize_image", "frontal_float")
INFO_FILENAME = "tpgan_export.json"  # in <version>/assets.extra/ (ignored by TF Serving)
_VERSION_RE = re.compile(r"^\d+$")
# Signature name -> the Frontalizer method it runs.
_METHOD = {"serving_default": "frontalize_aligned", "frontalize_image": "frontalize_image",
           "frontal_float": "frontal_float"}


def existing_versions(model_base: str) -> list[int]:
    """Integer version directories under `<export_base>/<model_name>`, sorted."""
    if not os.path.isdir(model_base):
        return []
    return sorted(int(d) for d in os.listdir(model_base)
                  if _VERSION_RE.match(d) and os.path.isdir(os.path.join(model_base, d)))


def next_version(model_base: str) -> int:
    """1 + the largest existing version (1 for an empty or missing directory)."""
    versions = existing_versions(model_base)
    return versions[-1] + 1 if versions else 1


def latest_version_dir(path: str) -> str:
    """`path` if it is a SavedModel directory, else its highest integer version subdirectory.

    Lets users pass either `<base>/<model_name>` or `<base>/<model_name>/<version>`.
    FileNotFoundError names the path when neither holds a saved_model.pb.
    """
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = existing_versions(path)
    if versions:
        candidate = os.path.join(path, str(versions[-1]))
        if os.path.isfile(os.path.join(candidate, "saved_model.pb")):
            return candidate
    raise FileNotFoundError(f"{path}: no saved_model.pb here nor in an integer version "
                            f"subdirectory; export one with `python -m experiments.export`")


def build_archive(frontalizer: Frontalizer) -> keras.export.ExportArchive:
    """An ExportArchive holding the three signatures of the module doc."""
    archive = keras.export.ExportArchive()
    # No archive.track(generator): the endpoints' variables are tracked anyway, and track()
    # makes the save walk the Keras model, whose `_default_save_signature` property is a
    # fresh tf.function that the walk traces (one more full trace of G, for nothing: track
    # is only needed for lookup tables, and G has none).
    for name in SIGNATURES:  # serving_default first (ExportArchive's alias rule)
        method = _METHOD[name]
        spec = (Frontalizer.aligned_signature() if Frontalizer.ENDPOINTS[method] == "aligned"
                else Frontalizer.encoded_signature())
        archive.add_endpoint(name, _calling(frontalizer.traced(method), spec), spec)
    return archive


def _calling(traced_fn, spec: list):
    """A thin endpoint that calls the ConcreteFunction of `traced_fn` (the graph Python
    inference runs). ExportArchive and tf.saved_model.save each trace an endpoint again (the
    second time in the save context); retracing this wrapper only adds one call op, whereas
    retracing the Frontalizer method would trace G twice more (minutes at paper size)."""
    concrete = traced_fn.get_concrete_function(*spec)
    if spec[0].name == "image":
        def endpoint(image, landmarks):
            return concrete(image, landmarks)
    else:
        def endpoint(image_bytes, landmarks):
            return concrete(image_bytes, landmarks)
    return endpoint


def export_saved_model(model: Generator | Frontalizer, export_dir: str, *,
                       output_range: str = "minmax",
                       nose_offset: int = POSE_INDEPENDENT_NOSE_OFFSET,
                       config: Config | None = None, info: dict | None = None) -> str:
    """Writes the SavedModel of `model` to `export_dir` (must not exist yet).

    model: a Generator (wrapped in a Frontalizer with output_range and nose_offset), or a
        Frontalizer (its own settings are used; its traced functions are reused, so Python
        inference with it and the export share one trace).
    The directory is first written as `<export_dir>.tmp-<pid>` and renamed at the end.
    `assets.extra/tpgan_export.json` records the config and the export settings.
    Returns export_dir.
    """
    if os.path.exists(export_dir):
        raise FileExistsError(f"{export_dir}: already exists; choose another --version")
    if isinstance(model, Frontalizer):
        frontalizer = model
    else:
        frontalizer = Frontalizer(model, output_range=output_range, nose_offset=nose_offset)
    tmp = f"{export_dir}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(export_dir)), exist_ok=True)
    try:
        build_archive(frontalizer).write_out(tmp, verbose=False)
        meta = {"signatures": list(SIGNATURES), "output_range": frontalizer.output_range,
                "nose_offset": frontalizer.nose_offset,
                "z": "zeros (the mean of spec 2.5's N(0, 0.02^2))",
                "bn_mode": _bn_mode(frontalizer.generator),
                "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "tensorflow": tf.__version__, "keras": keras.__version__,
                "config": config.to_dict() if config is not None else None, **(info or {})}
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        with open(os.path.join(tmp, "assets.extra", INFO_FILENAME), "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
        os.replace(tmp, export_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return export_dir


def export_for_serving(model: Generator | Frontalizer, export_base: str,
                       model_name: str = "tpgan", version: int | None = None,
                       **kwargs) -> str:
    """export_saved_model into TF Serving's `<export_base>/<model_name>/<version>/`.

    version None = the next integer. kwargs go to export_saved_model. Returns the path.
    """
    if not model_name or "/" in model_name or model_name in (".", ".."):
        raise ValueError(f"model_name must be a plain directory name, got {model_name!r}")
    model_base = os.path.join(export_base, model_name)
    if version is None:
        version = next_version(model_base)
    if int(version) < 0:
        raise ValueError(f"version must be a non-negative integer, got {version}")
    return export_saved_model(model, os.path.join(model_base, str(int(version))), **kwargs)


def _bn_mode(generator: Generator) -> str:
    return generator.norm.get("bn_mode", "batch_stats")


def bn_batch_effect(frontalizer: Frontalizer, images: np.ndarray, landmarks: np.ndarray
                    ) -> dict:
    """Effect of the batch on one face's frontal (the BN mode's signature on serving).

    images uint8 [N, 128, 128, 3] (N >= 2), landmarks [N, 5, 2]. Face 0 alone (batch of one)
    vs face 0 inside the batch of all N. Returns {"batch", "mean_abs_float", "max_abs_float",
    "mean_abs_uint8"}: differences of G's float output and of the uint8 picture (grey levels).
    """
    if len(images) < 2:
        raise ValueError("bn_batch_effect needs at least 2 faces")
    alone = frontalizer.frontalize_float(images[:1], landmarks[:1])
    together = frontalizer.frontalize_float(images, landmarks)[:1]
    diff = np.abs(alone - together)
    to8 = lambda x: _to_uint8_np(x, frontalizer.output_range)  # noqa: E731
    diff8 = np.abs(to8(alone).astype(np.int32) - to8(together).astype(np.int32))
    return {"batch": int(len(images)), "mean_abs_float": float(diff.mean()),
            "max_abs_float": float(diff.max()), "mean_abs_uint8": float(diff8.mean())}


def _to_uint8_np(frontal_float, output_range: str) -> np.ndarray:
    from tpgan_tf.inference import to_uint8
    return to_uint8(tf.convert_to_tensor(frontal_float), output_range).numpy()
