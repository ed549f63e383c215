"""benchmarks/learning_curves.py on the tiny FSRNet (one hourglass of depth 1) and a few random
face records: two evaluations of two checkpoints (iterations 0 and 2) by the model's own
protocol, the table and plot written from them, the time budget stopping a run, and the
chunk plan by hand."""
from __future__ import annotations

import json
import os

import cv2
import pytest

from benchmarks.learning_curves import chunk_plan, run
from tests.models.fsrnet.conftest import SMALL_OVERRIDES


def test_chunk_plan_by_hand():
    # every 100 iterations: up to the next multiple (the config's count at most), by budget
    assert chunk_plan(0, 1000, 0.0, 600.0, 100, None) == (100, 600.0)
    assert chunk_plan(250, 1000, 50.0, 600.0, 100, None) == (300, 600.0)
    assert chunk_plan(950, 1000, 50.0, 600.0, 100, None) == (1000, 600.0)
    # every 60 s of training: up to the count, stopped 60 s on (the budget at most)
    assert chunk_plan(7, 1000, 100.0, 600.0, None, 60.0) == (1000, 160.0)
    assert chunk_plan(7, 1000, 570.0, 600.0, None, 60.0) == (1000, 600.0)


def test_two_evaluations_of_a_tiny_fsrnet_make_the_table_and_plot(fsrnet_records, tmp_path):
    out = str(tmp_path / "curves")
    overrides = [*SMALL_OVERRIDES, "train.num_iterations=2", "eval.test_set=held_out"]
    result = run("fsrnet", "tiny", overrides, fsrnet_records, out, 10.0, eval_every=2,
                 log=lambda s: None)
    assert result["stopped"] == "train.num_iterations (2) reached"
    with open(os.path.join(out, "curves.json")) as f:
        curves = json.load(f)
    rows = curves["rows"]
    assert [r["iteration"] for r in rows] == [0, 2]
    assert rows[0]["train_seconds"] == 0 < rows[1]["train_seconds"]
    assert rows[0]["elapsed_seconds"] < rows[1]["elapsed_seconds"]
    names = [c["name"] for c in curves["columns"]]
    assert names == ["Y-PSNR (dB) held_out", "SSIM held_out", "NME held_out"]
    # Each row holds the numbers of its own checkpoint's evaluation (eval_<iteration>/).
    for row in rows:
        with open(os.path.join(out, row["eval_dir"], "results.json")) as f:
            results = json.load(f)
        assert results["run"]["checkpoint"].endswith(f"ckpt-{row['iteration']}")
        scores = results["test_sets"]["held_out"]
        assert row["values"] == {"Y-PSNR (dB) held_out": scores["methods"]["fsrnet"]["psnr"],
                                 "SSIM held_out": scores["methods"]["fsrnet"]["ssim"],
                                 "NME held_out": scores["nme"]}
        bicubic = scores["methods"]["bicubic"]["psnr"]
    assert rows[0]["values"]["NME held_out"] != rows[1]["values"]["NME held_out"]  # trained
    assert curves["columns"][0]["baseline"] == bicubic
    assert curves["columns"][0]["baseline_label"] == "bicubic"
    table = open(os.path.join(out, "curves.md")).read()
    lines = [ln for ln in table.splitlines() if ln.startswith("| ")]
    assert lines[0].startswith("| iteration | training (min) | elapsed (min) | Y-PSNR (dB)")
    assert lines[1].startswith(f"| baseline: bicubic | – | – | {bicubic:.2f} |")
    assert [ln.split("|")[1].strip() for ln in lines[2:]] == ["0", "2"]
    image = cv2.imread(os.path.join(out, "curves.png"))
    assert image is not None and image.shape[0] > 400 and image.shape[1] > 1000
    assert image.std() > 10
    # A curve starts from the initial weights: the same output folder again is refused...
    with pytest.raises(FileExistsError, match="already holds a training run"):
        run("fsrnet", "tiny", overrides, fsrnet_records, out, 10.0, eval_every=2)
    # ... unless it is extended: the run resumes at iteration 2, the old points stay
    longer = [*SMALL_OVERRIDES, "train.num_iterations=4", "eval.test_set=held_out"]
    result = run("fsrnet", "tiny", longer, fsrnet_records, out, 10.0, eval_every=2,
                 extend=True, log=lambda s: None)
    with open(os.path.join(out, "curves.json")) as f:
        extended = json.load(f)
    assert [r["iteration"] for r in extended["rows"]] == [0, 2, 4]
    assert extended["rows"][:2] == rows
    assert rows[1]["train_seconds"] < extended["rows"][2]["train_seconds"]
    assert rows[1]["elapsed_seconds"] < extended["rows"][2]["elapsed_seconds"]
    assert extended["info"]["extended"].startswith("from iteration 2 (")
    assert [p.iteration for p in result["points"]] == [0, 2, 4]


class FakeClock:
    """Seconds that advance by `step` at every reading (the script's clock only; the loop
    keeps its own)."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.slow  # a tiny FSRNet run evaluated twice (~25-45 s)
def test_the_time_budget_stops_training_and_the_last_checkpoint_is_evaluated(
        fsrnet_records, tmp_path):
    """Budget 30 s, evaluations every 15 s, a clock that moves 10 s per reading: the chunk's
    first stop check reads 10 s (< 15: one iteration), the second 20 s (stop); the chunk took
    30 s in all, the whole budget, so the run ends there with iteration 1 evaluated."""
    out = str(tmp_path / "curves")
    result = run("fsrnet", "tiny", [*SMALL_OVERRIDES, "train.num_iterations=50"],
                 fsrnet_records, out, 0.5, eval_every_minutes=0.25, eval_at_start=False,
                 log=lambda s: None, clock=FakeClock(10.0))
    assert result["stopped"] == "time budget (0.5 min) reached"
    assert [(p.iteration, p.train_seconds) for p in result["points"]] == [(1, 30.0)]
    assert os.path.exists(os.path.join(out, "train", "ckpt-1.index"))


def test_bad_flags_are_refused_before_anything_is_built(tmp_path):
    with pytest.raises(ValueError, match="not both"):
        run("fsrnet", "tiny", [], str(tmp_path), str(tmp_path), 1.0, eval_every=5,
            eval_every_minutes=1.0)
    with pytest.raises(ValueError, match="--minutes must be > 0"):
        run("fsrnet", "tiny", [], str(tmp_path), str(tmp_path), 0.0)
    with pytest.raises(FileNotFoundError, match="holds no curve to continue"):
        run("fsrnet", "tiny", [], str(tmp_path), str(tmp_path), 1.0, extend=True)
