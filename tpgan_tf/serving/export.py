"""SavedModel export for TF Serving, for any model (its serving module, serving/module.py).

Layout: `<export_base>/<model_name>/<version>/` (saved_model.pb, variables/, assets.extra/),
the directory TF Serving's `--model_base_path=<export_base>/<model_name>` polls. The version
directory is written under a temporary name and renamed when complete, so a running server
never loads a half-written version. `assets.extra/export_info.json` (ignored by TF Serving)
records the signatures, the config, the task's own export settings and the versions used.

Why keras.export.ExportArchive: a plain tf.saved_model.save of a Keras 3 model writes
signatures that TF Serving's session-based loader cannot run; ExportArchive writes concrete
functions over tf.Variables that tf.compat.v1.saved_model.loader.load (what TF Serving uses)
accepts. `session_loader_check` proves an export with that loader in a fresh process.
"""
from __future__ import annotations

import datetime
import inspect
import json
import os
import re
import shutil
import subprocess
import sys

import keras
import tensorflow as tf

from tpgan_tf.core import files

INFO_FILENAME = "export_info.json"  # in <version>/assets.extra/ (ignored by TF Serving)
_VERSION_RE = re.compile(r"^\d+$")


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


def read_export_info(version_dir: str) -> dict:
    """The assets.extra JSON an export wrote ({} if absent)."""
    path = os.path.join(version_dir, "assets.extra", INFO_FILENAME)
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _calling(traced_fn, spec: list):
    """A thin endpoint with one parameter per input (named as the TensorSpecs, which become
    the signature's input names) that calls the ConcreteFunction of `traced_fn`.

    ExportArchive and tf.saved_model.save each trace an endpoint again (the second time in
    the save context); retracing this wrapper only adds one call op, whereas retracing the
    model's own function would trace the network twice more (minutes at full size)."""
    concrete = traced_fn.get_concrete_function(*spec)
    names = [s.name for s in spec]

    def endpoint(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        return concrete(*(bound.arguments[n] for n in names))

    signature = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                   for n in names])
    endpoint.__signature__ = signature
    return endpoint


def build_archive(endpoints: dict) -> keras.export.ExportArchive:
    """An ExportArchive of {signature name: (traced function, input specs)}.

    No archive.track(model): the endpoints' variables are tracked anyway, and track() makes
    the save walk the Keras model, whose `_default_save_signature` property is a fresh
    tf.function that the walk traces (one more full trace, for nothing: track is only needed
    for lookup tables, and our networks have none)."""
    if not endpoints:
        raise ValueError("no endpoints to export")
    archive = keras.export.ExportArchive()
    for name, (fn, spec) in endpoints.items():  # serving_default first (the alias rule)
        archive.add_endpoint(name, _calling(fn, spec), spec)
    return archive


def export_saved_model(endpoints: dict, export_dir: str, info: dict | None = None) -> str:
    """Writes the SavedModel of `endpoints` ({signature: (traced fn, specs)}) to `export_dir`
    (which must not exist yet), atomically, with assets.extra/export_info.json holding
    `info` and the versions. Returns export_dir."""
    if os.path.exists(export_dir):
        raise FileExistsError(f"{export_dir}: already exists; choose another --version")
    os.makedirs(os.path.dirname(os.path.abspath(export_dir)), exist_ok=True)
    tmp = f"{export_dir}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        build_archive(endpoints).write_out(tmp, verbose=False)
        meta = {"signatures": list(endpoints),
                "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "tensorflow": tf.__version__, "keras": keras.__version__, **(info or {})}
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        files.write_json_atomic(os.path.join(tmp, "assets.extra", INFO_FILENAME), meta,
                                indent=2)
        files.publish_dir(tmp, export_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return export_dir


def export_for_serving(endpoints: dict, export_base: str, model_name: str,
                       version: int | None = None, info: dict | None = None) -> str:
    """export_saved_model into TF Serving's `<export_base>/<model_name>/<version>/`
    (version None = the next integer). Returns the version directory."""
    if not model_name or "/" in model_name or model_name in (".", ".."):
        raise ValueError(f"model_name must be a plain directory name, got {model_name!r}")
    model_base = os.path.join(export_base, model_name)
    if version is None:
        version = next_version(model_base)
    if int(version) < 0:
        raise ValueError(f"version must be a non-negative integer, got {version}")
    return export_saved_model(endpoints, os.path.join(model_base, str(int(version))), info)


def export_task(task, export_base: str, model_name: str | None = None,
                version: int | None = None, info: dict | None = None) -> str:
    """Exports a task built for inference through its serving module (task.serving), with
    its config and the module's export_info in export_info.json. Returns the version
    directory."""
    if task.serving is None:
        raise ValueError(f"model {task.config.task!r} has no serving module")
    module = task.serving.for_task(task)
    meta = {"model": task.config.task, "config": task.config.to_dict(),
            **module.export_info(), **(info or {})}
    return export_for_serving(module.endpoints(), export_base,
                              model_name or task.config.task, version, meta)


# The child of session_loader_check: only TensorFlow, as TF Serving has. Loads the export
# with the TF1 session loader and runs one signature on the given numpy inputs.
_CHILD = r"""
import json, sys
import numpy as np
import tensorflow as tf
export_dir, signature, inputs_path, out_path = sys.argv[1:5]
inputs = dict(np.load(inputs_path, allow_pickle=True))  # our own file
with tf.compat.v1.Session(graph=tf.Graph()) as sess:
    meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], export_dir)
    sig = meta.signature_def[signature]
    feed = {sig.inputs[k].name: v for k, v in inputs.items()}
    names = sorted(sig.outputs)
    values = sess.run([sig.outputs[k].name for k in names], feed_dict=feed)
np.savez(out_path, **dict(zip(names, values)))
print(json.dumps({"signatures": sorted(k for k in meta.signature_def if not k.startswith("__"))}))
"""


def session_loader_check(export_dir: str, signature: str, inputs: dict, workdir: str,
                         timeout: float = 600) -> tuple[dict, list]:
    """Loads `export_dir` with tf.compat.v1.saved_model.loader.load (TF Serving's loader) in a
    fresh Python process that imports only TensorFlow, runs `signature` on `inputs`
    ({input name: numpy array}) and returns ({output name: numpy array}, signature names).
    RuntimeError carries the child's stderr when loading or running fails."""
    import numpy as np

    os.makedirs(workdir, exist_ok=True)
    inputs_path = os.path.join(workdir, "inputs.npz")
    out_path = os.path.join(workdir, "outputs.npz")
    np.savez(inputs_path, **inputs)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", _CHILD, export_dir, signature, inputs_path,
                           out_path], capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{export_dir}: the session loader failed:\n{proc.stderr[-3000:]}")
    signatures = json.loads(proc.stdout.strip().splitlines()[-1])["signatures"]
    with np.load(out_path, allow_pickle=True) as data:
        return {k: data[k] for k in data.files}, signatures
