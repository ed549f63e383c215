"""Learning-curve numbers and files: each model's headline numbers (Evaluator.headlines) read
off hand-made results dicts, and the table / JSON / plot writer
(tpgan_tf/evaluation/learning_curves.py) on hand-made points."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from tpgan_tf.evaluation import frontalization as fr
from tpgan_tf.evaluation.evaluator import Headline
from tpgan_tf.evaluation.learning_curves import CurvePoint, table, write_curves


def _frontal(method: str) -> dict:
    q = lambda a, b: {"profile": a, method: b}  # noqa: E731
    return {"method": method, "poses": {
        "0": {"pairs": 4, "rank1_percent": q(100.0, 100.0), "psnr": q(40.0, 30.0)},
        "15": {"pairs": 2, "rank1_percent": q(50.0, 75.0), "psnr": q(10.0, 20.0)},
        "45": {"pairs": 6, "rank1_percent": q(25.0, None), "psnr": q(14.0, 12.0)}}}


def test_frontalization_headlines_by_hand():
    got = fr.headlines(_frontal("tpgan"))
    assert [h.name for h in got] == ["rank-1 (%) ±15°", "rank-1 (%) ±45°", "PSNR (dB) yaw ≠ 0°"]
    assert [(h.value, h.baseline) for h in got[:2]] == [(75.0, 50.0), (None, 25.0)]
    # PSNR over the 8 pairs with |yaw| > 0: (2 x 20 + 6 x 12) / 8 and (2 x 10 + 6 x 14) / 8
    assert (got[2].value, got[2].baseline) == (14.0, 13.0)
    assert {h.baseline_label for h in got} == {"raw profile"}
    assert fr.headlines(_frontal("x"), prefix="frontal ")[0].name == "frontal rank-1 (%) ±15°"
    # with the face colour error: pooled over the same pairs, lower is better
    results = _frontal("tpgan")
    for pose, (profile, ours) in {"0": (0.0, 0.5), "15": (0.1, 0.02), "45": (0.3, 0.06)}.items():
        results["poses"][pose]["colour"] = {"profile": profile, "tpgan": ours}
    colour = fr.headlines(results)[-1]
    assert colour.name == "face colour error yaw ≠ 0°" and not colour.higher_is_better
    # (2 x 0.02 + 6 x 0.06) / 8 and (2 x 0.1 + 6 x 0.3) / 8
    assert (colour.value, colour.baseline) == (pytest.approx(0.05), pytest.approx(0.25))
    _, rows = table([CurvePoint(0, 0.0, 0.0, [colour])])
    assert rows == [["baseline: raw profile", "–", "–", "0.2500"], ["0", "0.0", "0.0", "0.0500"]]


def test_tpgan_and_drgan_headlines_by_hand():
    from tpgan_tf.models.drgan.evaluation import DrganEvaluator
    from tpgan_tf.models.tpgan.evaluation import TpganEvaluator

    assert TpganEvaluator.headlines(_frontal("tpgan")) == fr.headlines(_frontal("tpgan"))
    drgan = {"poses": {"0": {"rank1_percent": {"drgan": 100.0}},
                       "30": {"rank1_percent": {"drgan": 40.0, "lightcnn_raw": 60.0}},
                       "15": {"rank1_percent": {"drgan": 50.0}}}}
    got = DrganEvaluator.headlines(drgan)  # no frontal protocol, no Light-CNN at ±15
    assert got == [Headline("f(x) rank-1 (%)", "±15°", 50.0, None, "Light-CNN, raw image"),
                   Headline("f(x) rank-1 (%)", "±30°", 40.0, 60.0, "Light-CNN, raw image")]
    drgan["frontalization"] = _frontal("drgan")
    got = DrganEvaluator.headlines(drgan)
    assert got[2:] == fr.headlines(_frontal("drgan"), prefix="frontal ")


def test_fsrnet_headlines_by_hand():
    from tpgan_tf.models.fsrnet.evaluation import FsrnetEvaluator

    results = {"test_sets": {"synth": {
        "methods": {"bicubic": {"psnr": 25.0, "ssim": 0.7},
                    "fsrnet": {"psnr": 26.5, "ssim": 0.75}}, "nme": 0.05}}}
    assert FsrnetEvaluator.headlines(results) == [
        Headline("Y-PSNR (dB)", "synth", 26.5, 25.0, "bicubic"),
        Headline("SSIM", "synth", 0.75, 0.7, "bicubic"),
        Headline("NME", "synth", 0.05, None, "", higher_is_better=False)]
    bicubic_alone = {"test_sets": {"h": {"methods": {"bicubic": {"psnr": 23.7, "ssim": 0.6}}}}}
    assert [(h.value, h.baseline) for h in FsrnetEvaluator.headlines(bicubic_alone)] == [
        (None, 23.7), (None, 0.6)]


def _points():
    psnr = lambda v: Headline("Y-PSNR (dB)", "synth", v, 25.0, "bicubic")  # noqa: E731
    nme = lambda v: Headline("NME", "synth", v, higher_is_better=False)  # noqa: E731
    return [CurvePoint(0, 0.0, 30.0, [psnr(20.0), nme(0.5)], "eval_0"),
            CurvePoint(100, 90.0, 150.0, [psnr(26.0), nme(0.0525)], "eval_100"),
            CurvePoint(250, 240.0, 330.0, [psnr(None), nme(0.04)], "eval_250")]


def test_table_by_hand():
    header, rows = table(_points())
    assert header == ["iteration", "training (min)", "elapsed (min)", "Y-PSNR (dB) synth",
                      "NME synth"]
    assert rows == [["baseline: bicubic", "–", "–", "25.00", "–"],
                    ["0", "0.0", "0.5", "20.00", "0.5000"],
                    ["100", "1.5", "2.5", "26.00", "0.0525"],
                    ["250", "4.0", "5.5", "–", "0.0400"]]


def test_points_read_back_from_curves_json():
    from tpgan_tf.evaluation.learning_curves import as_dict, points_from_dict

    data = as_dict(_points(), "t", {})
    back = points_from_dict(json.loads(json.dumps(data)))
    assert as_dict(back, "t", {}) == data
    assert back[1].headlines[0] == Headline("Y-PSNR (dB)", "synth", 26.0, 25.0, "bicubic")
    assert (back[2].iteration, back[2].train_seconds, back[2].eval_dir) == (250, 240.0,
                                                                            "eval_250")


def test_write_curves_files(tmp_path):
    paths = write_curves(str(tmp_path), _points(), title="fsrnet `demo` learning curve",
                         info={"cpu": "test CPU"})
    data = json.loads(open(paths["data"]).read())
    assert [r["iteration"] for r in data["rows"]] == [0, 100, 250]
    assert [r["train_seconds"] for r in data["rows"]] == [0.0, 90.0, 240.0]
    assert data["rows"][1]["values"] == {"Y-PSNR (dB) synth": 26.0, "NME synth": 0.0525}
    assert data["rows"][2]["values"]["Y-PSNR (dB) synth"] is None
    assert [(c["name"], c["baseline"], c["higher_is_better"]) for c in data["columns"]] == [
        ("Y-PSNR (dB) synth", 25.0, True), ("NME synth", None, False)]
    md = open(paths["table"]).read()
    assert md.startswith("# fsrnet `demo` learning curve\n\n- cpu: `test CPU`\n")
    assert "| 100 | 1.5 | 2.5 | 26.00 | 0.0525 |" in md and "![learning curves](curves.png)" in md
    image = cv2.imread(paths["plot"])
    # two panels side by side (10.4 x 8 inches at 100 dpi, cropped to the contents), drawn
    assert image is not None and 700 < image.shape[0] < 820 and 800 < image.shape[1] < 1100
    assert image.std() > 10
    blue = np.all(np.abs(image.astype(int) - (180, 119, 31)) < 30, axis=-1)  # the first line
    assert blue.sum() > 500
    with pytest.raises(ValueError, match="no evaluation"):
        write_curves(str(tmp_path), [], title="t")
