"""FSRNet's evaluation (tpgan_tf/models/fsrnet/evaluation.py, eval_data.py, report.py): bicubic
scoring of a tiny folder of pairs (16 x 16 PNG and 128 x 128 JPEG LR files) against sr_metrics
by hand, through FsrnetEvaluator with the config's eval section, unmatched and bad files
skipped and listed, the model on test records with the prior head's NME, and the results
files of the demo page."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO
from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.evaluation import sr_metrics
from tpgan_tf.models.fsrnet import degradation, eval_data, report
from tpgan_tf.models.fsrnet.evaluation import FsrnetEvaluator, evaluate
from tpgan_tf.models.fsrnet.task import FsrnetTask


def _pairs(root, rng):
    """HR 128 PNGs a, b, c; LR a as 16 x 16 PNG, b as a 128 x 128 JPEG (q75), c missing, an
    extra LR d; a wrong-size HR e. Returns (hr_dir, lr_dir, {stem: (hr, x) float})."""
    hr_dir, lr_dir = os.path.join(root, "hr"), os.path.join(root, "lr")
    os.makedirs(hr_dir), os.makedirs(lr_dir)
    expected = {}
    for stem in ("a", "b", "c"):
        hr = cv2.GaussianBlur(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), (9, 9), 3)
        cv2.imwrite(os.path.join(hr_dir, stem + ".png"), hr[:, :, ::-1])
        small = np.clip(np.round(degradation.bicubic_downsample(
            hr[None] / np.float32(255)).numpy()[0] * 255), 0, 255).astype(np.uint8)
        if stem == "a":
            cv2.imwrite(os.path.join(lr_dir, "a.png"), small[:, :, ::-1])
            x = np.clip(degradation.bicubic_upsample(small[None] / np.float32(255),
                                                     (128, 128)).numpy()[0], 0, 1)
        elif stem == "b":
            up = np.clip(np.round(degradation.degrade(hr[None] / np.float32(255)).numpy()[0]
                                  * 255), 0, 255).astype(np.uint8)
            cv2.imwrite(os.path.join(lr_dir, "b.jpg"), up[:, :, ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 75])
            data = open(os.path.join(lr_dir, "b.jpg"), "rb").read()
            x = tf.io.decode_jpeg(data, dct_method="INTEGER_ACCURATE").numpy() / np.float32(255)
        else:
            continue
        expected[stem] = (hr / np.float32(255), x)
    cv2.imwrite(os.path.join(lr_dir, "d.png"), np.zeros((16, 16, 3), np.uint8))
    cv2.imwrite(os.path.join(hr_dir, "e.png"), np.zeros((64, 64, 3), np.uint8))
    cv2.imwrite(os.path.join(lr_dir, "e.png"), np.zeros((16, 16, 3), np.uint8))
    return hr_dir, lr_dir, expected


def _evaluator(task, overrides) -> FsrnetEvaluator:
    """The task's evaluator reading the eval section of task.config + overrides (what
    experiments.evaluate builds from --override=eval.*), without rebuilding the task."""
    evaluator = FsrnetEvaluator(task)
    evaluator.config = apply_overrides(task.config, overrides)
    return evaluator


def test_bicubic_needs_no_trained_weights():
    cfg = get_config("tiny", "fsrnet")
    assert FsrnetTask.evaluator is FsrnetEvaluator
    assert FsrnetEvaluator.needs_trained_weights(cfg)
    assert not FsrnetEvaluator.needs_trained_weights(apply_overrides(cfg, ["eval.method=bicubic"]))


def test_bicubic_scoring_of_a_folder_of_pairs(fsrnet_inference, tmp_path):
    task, _ = fsrnet_inference
    hr_dir, lr_dir, expected = _pairs(str(tmp_path), np.random.default_rng(0))
    evaluator = _evaluator(task, [f"eval.hr_dir={hr_dir}", f"eval.lr_dir={lr_dir}",
                                  "eval.method=bicubic", "eval.test_set=tiny_pairs"])
    results, page = evaluator.evaluate(None, str(tmp_path / "out"), show_progress=False)
    summary = results["test_sets"]["tiny_pairs"]
    assert summary["examples"] == 2 and list(summary["methods"]) == ["bicubic"]
    hr = np.stack([expected[s][0] for s in ("a", "b")])
    x = np.stack([expected[s][1] for s in ("a", "b")])
    psnr, ssim = sr_metrics.y_psnr(x, hr), sr_metrics.y_ssim(x, hr)
    assert summary["methods"]["bicubic"]["psnr"] == pytest.approx(psnr.mean(), abs=1e-9)
    assert summary["methods"]["bicubic"]["ssim"] == pytest.approx(ssim.mean(), abs=1e-9)
    assert 15 < psnr.min() and psnr.max() < 48.13
    reasons = {os.path.basename(s["path"]): s["reason"] for s in results["skipped"]}
    assert reasons == {"c.png": "no LR file of this name in eval.lr_dir",
                       "d.png": "no HR file of this name in eval.hr_dir",
                       "e.png": "HR is 64x64, expected 128x128"}
    # the files: results.json (with the demo page's summary table), CSV, sheet, page
    out = tmp_path / "out"
    saved = json.loads((out / "results.json").read_text())
    assert saved["kind"] == "super_resolution" and saved["run"]["network"].startswith("none")
    [table] = saved["summary_tables"]
    assert table["header"] == ["method", "Y-PSNR (dB)", "SSIM (Y)"]
    assert table["rows"] == [["Bicubic", f"{psnr.mean():.2f}", f"{ssim.mean():.4f}"]]
    rows = (out / "per_image.csv").read_text().splitlines()
    assert rows[0] == "name,bicubic_psnr,bicubic_ssim" and rows[1].startswith("a,")
    assert os.path.exists(out / "sheets" / "tiny_pairs.png") and page.endswith("index.html")
    assert saved["pictures"] == [{"path": os.path.join("sheets", "tiny_pairs.png"),
                                  "caption": "tiny_pairs: bicubic | HR"}]
    md = (out / "results.md").read_text()
    assert "Bicubic (computed here)" in md and "quoted by cs-giung" in md


def test_model_on_test_records_with_landmark_nme(fsrnet_inference, fsrnet_records, tmp_path):
    task, resolver = fsrnet_inference
    results, _ = evaluate(task, fsrnet_records, str(tmp_path), batch_size=2, show_progress=False)
    summary = results["test_sets"][os.path.basename(fsrnet_records)]
    assert summary["examples"] == 3 and list(summary["methods"]) == ["bicubic", "fsrnet"]
    base = os.path.basename(fsrnet_records)
    assert summary["description"] == f"the test split of the face records of {base}/"
    batches = list(eval_data.record_batches(os.path.join(fsrnet_records, "test-*.tfrecord"),
                                            task.config, 3))
    [batch] = batches
    sr = np.clip(resolver.generate(batch["x"])["sr"].numpy(), 0, 1)
    assert summary["methods"]["fsrnet"]["psnr"] == pytest.approx(
        sr_metrics.y_psnr(sr, batch["hr"]).mean(), abs=1e-6)
    assert summary["methods"]["bicubic"]["psnr"] == pytest.approx(
        sr_metrics.y_psnr(batch["x"], batch["hr"]).mean(), abs=1e-9)
    assert summary["nme"] > 0  # random weights: some error
    assert "prior-head landmark NME" in report.summary_text(results)
    assert FsrnetEvaluator.summary_text(results) == report.summary_text(results)
    header, rows = report.paper_layout_table(results)
    assert header[-2:] == [f"{os.path.basename(fsrnet_records)} PSNR",
                           f"{os.path.basename(fsrnet_records)} SSIM"]
    assert rows[-1][0] == "FSRNet (ours)"


def test_input_errors_name_the_problem(fsrnet_inference, tmp_path):
    task, _ = fsrnet_inference
    with pytest.raises(ValueError, match="give both eval.hr_dir and eval.lr_dir"):
        evaluate(task, None, str(tmp_path), hr_dir=str(tmp_path))
    with pytest.raises(ValueError, match="needs --data_dir"):
        evaluate(task, None, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="eval.hr_dir='/nope': not a folder"):
        evaluate(task, None, str(tmp_path), hr_dir="/nope", lr_dir="/nope")


@pytest.mark.slow
def test_bicubic_needs_no_run_or_preset_on_the_command_line(tmp_path):
    hr_dir, lr_dir, _ = _pairs(str(tmp_path), np.random.default_rng(1))
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.evaluate", "--model=fsrnet",
         "--override=eval.method=bicubic", f"--override=eval.hr_dir={hr_dir}",
         f"--override=eval.lr_dir={lr_dir}", f"--output_dir={tmp_path / 'out'}"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "hr: Bicubic  Y-PSNR" in proc.stdout and "results page:" in proc.stdout


def test_records_of_another_landmark_count_bicubic_only(fsrnet_inference, tmp_path):
    from tests.models.fsrnet.conftest import write_face_records

    task, _ = fsrnet_inference
    five = apply_overrides(get_config("tiny", "fsrnet"), ["priors.num_landmarks=5",
                                                          "priors.landmark_scheme=celeba5"])
    write_face_records(str(tmp_path / "test-00000-of-00001.tfrecord"), five, 2)
    with pytest.raises(ValueError, match="hold 5 landmarks .* predicts 68"):
        evaluate(task, str(tmp_path), str(tmp_path / "out"), show_progress=False)
    results, _ = evaluate(task, str(tmp_path), str(tmp_path / "out"), method="bicubic",
                          show_progress=False)
    assert results["test_sets"][tmp_path.name]["examples"] == 2


def test_every_column_of_the_paper_layout_names_its_test_set(tmp_path):
    """The release's last 1,000 CelebA faces get their own column, never the paper's CelebA
    column (images 18,001-18,100): the two test sets differ (fsrnet spec 8.2)."""
    name = "celeba_val_1000_HR"
    results = {"test_sets": {name: {
        "examples": 1000, "description": eval_data.describe_folders(f"/data/{name}/"),
        "methods": {"bicubic": {"psnr": 23.53, "ssim": 0.6319}}}}}
    header, rows = report.paper_layout_table(results)
    assert header == ["Method", "CelebA 18,001-18,100 PSNR", "CelebA 18,001-18,100 SSIM",
                      "Helen, RE-SFMNet split PSNR", "Helen, RE-SFMNet split SSIM",
                      "CelebA, RE-SFMNet split PSNR", "CelebA, RE-SFMNet split SSIM",
                      f"{name} PSNR", f"{name} SSIM"]
    by_label = {row[0]: row[1:] for row in rows}
    assert by_label["Bicubic, paper (quoted by cs-giung)"] == [
        "23.75", "0.6423", "–", "–", "–", "–", "–", "–"]
    assert by_label["Bicubic (computed here)"] == ["–"] * 6 + ["23.53", "0.6319"]
    columns = report.set_columns(results)
    assert list(columns)[-1] == name
    assert columns[name].startswith("the FSRNet release's CelebA validation set: the last 1,000")
    assert "NOT the paper's 18,001-18,100" in columns[name]
    assert columns[name].endswith("; 1000 faces evaluated here")
    assert "images 18,001-18,100" in columns["CelebA 18,001-18,100"]


def test_records_test_sets_are_described_from_their_manifest(tmp_path):
    assert eval_data.describe_records(str(tmp_path)) == (
        f"the test split of the face records of {tmp_path.name}/")
    for split, expected in (("paper", "CelebA images 18,001-18,100 (the paper's split"),
                            ("release", "CelebA's last 1,000 images (the release's split, NOT")):
        (tmp_path / "manifest.json").write_text(json.dumps(
            {"settings": {"source": "celeba", "celeba_split": split}}))
        assert eval_data.describe_records(str(tmp_path)).startswith(expected)
    assert eval_data.describe_records(str(tmp_path), "train") == (
        f"the train split of the celeba records of {tmp_path.name}/")
    assert eval_data.describe_folders("/x/helen_val_50_HR").startswith(
        "the FSRNet release's 50 Helen test faces")
    assert eval_data.describe_folders("/x/my_pairs/") == "image pairs of my_pairs/"
