"""The real-faces benchmark (benchmarks/fsrnet_real_faces.py) end to end on a tiny folder:
folder records of generated faces, the two runs (with the prior loss and without it) at a tiny
size for one iteration, minutes turned into iterations, the official evaluation of both on a
folder of test pairs, the table and the sheet; a second call keeps the records and resumes."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from benchmarks import fsrnet_real_faces as bench
from data_prep.synthetic.faces import face_record

# The `tiny` preset's sizes, on top of the `folder` preset.
TINY = ["model.width=0.0625", "model.hourglass_depth=1", "model.num_stacks=1",
        "train.batch_size=2", "train.log_every=1", "train.image_summary_every=1000"]


def _write(path, image):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.ascontiguousarray(image[:, :, ::-1]))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Training photos (three 128 x 128 synthetic faces MTCNN finds, a broken file) and two
    test pairs (HR 128 x 128, LR 16 x 16) of other faces."""
    root = tmp_path_factory.mktemp("bench")
    for identity in (2, 3, 5):
        _write(str(root / "train" / f"{identity}.png"), face_record(0, identity, 0).image)
    (root / "train" / "broken.jpg").write_bytes(b"not a jpeg")
    for identity in (0, 1):
        hr = face_record(7, identity, 0).image
        _write(str(root / "hr" / f"{identity}.png"), hr)
        _write(str(root / "lr" / f"{identity}.png"),
               cv2.resize(hr, (16, 16), interpolation=cv2.INTER_AREA))
    return {k: str(root / k) for k in ("train", "hr", "lr")}


@pytest.mark.slow  # two tiny FSRNet runs and three evaluations (~35-60 s)
def test_benchmark_trains_both_runs_evaluates_and_resumes(folders, tmp_path, monkeypatch):
    from tpgan_tf.models.fsrnet.crop_rule import measure_template

    out = str(tmp_path / "out")
    monkeypatch.setattr(bench, "seconds_per_iteration", lambda cfg, records, work_dir: 0.6)
    lines = []
    results = bench.run(folders["train"], folders["hr"], folders["lr"], out, minutes=0.01,
                        overrides=TINY, workers=1, show_progress=False, log=lines.append)
    assert "timing: 0.600 s per iteration -> 1 iterations in 0.01 minutes" in lines
    assert results["training_faces"] == 3
    records = os.path.join(out, "records")
    manifest = json.load(open(os.path.join(records, "manifest.json")))
    assert [os.path.basename(e["path"]) for e in manifest["skipped"]] == ["broken.jpg"]
    template = np.round(measure_template(records)["template"].reshape(-1), 2)
    for run, beta in (("priors", 1.0), ("no_priors", 0.0)):
        cfg = json.load(open(os.path.join(out, run, "config.json")))
        assert cfg["name"] == "folder" and cfg["loss"]["beta"] == beta
        assert cfg["train"]["num_iterations"] == 1 and cfg["model"]["width"] == 0.0625
        np.testing.assert_allclose(cfg["priors"]["crop_template"], template, atol=1e-9)
        assert os.path.exists(os.path.join(out, run, "checkpoint"))
    # the table holds the evaluations' numbers
    rows = {r["name"]: r for r in results["rows"]}
    assert list(rows) == ["priors", "no_priors"]
    markdown = open(os.path.join(out, "fsrnet_real_faces.md")).read()
    for run in rows:
        evaluated = json.load(open(os.path.join(out, f"eval_{run}", "results.json")))
        methods = evaluated["test_sets"]["helen50"]["methods"]
        assert rows[run]["psnr"] == methods["fsrnet"]["psnr"]
        assert results["bicubic"]["psnr"] == methods["bicubic"]["psnr"]
        assert rows[run]["iterations"] == 1
        assert (f"| {bench.RUN_LABELS[run]} | 3 real (train) | 1 |" in markdown)
        assert f"| {methods['fsrnet']['psnr']:.2f} | {methods['fsrnet']['ssim']:.4f} |" \
            in markdown
    assert f"| Bicubic | - | - | - | {results['bicubic']['psnr']:.2f} |" in markdown
    assert "(2 pairs)" in markdown
    assert results["sheet"] == os.path.join(out, "helen50_sheet.png")
    assert cv2.imread(results["sheet"]) is not None
    # again: the records are kept, the runs resumed to their own iterations (no timing)
    lines.clear()
    monkeypatch.setattr(bench, "seconds_per_iteration", None)  # must not be called
    again = bench.run(folders["train"], folders["hr"], folders["lr"], out, minutes=5,
                      overrides=TINY, runs=["no_priors"], workers=1, show_progress=False,
                      log=lines.append)
    assert f"records: kept {records}" in lines
    assert f"no_priors: resuming {os.path.join(out, 'no_priors')} to its 1 iterations" in lines
    assert [r["name"] for r in again["rows"]] == ["no_priors"]
    assert again["rows"][0]["psnr"] == rows["no_priors"]["psnr"]


def test_bad_folders_and_runs_are_user_errors(folders, tmp_path):
    with pytest.raises(FileNotFoundError, match="--test_lr_dir="):
        bench.run(folders["train"], folders["hr"], str(tmp_path / "none"), str(tmp_path))
    with pytest.raises(ValueError, match="unknown run 'gan'"):
        bench.run_config("gan", str(tmp_path), "template")
