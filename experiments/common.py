"""Flags and error handling shared by the experiment scripts (thin absl front ends)."""
from __future__ import annotations

import sys

from absl import flags

FLAGS = flags.FLAGS
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, KeyError)


def define_model_flags(model_default: str | None = "tpgan") -> None:
    """--model, --config, --override (every script)."""
    flags.DEFINE_string("model", model_default, "Registered model: tpgan, drgan or fsrnet"
                        + (" (default: the run's own, else tpgan)." if model_default is None
                           else "."))
    flags.DEFINE_string("config", None, "Config preset of the model (paper, demo, tiny, ...).")
    flags.DEFINE_multi_string("override", [], "section.field=value, e.g. train.batch_size=4 "
                              "or runtime.jit_compile=true (repeatable).")


def fail(err: BaseException, code: int = 1) -> None:
    """One `error: ...` line on stderr and a non-zero exit, instead of a traceback."""
    message = str(err).strip() or type(err).__name__
    if isinstance(err, KeyError) and err.args:
        message = str(err.args[0])
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)
