"""experiments/train.py as a user runs it: the checks that happen before anything is built."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def _train(*args, cwd=REPO):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    return subprocess.run([sys.executable, "-m", "experiments.train", *args],
                          capture_output=True, text=True, env=env, timeout=300, cwd=cwd)


def test_train_script_refuses_to_start_without_identity_weights(tmp_path):
    proc = _train("--model=tpgan", "--config=tiny", f"--data_dir={tmp_path}",
                  f"--model_dir={tmp_path / 'run'}")
    assert proc.returncode == 1
    assert "experiments.pretrain_lightcnn" in proc.stderr
    assert not (tmp_path / "run").exists()  # nothing was built or written


def test_train_script_needs_a_model(tmp_path):
    proc = _train("--config=tiny", f"--data_dir={tmp_path}", f"--model_dir={tmp_path / 'run'}")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "error: --model is required (tpgan, drgan, " \
        "fsrnet, ...)"


def test_train_script_bad_override_is_one_error_line(tmp_path):
    proc = _train("--model=tpgan", "--config=tiny", "--override=train.nope=1",
                  f"--data_dir={tmp_path}", f"--model_dir={tmp_path / 'run'}")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: override 'train.nope=1'") and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()
