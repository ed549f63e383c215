"""DR-GAN's evaluation: its own protocol (identification.py, drgan spec 5.1: counts per pose,
the gallery rule, rank-1 by hand), the 96 -> 128 frame mapping of TP-GAN's protocol
(frontal_protocol.py) and the whole evaluation on tiny records (evaluation.py, through
experiments.evaluate with the config's eval section)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.conftest import SESSIONS
from tpgan_tf.core.runner import load_trained
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.evaluation.recognition import FaceRecord
from tpgan_tf.models.drgan import frontal_protocol, identification, inputs


@pytest.fixture(scope="module")
def tiny(drgan_records):
    import keras

    keras.utils.set_random_seed(5)
    task, _, _ = load_trained(preset="tiny", task="drgan")
    return task


def test_counts_per_pose_and_the_gallery_rule(tiny, drgan_records):
    out, _ = drgan_records
    results, shown = identification.evaluate_identification(
        tiny.encoder, tiny.config, split_pattern(out, "test"), batch_size=7, keep_inputs=2)
    # Test subjects 3, 4 x 2 sessions x 5 cameras x illuminations 4 and 7.
    assert results["subjects"] == 2 and results["images"] == 2 * SESSIONS * 5 * 2
    assert results["probes"] == results["images"] - 2  # the two gallery images
    assert {p: v["images"] for p, v in results["poses"].items()} == {"0": 8, "15": 16,
                                                                      "60": 16}
    assert results["poses"]["0"]["probes"] == 6 and results["poses"]["60"]["probes"] == 16
    # Gallery: session 1, recording 1, frontal camera, flash 07 (not 04).
    assert [(g["subject"], g["session"], g["illumination"]) for g in results["gallery"]] == [
        (3, 1, 7), (4, 1, 7)]
    assert all(g["path"].endswith("_01_01_051_07.png") for g in results["gallery"])
    for v in results["poses"].values():
        assert 0 <= v["rank1_percent"]["drgan"] <= 100
    assert len(shown) == 2 and all(a.shape == (128, 128, 3) for a in shown.values())
    assert results["paper_rows"]["DR-GAN, CVPR 2017 single image"]["60"] == 83.2


def _record(subject, yaw, session=1, illumination=7):
    path = f"s{subject}_y{yaw}_{session}_{illumination}"
    return FaceRecord(subject, session, 1, illumination, yaw, path, path if yaw == 0 else "")


def test_rank1_by_hand():
    records = [_record(1, 0), _record(1, 0, session=2), _record(1, 30), _record(1, -30),
               _record(2, 0), _record(2, 30), _record(3, 30)]  # subject 3: no frontal
    f = np.eye(3)[[0, 0, 0, 1, 1, 1, 2]].astype(np.float32)  # probe 3 looks like subject 2
    out = identification.rank1(records, {"drgan": f})
    assert out["subjects"] == 2 and out["images_without_gallery"] == 1
    assert out["probes"] == 4  # 7 images - 1 without gallery - 2 gallery images
    assert out["poses"]["0"] == {"images": 3, "probes": 1, "rank1_percent": {"drgan": 100.0}}
    assert out["poses"]["30"]["probes"] == 3
    assert out["poses"]["30"]["rank1_percent"]["drgan"] == pytest.approx(200 / 3)
    assert out["rank1_percent_all_probes"]["drgan"] == pytest.approx(75.0)


def test_the_synthesis_goes_back_to_the_128_frame_where_its_window_came_from():
    rng = np.random.default_rng(0)
    aligned = rng.integers(0, 256, (1, 128, 128, 3)).astype(np.uint8)
    resized = inputs.resize(aligned, 110)
    window = inputs.centre_crop(resized, 96)
    back = frontal_protocol.to_aligned_frame(window, 110).numpy()
    reference = tf.image.resize(resized, [128, 128], method="bilinear").numpy()
    # Inside the window's footprint (away from its border) exactly the 110 image, resized.
    np.testing.assert_allclose(back[:, 10:118, 10:118], reference[:, 10:118, 10:118],
                               atol=1e-3)
    # The border replicates the window's own edge pixels (nothing from elsewhere).
    np.testing.assert_allclose(back[0, 0, 0], window.numpy()[0, 0, 0], atol=1e-3)
    np.testing.assert_allclose(back[0, 127, 127], window.numpy()[0, 95, 95], atol=1e-3)
    # The ground truth gets the same round trip: identical images give identical frames.
    trip = frontal_protocol.round_trip(aligned, 110, 96).numpy()
    np.testing.assert_allclose(trip, back / 256.0, atol=1e-6)


def test_evaluate_writes_both_protocols(drgan_records, drgan_pairs, tmp_path):
    from tpgan_tf.identity.lightcnn import build_lightcnn
    from tpgan_tf.identity.weights import save_h5_weights

    from experiments import evaluate
    from tpgan_tf.models.drgan.evaluation import DrganEvaluator

    weights = str(tmp_path / "lightcnn.h5")
    save_h5_weights(build_lightcnn(0.125), weights)
    out = str(tmp_path / "eval")
    evaluator, results, page = evaluate.evaluate_run(
        drgan_records[0], out, model="drgan", preset="tiny", allow_random_weights=True,
        overrides=[f"eval.pairs_dir={drgan_pairs}", f"eval.lightcnn_weights={weights}",
                   "eval.batch_size=8", "eval.sheet_rows=2"], show_progress=False)
    assert isinstance(evaluator, DrganEvaluator)
    assert (results["run"]["lightcnn_weights"], results["run"]["batch_size"]) == (weights, 8)
    assert page == os.path.join(out, "index.html") and os.path.exists(page)
    on_disk = json.load(open(os.path.join(out, "results.json")))
    assert on_disk["kind"] == "recognition" and set(on_disk["methods"]) == {"drgan",
                                                                          "lightcnn_raw"}
    [table] = on_disk["summary_tables"]
    assert table["header"] == ["Method", "0°", "±15°", "±60°", "all probes"]
    assert table["rows"][-1][0].endswith("(recalled, unverified)")
    assert os.path.exists(os.path.join(out, "pose_codes.png"))
    assert [p["path"] for p in on_disk["pictures"]] == ["pose_codes.png"]
    frontal = json.load(open(os.path.join(out, "frontal", "results.json")))
    assert frontal["kind"] == "frontalization" and frontal["method"] == "drgan"
    # Grouped with TP-GAN's results on the same pair records by the demo page.
    assert frontal["run"]["data"] == split_pattern(drgan_pairs, "test")
    assert frontal["pairs"] == 2 * SESSIONS * 5 * 2  # every test image has its pair
    for pose in frontal["poses"].values():
        assert 0 <= pose["ssim"]["drgan"] <= 1 and pose["l1"]["drgan"] > 0
    assert "frontal" in results["frontalization"]["page"]
    assert "rank-1" in evaluator.summary_text(results)
    assert results["methods"]["drgan"].endswith("(random weights)")  # no --model_dir


def test_eval_options_share_tpgans_fields():
    """eval.lightcnn_weights / eval.lightcnn_width mean the same for both models (same type
    and "not given" default); eval.pairs_dir is DR-GAN's own."""
    import dataclasses

    from tpgan_tf.core.config import EvalConfig, get_config

    def own(model):
        section = get_config("paper", model).eval
        common = {f.name for f in dataclasses.fields(EvalConfig)}
        return {f.name: (f.type, getattr(section, f.name))
                for f in dataclasses.fields(section) if f.name not in common}

    mine, theirs = own("drgan"), own("tpgan")
    assert set(mine) & set(theirs) == {"lightcnn_weights", "lightcnn_width"}
    for name in ("lightcnn_weights", "lightcnn_width"):
        assert mine[name] == theirs[name]
    assert mine["pairs_dir"] == ("str", "")
