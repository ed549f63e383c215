"""Tests of data_prep/synthetic/cli.py: `python -m data_prep.synthetic` writes and summarises."""
from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_cli_writes_and_summarises(tmp_path):
    cmd = [sys.executable, "-m", "data_prep.synthetic", f"--output_dir={tmp_path}",
           "--num_subjects=1", "--illuminations=07", "--cameras=05_1,24_0",
           "--image_width=96", "--image_height=72", "--workers=1", "--seed=5"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert re.search(r"wrote 2 images .* images/s", run.stdout)
    assert (tmp_path / "data/session01/multiview/001/01/24_0/001_01_01_240_07.png").is_file()
