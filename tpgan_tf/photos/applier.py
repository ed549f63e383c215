"""A model's part of the photo tool, and where its signatures come from.

`ModelSource` opens an export (TF Serving's SavedModel: what a user deploys) or a training
run (the same serving module's traced functions, in this process) and gives one way to call
any signature by name with numpy inputs, plus the export's `export_info` (the alignment
template, crop rule and sizes the model was trained with: the tool never asks the user for
numbers the model already knows).

`PhotoApplier` is the base of each model's `photos.py` (named by its Task's `photos`
attribute): how a face found in a photo is aligned as the model's training crops were made,
what the model makes of it, and what is written.
"""
from __future__ import annotations

import os
from typing import Mapping

import numpy as np


class ModelSource:
    """A model's signatures and export_info, from --saved_model or --model_dir.

    Args:
      saved_model: an export (`<base>/<name>` or one version directory).
      model_dir: a training run (config.json + checkpoints).
      overrides: config overrides for a run (e.g. model.bn_mode=inference).
      model: the model the caller expects (an error names a mismatch).
    """

    def __init__(self, saved_model: str | None = None, model_dir: str | None = None,
                 overrides=(), model: str | None = None):
        if bool(saved_model) == bool(model_dir):
            raise ValueError("give exactly one of --saved_model and --model_dir")
        if saved_model:
            self._open_export(saved_model)
        else:
            self._open_run(model_dir, list(overrides))
        if model and self.model != model:
            raise ValueError(f"{self.source} holds a {self.model!r} model, but --model={model}")

    def _open_export(self, path: str) -> None:
        if not os.path.exists(path):  # before importing TensorFlow (seconds)
            raise FileNotFoundError(f"{path}: no such export (a folder with saved_model.pb); "
                                    "export one with `python -m experiments.export`")
        import tensorflow as tf

        from tpgan_tf.serving.export import latest_version_dir, read_export_info

        self.source = latest_version_dir(path)
        self._loaded = tf.saved_model.load(self.source)  # keeps the variables alive
        self.info = read_export_info(self.source)
        if "model" not in self.info:
            raise ValueError(f"{self.source}: its export_info.json names no model; export it "
                             "again with `python -m experiments.export`")
        self.model = self.info["model"]
        self.signatures = set(self._loaded.signatures)
        self._call = lambda name, inputs: self._loaded.signatures[name](**inputs)

    def _open_run(self, model_dir: str, overrides: list[str]) -> None:
        from tpgan_tf.core.runner import load_trained

        task, cfg, _ = load_trained(model_dir, overrides=overrides)
        module = task.serving.for_task(task)
        self.source, self.model = model_dir, cfg.task
        self.info = {"model": cfg.task, "config": cfg.to_dict(), **module.export_info()}
        self.signatures = set(module.SIGNATURES)

        def call(name, inputs):
            method = module.SIGNATURES[name]
            return module.traced(method)(*[inputs[s.name] for s in module.spec(method)])
        self._call = call

    def __call__(self, signature: str, **inputs) -> dict[str, np.ndarray]:
        """Runs `signature` on numpy inputs (a batch each); returns numpy outputs."""
        import tensorflow as tf

        if signature not in self.signatures:
            raise ValueError(f"{self.source}: no {signature} signature (it has "
                             f"{sorted(self.signatures)})")
        out = self._call(signature, {k: tf.convert_to_tensor(v) for k, v in inputs.items()})
        return {k: v.numpy() for k, v in out.items()}


class SkipFace(Exception):
    """Raised by an applier for a face (or ready crop) it cannot use: the tool reports the
    message as the skip reason and goes on with the next photo."""


def check_crop_size(crop: np.ndarray, size: int, what: str) -> None:
    """--aligned: a ready crop must be size x size (what: the crop format, for the reason)."""
    if crop.shape[:2] != (size, size):
        raise SkipFace(f"--aligned takes {size}x{size} {what}, got "
                       f"{crop.shape[1]}x{crop.shape[0]}")


class PhotoApplier:
    """Base of a model's photo applier. A subclass says how a face is aligned and what the
    model makes of it; the tool (tool.py) does the rest.

    Outputs are dicts {name: value}: uint8 images become `<stem>_<name>.png`, encoded PNG
    bytes are written as they are, other arrays `<stem>_<name>.npy`.
    """

    # Smallest eye distance (photo pixels) of a face worth running: a model whose input is
    # small (super-resolution) asks for less than the detection default.
    min_eye_distance: float | None = None
    # The model-specific options (experiments.apply flags) this applier takes; any other
    # option given (not None / False) is refused with one error.
    OPTIONS: tuple[str, ...] = ()

    def __init__(self, model: ModelSource, options: Mapping | None = None):
        self.model, self.info = model, model.info
        self.options = dict(options or {})
        foreign = [f"--{name}" for name, value in self.options.items()
                   if name not in self.OPTIONS and value not in (None, False)]
        if foreign:
            own = ", ".join(f"--{name}" for name in self.OPTIONS) or "none"
            raise ValueError(f"{', '.join(foreign)}: not options of {model.model} (its own: "
                             f"{own})")
        self.aligned = False  # set by the tool for --aligned: the photos are ready crops

    def aligned_points(self) -> np.ndarray | None:
        """The five points of a ready crop in the model's crop format (`--aligned` without a
        landmark CSV: the template's), or None when the model takes no ready crops."""
        return None

    def face_outputs(self, photo: np.ndarray, photo_bytes: bytes, landmarks: np.ndarray
                     ) -> dict:
        """The outputs of one face: photo RGB uint8 [H, W, 3] (as displayed), its encoded
        bytes, the face's five points [5, 2] in photo pixels."""
        raise NotImplementedError

    def photo_outputs(self, photo: np.ndarray, faces: list) -> dict:
        """Outputs of the whole photo from its faces' outputs (a list of (FoundFace, face
        outputs)); default none (e.g. FSRNet pastes its faces back into the photo)."""
        return {}

    def finish(self, records: list[dict], output_dir: str, log) -> dict:
        """After the last photo: outputs about all faces of the run (e.g. DR-GAN's identity
        comparison); returns what to add to results.json (default nothing)."""
        return {}


def applier_for(model: ModelSource, options: Mapping | None = None) -> PhotoApplier:
    """The photo applier of the model an export or run holds (its Task's `photos`)."""
    from tpgan_tf.core.registry import get_model

    cls = getattr(get_model(model.model).task, "photos", None)
    if cls is None:
        raise ValueError(f"model {model.model!r} has no photo applier")
    return cls(model, options)
