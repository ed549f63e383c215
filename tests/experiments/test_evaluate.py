"""experiments/evaluate.py: a learned model is never scored with randomly initialised weights by
accident. Without --model_dir every model (tpgan, drgan, fsrnet) stops with one `error:` line
before building anything; --allow_random_weights lets it run and the model's rows then say
"random weights"; FSRNet's eval.method=bicubic needs no network."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from experiments import evaluate
from tests.conftest import REPO
from tpgan_tf.evaluation import report

SMALL = ("--override=model.hourglass_depth=1", "--override=model.num_stacks=1")


def _start(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    return subprocess.Popen([sys.executable, "-m", "experiments.evaluate", *args], cwd=REPO,
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_every_model_without_a_run_stops_with_one_error_line(tmp_path):
    done = {}
    for models in (("tpgan", "drgan"), ("fsrnet",)):  # two at a time (2 cores)
        procs = {m: _start(f"--model={m}", f"--data_dir={tmp_path}",
                           f"--output_dir={tmp_path / m}") for m in models}
        for model, proc in procs.items():
            _, err = proc.communicate(timeout=300)
            done[model] = (proc.returncode, err)
    for model, (code, err) in done.items():
        assert code == 1 and "Traceback" not in err, (model, err[-2000:])
        lines = [line for line in err.splitlines() if line.startswith("error: ")]
        assert lines == [err.strip().splitlines()[-1]], (model, err[-2000:])
        assert lines[0].startswith(f"error: --model={model} without --model_dir would score "
                                   "randomly initialised weights")
        assert "--allow_random_weights" in lines[0]
        assert not (tmp_path / model).exists()  # nothing evaluated, nothing written


def test_the_rule_is_shared():
    from tpgan_tf.core.config import get_config

    for model in ("tpgan", "drgan", "fsrnet"):
        cfg = get_config("paper", model)
        with pytest.raises(ValueError, match=f"--model={model} without --model_dir"):
            evaluate.check_weights(cfg, None, False)
        evaluate.check_weights(cfg, "runs/x", False)  # a trained run
        evaluate.check_weights(cfg, None, True)  # explicitly allowed


def test_fsrnet_bicubic_needs_no_weights():
    from tpgan_tf.core.config import apply_overrides, get_config

    cfg = get_config("paper", "fsrnet")
    evaluate.check_weights(apply_overrides(cfg, ["eval.method=bicubic"]), None, False)
    with pytest.raises(ValueError, match="--model=fsrnet"):
        evaluate.check_weights(apply_overrides(cfg, ["eval.method=fsrnet"]), None, False)


def test_random_weights_label_of_every_models_rows():
    random = {"random_weights": True}
    assert report.weights_label("TP-GAN (ours)", random) == "TP-GAN (ours, random weights)"
    assert report.weights_label("FSRNet", random) == "FSRNet (random weights)"
    assert report.weights_label("FSRNet", {"model_dir": "runs/x"}) == "FSRNet"
    assert report.weights_label("FSRNet", None) == "FSRNet"
    drgan = {"method": "drgan", "method_label": "DR-GAN f(x), cosine",
             "methods": {"drgan": "DR-GAN f(x), cosine", "lightcnn": "Light-CNN"}}
    report.mark_weights(drgan, random)
    assert drgan["method_label"] == "DR-GAN f(x), cosine (random weights)"
    assert drgan["methods"] == {"drgan": "DR-GAN f(x), cosine (random weights)",
                                "lightcnn": "Light-CNN"}
    tpgan = {"method": "tpgan", "method_label": "TP-GAN (ours)"}
    report.mark_weights(tpgan, {})
    assert tpgan == {"method": "tpgan", "method_label": "TP-GAN (ours)"}


def test_fsrnet_with_allow_random_weights_says_so_in_its_rows(tmp_path):
    from tests.models.fsrnet.conftest import write_face_records
    from tpgan_tf.core.config import get_config

    write_face_records(str(tmp_path / "test-00000-of-00001.tfrecord"),
                       get_config("tiny", "fsrnet"), 2)
    proc = _start("--model=fsrnet", "--config=tiny", *SMALL, "--allow_random_weights",
                  f"--data_dir={tmp_path}", f"--output_dir={tmp_path / 'out'}",
                  "--override=eval.test_set=tiny")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert "tiny: FSRNet (random weights) Y-PSNR" in out
    md = (tmp_path / "out" / "results.md").read_text()
    labels = {line.split("|")[1].strip() for line in md.splitlines() if line.startswith("| ")}
    ours = {label for label in labels if label == "FSRNet" or label.startswith("FSRNet (")}
    assert ours == {"FSRNet (ours, random weights)", "FSRNet (random weights)"}
    assert {"Bicubic (computed here)", "Bicubic"} <= labels  # no network: unmarked
