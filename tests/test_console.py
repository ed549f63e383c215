"""tpgan_tf/console.py: a script prints none of TensorFlow's C++ start-up lines, nor oneDNN's
run-time int32 line, unless the user asks for them with TPGAN_TF_VERBOSE=1."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Lines of TensorFlow's C++ logging (I0000 ..., E0000 ...) and of absl's pre-init warning.
NOISE = re.compile(r"^(?:[IWE]\d{4} |WARNING: All log messages before absl)", re.M)


def _run(command, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("TF_CPP_MIN_LOG_LEVEL", "TPGAN_TF_VERBOSE")}
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                          env={**environ, **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _stderr(**env) -> str:
    proc = _run([sys.executable, "-m", "experiments.model_summary", "--model=drgan",
                 "--config=tiny"], **env)
    assert "total" in proc.stdout
    return proc.stderr


def test_scripts_keep_tensorflow_startup_lines_off_the_console():
    verbose = _stderr(TPGAN_TF_VERBOSE="1")
    if not NOISE.search(verbose):  # this TensorFlow build prints nothing to hide
        pytest.skip("TensorFlow printed no start-up lines here")
    quiet = _stderr()
    assert not NOISE.search(quiet), quiet


# What the training steps do that makes oneDNN log "supports DT_INT32 only on platforms with
# AVX-512" once per process: an int32 transpose inside a tf.function.
INT32_TRANSPOSE = ("import experiments, tensorflow as tf; "
                   "print(tf.function(lambda x: tf.transpose(x))(tf.ones([2, 3], tf.int32)).shape)")


def test_the_onednn_int32_line_stays_off_the_console():
    verbose = _run([sys.executable, "-c", INT32_TRANSPOSE], TPGAN_TF_VERBOSE="1")
    if "DT_INT32" not in verbose.stderr:  # this CPU / build does not print it
        pytest.skip("oneDNN printed no DT_INT32 line here")
    quiet = _run([sys.executable, "-c", INT32_TRANSPOSE])
    assert "(3, 2)" in quiet.stdout and not NOISE.search(quiet.stderr), quiet.stderr


# absl's app.run raises the verbosity to INFO unless --verbosity is given (TensorFlow's Python
# side logs through absl: a line per checkpoint save); the scripts keep WARNING.
ABSL_INFO = ("import experiments\nfrom absl import app, logging\n"
             "app.run(lambda argv: logging.info('an absl INFO line'))")


def test_absl_info_lines_only_with_verbosity():
    assert "an absl INFO line" not in _run([sys.executable, "-c", ABSL_INFO]).stderr
    shown = _run([sys.executable, "-c", ABSL_INFO, "--verbosity=0"]).stderr
    assert "an absl INFO line" in shown
