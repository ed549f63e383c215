"""Flags and error handling shared by the experiment scripts (thin absl front ends).

Every model option is a config field (tpgan_tf/core/config.py): a script's model-specific
settings come from the preset or the run's config.json plus `--override=section.field=value`;
the few generic flags below are shorthands for overrides (`--weights=lightcnn=PATH` is
`--override=weights.lightcnn=PATH`). No script defines a flag of one model, so `--help`
imports no model.
"""
from __future__ import annotations

import os
import sys

from absl import flags

FLAGS = flags.FLAGS
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, KeyError)


def define_model_flags() -> None:
    """--model, --config, --override, --weights (every script that builds a model)."""
    flags.DEFINE_string("model", None, "Registered model: tpgan, drgan or fsrnet. Required "
                        "unless --model_dir names a trained run (its config says the model).")
    flags.DEFINE_string("config", None, "Config preset of the model (paper, demo, tiny, ...).")
    flags.DEFINE_multi_string("override", [], "section.field=value, e.g. train.batch_size=4 "
                              "or runtime.jit_compile=true (repeatable).")
    flags.DEFINE_multi_string("weights", [], "NAME=PATH: a weight file the model reads, the "
                              "same as --override=weights.NAME=PATH (e.g. lightcnn=lc.h5).")


def define_detection_flags() -> None:
    """--min_confidence, --min_eye_distance: the thresholds of faces found by MTCNN
    (experiments.apply, experiments.serving_client --detect); None = the defaults of
    tpgan_tf.faces.detection, or the model's photo applier's where it sets one."""
    from tpgan_tf.faces import detection  # numpy only: --help stays light

    flags.DEFINE_float("min_confidence", None, "Detected faces only: skip faces with a lower "
                       f"MTCNN confidence (default {detection.MIN_CONFIDENCE:g}, "
                       "tpgan_tf.faces.detection.MIN_CONFIDENCE).")
    flags.DEFINE_float("min_eye_distance", None, "Detected faces only: skip faces whose eyes "
                       f"are closer than this, in pixels (default {detection.MIN_EYE_DISTANCE:g}"
                       ", tpgan_tf.faces.detection.MIN_EYE_DISTANCE; experiments.apply: the "
                       "model's own where it sets one).")


def overrides(extra: dict | None = None) -> list[str]:
    """The run's overrides: --override, then --weights as weights.NAME=PATH, then `extra`
    {section.field: value} for the generic flags that were given (None values skipped)."""
    out = list(FLAGS.override)
    for item in FLAGS.weights:
        if "=" not in item:
            raise ValueError(f"--weights={item!r}: expected NAME=PATH, e.g. lightcnn=lc.h5")
        out.append(f"weights.{item}")
    out += [f"{k}={v}" for k, v in (extra or {}).items() if v is not None]
    return out


def fail(err: BaseException, code: int = 1) -> None:
    """One `error: ...` line on stderr and a non-zero exit, instead of a traceback."""
    message = str(err).strip() or type(err).__name__
    if isinstance(err, KeyError) and err.args:
        message = str(err.args[0])
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


class SignatureModel:
    """One serving signature of a model, from an exported SavedModel or a training checkpoint,
    for the scripts that apply a model to files (frontalize, super_resolve).

    Subclasses name the SIGNATURE and the TASK it belongs to and say in `traced(task)` which
    traced function of a checkpoint-restored task serves it.
    """

    SIGNATURE = ""
    TASK = ""

    def __init__(self, saved_model: str | None = None, model_dir: str | None = None,
                 overrides: list[str] | None = None):
        if bool(saved_model) == bool(model_dir):
            raise ValueError("give exactly one of --saved_model and --model_dir")
        if saved_model:
            if not os.path.exists(saved_model):  # before importing TensorFlow (seconds)
                raise FileNotFoundError(f"{saved_model}: no saved_model.pb here (no such "
                                        "folder); export one with `python -m experiments.export`")
            import tensorflow as tf

            from tpgan_tf.serving.export import latest_version_dir

            self.source = latest_version_dir(saved_model)
            self._loaded = tf.saved_model.load(self.source)  # keeps the variables alive
            if self.SIGNATURE not in self._loaded.signatures:
                raise ValueError(f"{self.source}: no {self.SIGNATURE} signature (a {self.TASK} "
                                 f"export has one; this one has "
                                 f"{sorted(self._loaded.signatures)})")
            self._fn = self._loaded.signatures[self.SIGNATURE]
        else:
            from tpgan_tf.core.runner import load_trained

            task, _, _ = load_trained(model_dir, overrides=list(overrides or []), task=self.TASK)
            self.source = model_dir
            self._fn = self.traced(task)

    def traced(self, task):
        """The traced function of a restored `task` that serves SIGNATURE."""
        raise NotImplementedError

    @classmethod
    def from_function(cls, fn, source: str = "function"):
        """Wraps an already loaded SIGNATURE function (signature or tf.function)."""
        model = cls.__new__(cls)
        model._fn, model.source = fn, source
        return model
