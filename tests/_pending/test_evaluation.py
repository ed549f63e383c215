"""The spec 7.1 protocol (gallery / probes), the report layout, and experiments/evaluate end to end."""
import json
import os
import random

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf import evaluation
from tpgan_tf.evaluation import PairRecord

# ----------------------------------------------------------------------------- gallery rule


def _rec(subject, session, illumination, yaw=0, recording=1):
    return PairRecord(subject, session, recording, illumination, yaw,
                      frontal_path=f"{subject:03d}_{session:02d}_{recording:02d}_051_"
                                   f"{illumination:02d}.png")


HAND_MADE = [
    # subject 1: session 1 has no flash 07 -> its lowest illumination (03), not session 2's 07
    _rec(1, 2, 7), _rec(1, 1, 9, yaw=45), _rec(1, 1, 3, yaw=-30), _rec(1, 1, 9),
    # subject 2: session 1 has flash 07 -> it wins over the lower 05 and over session 3's 07
    _rec(2, 3, 7), _rec(2, 1, 5), _rec(2, 1, 7, yaw=15), _rec(2, 1, 7),
    # subject 3: the neutral recording 01 comes before recording 02, whatever the flash
    _rec(3, 1, 7, recording=2), _rec(3, 1, 12, yaw=90), _rec(3, 2, 7),
]


def test_gallery_rule_on_hand_made_records():
    want = {1: (1, 1, 1, 3), 2: (2, 1, 1, 7), 3: (3, 1, 1, 12)}
    for seed in range(5):  # the choice does not depend on the record order
        records = list(HAND_MADE)
        random.Random(seed).shuffle(records)
        gallery = evaluation.select_gallery(records)
        assert list(gallery) == [1, 2, 3]
        assert {s: e.frontal_key for s, e in gallery.items()} == want
    assert gallery[2].path == "002_01_01_051_07.png"


def test_probe_mask_excludes_only_the_gallery_images():
    gallery = evaluation.select_gallery(HAND_MADE)
    mask = evaluation.probe_mask(HAND_MADE, gallery)
    # Gallery images are 0-degree pairs whose frontal is the gallery frontal: subject 2's
    # (1, 1, 7) at yaw 0. Subject 1's gallery (1, 1, 3) only appears as a -30 profile's GT, and
    # subject 3's (1, 1, 12) only as a 90-degree profile's GT: those stay probes.
    excluded = [r for r, m in zip(HAND_MADE, mask) if not m]
    assert excluded == [_rec(2, 1, 7)]
    assert mask.sum() == len(HAND_MADE) - 1


def test_rank1_table_has_the_paper_layout():
    results = {"poses": {"15": {"rank1_percent": {"profile": 50.0, "tpgan": 75.0}},
                         "90": {"rank1_percent": {"profile": 0.0, "tpgan": 12.5}}}}
    header, rows = evaluation.rank1_table(results)
    assert header == ["Method", "±90°", "±75°", "±60°", "±45°", "±30°", "±15°"]
    assert rows[0] == ["Light-CNN (raw profiles)", "0.00", "–", "–", "–", "–", "50.00"]
    assert rows[1] == ["TP-GAN (ours)", "12.50", "–", "–", "–", "–", "75.00"]
    # spec 7.2 Setting 2, labelled as recalled
    assert rows[3][0].startswith("TP-GAN, paper") and "recalled" in rows[3][0]
    assert rows[3][1:] == ["64.03", "84.10", "92.93", "98.58", "99.85", "99.78"]


def test_results_json_is_strict():
    assert evaluation._jsonable({"a": float("inf"), "b": float("nan"), 3: np.float32(0.5),
                                 "c": [np.int64(2)]}) == {"a": "inf", "b": None, "3": 0.5,
                                                          "c": [2]}


# ----------------------------------------------------------------------------- end to end
SUBJECTS = 2  # all of them in the test split (--test_subjects_from=1)
ILLUMINATIONS = (7, 11)
# Every Table 1 column, with both signs at 15 degrees and negative yaws to un-mirror.
CAMERAS = ("05_1", "14_0", "05_0", "13_0", "19_0", "09_0", "01_0", "11_0")
BATCH = 6  # 32 pairs: the last batch is partial and gets padded


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    from data_prep import build_tfrecords, synthetic
    from experiments import evaluate
    from tpgan_tf import lightcnn

    work = tmp_path_factory.mktemp("eval")
    root, records, out = str(work / "multipie"), str(work / "records"), str(work / "out")
    synthetic.generate(root, SUBJECTS, illuminations=ILLUMINATIONS, image_size=(320, 240),
                       seed=3, workers=1, cameras=CAMERAS, progress=False)
    manifest = build_tfrecords.build(records, multipie_root=root, test_subjects_from=1,
                                     num_shards=2, workers=2, show_progress=False)
    weights = str(work / "lightcnn_tiny.h5")
    tf.keras.utils.set_random_seed(0)
    lightcnn.save_h5_weights(lightcnn.build_lightcnn(0.125), weights)
    results, page = evaluate.run(records, weights, out, config="tiny", batch_size=BATCH,
                                 show_progress=False)
    return results, page, out, records, manifest


def test_counts_per_pose_equal_the_manifest(evaluated):
    results, _, out, _, manifest = evaluated
    per_abs = {}
    for yaw, n in manifest["splits"]["test"]["per_yaw"].items():
        per_abs[abs(int(yaw))] = per_abs.get(abs(int(yaw)), 0) + n
    assert sorted(per_abs) == [0, 15, 30, 45, 60, 75, 90]
    with open(os.path.join(out, "results.json")) as f:
        saved = json.load(f)
    assert saved["run"]["lightcnn_width"] == 0.125  # read from the .h5
    assert sorted(int(p) for p in saved["poses"]) == sorted(per_abs)
    for pose, n in per_abs.items():
        entry = saved["poses"][str(pose)]
        assert entry["pairs"] == n
        # only the 0-degree pair that IS a gallery image (one per subject) is not a probe
        assert entry["probes"] == n - (SUBJECTS if pose == 0 else 0)
        for method in ("profile", "tpgan"):
            rank1 = entry["rank1_percent"][method]
            hits = rank1 * entry["probes"] / 100
            assert 0 <= rank1 <= 100 and abs(hits - round(hits)) < 1e-6
    assert per_abs[15] == 2 * SUBJECTS * len(ILLUMINATIONS)  # -15 and +15 pooled
    assert saved["pairs"] == sum(per_abs.values()) == len(CAMERAS) * SUBJECTS * len(ILLUMINATIONS)
    assert saved["subjects"] == SUBJECTS
    assert [(g["subject"], g["session"], g["illumination"]) for g in saved["gallery"]] == [
        (s, 1, 7) for s in range(1, SUBJECTS + 1)]  # flash 07 preferred over 11


def test_quality_of_the_trivial_baseline_at_zero_degrees(evaluated):
    results = evaluated[0]
    zero = results["poses"]["0"]
    # at 0 degrees the "profile" IS the frontal ground truth
    assert zero["l1"]["profile"] == 0.0 and zero["psnr"]["profile"] == float("inf")
    assert zero["ssim"]["profile"] == pytest.approx(1.0)
    ninety = results["poses"]["90"]
    assert ninety["l1"]["profile"] > 0.01 and np.isfinite(ninety["psnr"]["profile"])
    assert 0 < ninety["l1"]["tpgan"] < 1 and ninety["ssim"]["tpgan"] < 1


def _first_pair_at(records_dir, pose):
    """Profile and frontal (RGB uint8, as stored) of the first test pair at |yaw| = pose."""
    from tpgan_tf.input_pipeline import list_shards
    from tpgan_tf.tfrecord_schema import feature_spec
    for raw in tf.data.TFRecordDataset(list_shards(os.path.join(records_dir, "test-*.tfrecord"))):
        ex = tf.io.parse_single_example(raw, feature_spec())
        if abs(int(ex["yaw"])) == pose:
            return (int(ex["yaw"]), tf.io.decode_png(ex["profile/png"]).numpy(),
                    tf.io.decode_png(ex["frontal/png"]).numpy())
    raise AssertionError(f"no pair at {pose}")


def test_sheets_show_the_unmirrored_input_and_ground_truth(evaluated):
    _, page, out, records, _ = evaluated
    yaw, profile, frontal = _first_pair_at(records, 90)
    assert yaw == -90  # camera 11_0: mirrored by the pipeline, so it must be flipped back
    sheet = cv2.imread(os.path.join(out, "sheets", "yaw_90.png"))[:, :, ::-1]
    top, pad = 40 + 18, 6  # picture_sheet: header 40, caption 18, pad 6, 128 px cells
    np.testing.assert_array_equal(sheet[top:top + 128, pad:pad + 128], profile)
    x = pad + 2 * (128 + pad)
    np.testing.assert_array_equal(sheet[top:top + 128, x:x + 128], frontal)


def test_report_files(evaluated):
    results, page, out, _, _ = evaluated
    assert page == os.path.join(out, "index.html")
    for pose in results["poses"]:
        img = cv2.imread(os.path.join(out, "sheets", f"yaw_{int(pose):02d}.png"))
        assert img is not None and img.shape[1] == 3 * 128 + 4 * 6
        rows = min(6, results["poses"][pose]["pairs"])  # sheet_rows = 6 by default
        assert img.shape[0] == 40 + rows * (18 + 128 + 6) + 6
    plot = cv2.imread(os.path.join(out, "rank1_vs_yaw.png"))
    assert plot is not None and plot.shape == (480, 960, 3) and plot.std() > 10
    md = open(os.path.join(out, "results.md")).read()
    assert "| Method | ±90° | ±75° | ±60° | ±45° | ±30° | ±15° |" in md
    for line in md.splitlines():  # every table row has as many cells as its header
        if line.startswith("| Pose |"):
            n = line.count("|")
        elif line.startswith("| ±") or line.startswith("| 0°"):
            assert line.count("|") == n, line
    for label in ("Light-CNN (raw profiles)", "TP-GAN (ours)"):
        row = next(line for line in md.splitlines() if line.startswith(f"| {label} |"))
        cells = row.strip("|").split("|")[1:]
        assert len(cells) == 6 and all(float(c) >= 0 for c in cells)
    assert "recalled, unverified" in md
    page_html = open(page).read()
    for pose in results["poses"]:
        assert f"sheets/yaw_{int(pose):02d}.png" in page_html
    assert "rank1_vs_yaw.png" in page_html and "±90°" in page_html


def test_missing_lightcnn_weights_say_how_to_get_them(tmp_path):
    from experiments import evaluate
    with pytest.raises(ValueError, match="convert_lightcnn"):
        evaluate.load_lightcnn(None)
    with pytest.raises(FileNotFoundError, match="does not exist.*DeepFace168"):
        evaluate.load_lightcnn(str(tmp_path / "nope.h5"))
    with pytest.raises(FileNotFoundError, match="test-\\*.tfrecord"):
        evaluate.run(str(tmp_path), str(tmp_path / "nope.h5"), str(tmp_path / "out"),
                     config="tiny")
