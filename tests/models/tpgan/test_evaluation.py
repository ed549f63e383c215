"""TP-GAN's evaluation by the spec 7.1 protocol (tpgan_tf/models/tpgan/evaluation.py) end to
end through experiments/evaluate.run: counts per pose against the manifest, the trivial
baseline, the unmirrored sheets, the report files. (The protocol's pieces are tested in
tests/evaluation/.)"""
import json
import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.data.pair_records import feature_spec
from tpgan_tf.data.pipeline import list_shards
from tpgan_tf.evaluation import sheets
from tpgan_tf.evaluation.frontalization_report import sheet_name
from tpgan_tf.models.tpgan import evaluation as tpgan_evaluation

SUBJECTS = 2  # all of them in the test split (--test_subjects_from=1)
ILLUMINATIONS = (7, 11)
# Every Table 1 column, with both signs at 15 degrees and negative yaws to un-mirror.
CAMERAS = ("05_1", "14_0", "05_0", "13_0", "19_0", "09_0", "01_0", "11_0")
BATCH = 6  # 32 pairs: the last batch is partial and gets padded


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    from data_prep import build_tfrecords, synthetic
    from experiments import evaluate
    from tpgan_tf.identity.lightcnn import build_lightcnn
    from tpgan_tf.identity.weights import save_h5_weights

    work = tmp_path_factory.mktemp("eval")
    root, records, out = str(work / "multipie"), str(work / "records"), str(work / "out")
    synthetic.generate(root, SUBJECTS, illuminations=ILLUMINATIONS, image_size=(320, 240),
                       seed=3, workers=1, cameras=CAMERAS, progress=False)
    manifest = build_tfrecords.build(records, multipie_root=root, test_subjects_from=1,
                                     num_shards=2, workers=2, show_progress=False)
    weights = str(work / "lightcnn_tiny.h5")
    tf.keras.utils.set_random_seed(0)
    save_h5_weights(build_lightcnn(0.125), weights)
    results, page = evaluate.run(
        records, out, preset="tiny", model="tpgan", allow_random_weights=True,
        overrides=[f"eval.lightcnn_weights={weights}", f"eval.batch_size={BATCH}"],
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
    assert zero["ssim"]["profile"] == pytest.approx(1.0) and zero["colour"]["profile"] == 0.0
    ninety = results["poses"]["90"]
    assert ninety["colour"]["profile"] > 0.001 and ninety["colour"]["tpgan"] > 0.001
    assert ninety["l1"]["profile"] > 0.01 and np.isfinite(ninety["psnr"]["profile"])
    assert 0 < ninety["l1"]["tpgan"] < 1 and ninety["ssim"]["tpgan"] < 1


def _pairs_at(records_dir, pose):
    """[(yaw, profile, frontal)] (RGB uint8, as stored) of the test pairs at |yaw| = pose."""
    out = []
    for raw in tf.data.TFRecordDataset(list_shards(os.path.join(records_dir, "test-*.tfrecord"))):
        ex = tf.io.parse_single_example(raw, feature_spec())
        if abs(int(ex["yaw"])) == pose:
            out.append((int(ex["yaw"]), tf.io.decode_png(ex["profile/png"]).numpy(),
                        tf.io.decode_png(ex["frontal/png"]).numpy()))
    assert out, f"no pair at {pose}"
    return out


def test_sheets_show_the_unmirrored_input_and_ground_truth(evaluated):
    _, page, out, records, _ = evaluated
    sheet = cv2.imread(os.path.join(out, "sheets", "yaw_90.png"))[:, :, ::-1]
    top, pad = 40 + 18, 6  # picture_sheet: header 40, caption 18, pad 6, 128 px cells
    shown_input = sheet[top:top + 128, pad:pad + 128]
    x = pad + 2 * (128 + pad)
    shown_truth = sheet[top:top + 128, x:x + 128]
    # The test order is shuffled (batch-statistics BN): find the pair the first row shows.
    matches = [(yaw, frontal) for yaw, profile, frontal in _pairs_at(records, 90)
               if np.array_equal(profile, shown_input)]
    assert len(matches) == 1
    yaw, frontal = matches[0]
    assert yaw == -90  # camera 11_0: mirrored by the pipeline, so it must be flipped back
    np.testing.assert_array_equal(shown_truth, frontal)


def test_report_files(evaluated):
    results, page, out, _, _ = evaluated
    assert page == os.path.join(out, "index.html")
    for pose in results["poses"]:
        img = cv2.imread(os.path.join(out, sheet_name(int(pose))))
        # picture_sheet: 3 columns of 128 px with 4 gaps of 6, or wider when the title
        # (8 px per character + 2 pads) needs it.
        title = f"|yaw| = {pose} deg: input | TP-GAN (ours, random weights) | ground truth"
        assert img is not None and img.shape[1] == max(3 * 128 + 4 * 6, sheets.text_width(title) + 12)
        rows = min(6, results["poses"][pose]["pairs"])  # sheet_rows = 6 by default
        assert img.shape[0] == 40 + rows * (18 + 128 + 6) + 6
    plot = cv2.imread(os.path.join(out, "rank1_vs_yaw.png"))
    # matplotlib, 9.6 x 4.8 in at 100 dpi cropped to its contents: the legend beside the axes
    # makes it wider than 960 px (the old OpenCV chart was exactly 960 x 480 and cut it off).
    assert plot is not None and plot.shape[2] == 3 and plot.std() > 10
    assert 300 < plot.shape[0] <= 520 and plot.shape[1] > 960
    md = open(os.path.join(out, "results.md")).read()
    assert "| Method | ±90° | ±75° | ±60° | ±45° | ±30° | ±15° |" in md
    for line in md.splitlines():  # every table row has as many cells as its header
        if line.startswith("| Pose |"):
            n = line.count("|")
        elif line.startswith("| ±") or line.startswith("| 0°"):
            assert line.count("|") == n, line
    for label in ("Light-CNN (raw profiles)", "TP-GAN (ours, random weights)"):
        row = next(line for line in md.splitlines() if line.startswith(f"| {label} |"))
        cells = row.strip("|").split("|")[1:]
        assert len(cells) == 6 and all(float(c) >= 0 for c in cells)
    assert "recalled, unverified" in md
    page_html = open(page).read()
    for pose in results["poses"]:
        assert f"sheets/yaw_{int(pose):02d}.png" in page_html
    assert "rank1_vs_yaw.png" in page_html and "±90°" in page_html


def test_missing_records_and_weights_say_how_to_get_them(tmp_path):
    """(The load_lightcnn part of this test is in tests/identity/test_weights.py.)"""
    from experiments import evaluate
    with pytest.raises(FileNotFoundError, match="test-\\*.tfrecord"):
        evaluate.run(str(tmp_path), str(tmp_path / "out"), preset="tiny", model="tpgan",
                     allow_random_weights=True,
                     overrides=[f"eval.lightcnn_weights={tmp_path / 'nope.h5'}"])
    with pytest.raises(ValueError, match="set eval.lightcnn_weights"):
        evaluate.run(str(tmp_path), str(tmp_path / "out"), preset="tiny", model="tpgan",
                     allow_random_weights=True)
    with pytest.raises(ValueError, match="--output_dir is required"):
        evaluate.run(str(tmp_path), preset="tiny", model="tpgan")


def test_pad_to_repeats_a_partial_batch_cyclically():
    batch = {"yaw": tf.constant([15, -30, 45]), "image": tf.reshape(tf.range(3.0), [3, 1])}
    padded = tpgan_evaluation.pad_to(batch, ("yaw", "image"), 7)
    np.testing.assert_array_equal(padded["yaw"].numpy(), [15, -30, 45, 15, -30, 45, 15])
    np.testing.assert_array_equal(padded["image"].numpy()[:, 0], [0, 1, 2, 0, 1, 2, 0])


def test_batch_stats_generators_are_evaluated_on_shuffled_batches(evaluated, monkeypatch):
    """With batch-statistics BN G's output depends on its batch; the records are written
    subject by subject, so the protocol shuffles them (fixed seed) to give mixed batches like
    training's; with inference BN the records' order is kept."""
    results = evaluated[0]
    assert results["run"]["test_order"] == "shuffled (seed 2017; batch-statistics BN)"
    from tpgan_tf.core import runner

    seen = {}

    def fake_run_protocol(*args, **kwargs):
        seen["shuffle_seed"] = kwargs["shuffle_seed"]
        raise StopIteration  # enough: only the argument is checked

    monkeypatch.setattr(tpgan_evaluation, "run_protocol", fake_run_protocol)
    records = evaluated[3]
    weights = os.path.join(os.path.dirname(records), "lightcnn_tiny.h5")  # the fixture's
    for bn_mode, expected in (("batch_stats", 5), ("inference", None)):
        task, _, _ = runner.load_trained(preset="tiny", task="tpgan",
                                         overrides=[f"model.bn_mode={bn_mode}"])
        with pytest.raises(StopIteration):
            tpgan_evaluation.evaluate(task, records, str(evaluated[2]) + "_x",
                                      lightcnn_weights=weights, z_seed=5, show_progress=False)
        assert seen.pop("shuffle_seed") == expected


def test_results_carry_the_recalled_paper_rows(evaluated):
    results, _, out, _, _ = evaluated
    assert results["paper_rows"] == tpgan_evaluation.PAPER_SETTING2
    assert "recalled, not verified" in results["paper_note"]
    saved = json.load(open(os.path.join(out, "results.json")))
    assert saved["method"] == "tpgan" and saved["method_label"] == "TP-GAN (ours, random weights)"
    assert saved["run"]["config"] == "tiny" and saved["run"]["batch_size"] == BATCH


def test_demo_page_shows_each_models_pictures_before_its_tables(evaluated, tmp_path):
    """The combined page of `make demo` (experiments/demo/page.py): the sheets a results.json
    names come before the numbers, the committed learning curves are copied next to the page
    (a model without one is named), for a frontalization model and for any other kind."""
    import json
    import shutil

    from experiments.demo import page as demo_page

    results, _, out, _, _ = evaluated
    assert [p["path"] for p in results["pictures"]] == ["sheets/yaw_45.png", "sheets/yaw_90.png"]
    workdir = tmp_path / "demo"
    shutil.copytree(out, workdir / "tpgan" / "results")
    other = workdir / "other" / "results"
    other.mkdir(parents=True)
    (other / "sheet.png").write_bytes(b"png")
    (other / "results.json").write_text(json.dumps({
        "kind": "super_resolution", "pictures": [{"path": "sheet.png", "caption": "LR | SR"}],
        "summary_tables": [{"title": "Other: PSNR", "header": ["method", "dB"],
                            "rows": [["bicubic", "20.00"]], "note": "a note"}]}))
    curves = tmp_path / "curves"
    curves.mkdir()
    (curves / "tpgan_learning_curves.png").write_bytes(b"png")
    (curves / "tpgan_learning_curves.md").write_text(
        "# curve\n\n- cpu: `Some CPU (avx2)`\n- stopped: `time budget`\n")
    index = demo_page.build(str(workdir), {"tpgan": str(workdir / "tpgan"),
                                           "other": str(workdir / "other")}, {"all": 1.0},
                            curves_dir=str(curves))
    assert index == str(workdir / "index.html")
    md = (workdir / "index.md").read_text().splitlines()

    def line_of(text):
        return next(i for i, line in enumerate(md) if text in line)

    assert line_of("(tpgan/results/sheets/yaw_45.png)") < line_of("| Method | ±90°")
    assert line_of("(tpgan/results/sheets/yaw_90.png)") < line_of("| Method | ±90°")
    assert line_of("| Pose | pairs | L1 TP-GAN") > line_of("| Method | ±90°")
    assert line_of("## Other: PSNR") < line_of("(other/results/sheet.png)") < line_of("| bicubic")
    assert (workdir / "curves" / "tpgan_learning_curves.png").read_bytes() == b"png"
    assert "![tpgan: cpu Some CPU (avx2); stopped time budget](curves/tpgan_learning_curves.png)" \
        in md
    assert "[tpgan: the curve's table](curves/tpgan_learning_curves.md)" in md
    assert any(line.startswith("other: no committed learning curve in") for line in md)
