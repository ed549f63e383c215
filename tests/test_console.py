"""tpgan_tf/console.py: a script prints none of TensorFlow's C++ start-up lines, unless the
user asks for them with TPGAN_TF_VERBOSE=1."""
from __future__ import annotations

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Lines of TensorFlow's C++ logging (I0000 ..., E0000 ...) and of absl's pre-init warning.
NOISE = re.compile(r"^(?:[IWE]\d{4} |WARNING: All log messages before absl)", re.M)


def _stderr(**env) -> str:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("TF_CPP_MIN_LOG_LEVEL", "TPGAN_TF_VERBOSE")}
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.model_summary", "--model=drgan", "--config=tiny"],
        cwd=REPO, capture_output=True, text=True, env={**environ, **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "total" in proc.stdout
    return proc.stderr


def test_scripts_keep_tensorflow_startup_lines_off_the_console():
    verbose = _stderr(TPGAN_TF_VERBOSE="1")
    if not NOISE.search(verbose):  # this TensorFlow build prints nothing to hide
        import pytest
        pytest.skip("TensorFlow printed no start-up lines here")
    quiet = _stderr()
    assert not NOISE.search(quiet), quiet
