"""User errors end scripts with one `error: ...` line naming the file and the problem and a
non-zero exit, never a traceback (issue 10, point 5). Each case runs the script as a user
would, in a subprocess; they run two at a time."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cases(tmp):
    """[(name, argv after `python -m`, exit code, text the error line must contain)]."""
    root = tmp / "multipie"
    (root / "data" / "session01" / "multiview").mkdir(parents=True)
    bad_csv = tmp / "other_header.csv"
    bad_csv.write_text("image,lx,ly\na.png,1,2\n")
    a_file = tmp / "a_file"
    a_file.write_text("")
    return [
        ("csv header", ["data_prep.build_tfrecords", f"--multipie_root={root}",
                        f"--landmarks={bad_csv}", f"--output_dir={tmp / 'records'}"], 1,
         f"{bad_csv}:1: header must be path,x0,y0,x1,y1,x2,y2,x3,y3,x4,y4, got image,lx,ly"),
        ("missing csv", ["experiments.frontalize", f"--input={tmp}",
                         f"--landmarks={tmp / 'none.csv'}", f"--saved_model={tmp}",
                         f"--output_dir={tmp / 'out'}"], 2,
         f"{tmp / 'none.csv'}: no such landmark CSV"),
        ("bad flag value", ["experiments.frontalize", f"--input={tmp}", "--detect",
                            "--min_confidence=2", f"--saved_model={tmp}",
                            f"--output_dir={tmp / 'out'}"], 2,
         "--min_confidence must be in [0, 1], got 2.0"),
        ("missing photo", ["experiments.serving_client", f"--image={tmp / 'none.jpg'}",
                           "--landmarks=1,2,3,4,5,6,7,8,9,10", "--server=127.0.0.1:9"], 1,
         f"{tmp / 'none.jpg'}: no such image file"),
        ("unknown preset", ["experiments.export", "--model=tpgan", "--config=nosuch",
                            f"--export_base={tmp / 'export'}"], 1,
         "unknown config preset 'nosuch'"),
        ("unwritable output", ["data_prep.synthetic", f"--output_dir={a_file / 'x'}",
                               "--num_subjects=1"], 1, f"{a_file / 'x'}"),
        ("bad value", ["experiments.run_demo", f"--workdir={tmp / 'demo'}", "--subjects=0",
                       "--data_only"], 1, "num_subjects=0: must be 1..999"),
    ]


def test_one_error_line_and_exit_code(tmp_path):
    env = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cases = _cases(tmp_path)
    results = {}
    for start in range(0, len(cases), 2):  # two at a time: the machine has 2 cores
        procs = [(name, code, text, subprocess.Popen(
            [sys.executable, "-m", *argv], cwd=REPO, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            for name, argv, code, text in cases[start:start + 2]]
        for name, code, text, proc in procs:
            out, err = proc.communicate(timeout=300)
            results[name] = (code, text, proc.returncode, err)
    for name, (code, text, returncode, err) in results.items():
        assert "Traceback" not in err, (name, err[-3000:])
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, (name, err[-3000:])
        assert text in errors[0], (name, errors[0])
        assert err.rstrip().endswith(errors[0]), (name, err[-1000:])
        assert returncode == code, (name, returncode, err[-1000:])


@pytest.mark.parametrize("module", ["experiments.frontalize", "experiments.serving_client"])
def test_missing_required_flag_is_one_line(module):
    """No flag-help dump: the missing flag is named on one `error:` line."""
    proc = subprocess.run([sys.executable, "-m", module], cwd=REPO, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] in ("error: --input is required",
                                                    "error: --image is required")
