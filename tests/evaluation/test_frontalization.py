"""The frontalization protocol shared by the models (tpgan_tf/evaluation/frontalization.py):
a run over hand-made batches with a stand-in identity network, the results dict, the tables in
TP-GAN's Table 1 layout."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.evaluation import frontalization as fr
from tpgan_tf.evaluation.recognition import FaceRecord
from tpgan_tf.models.tpgan.evaluation import PAPER_SETTING2


def test_rank1_table_has_the_paper_layout():
    results = {"method": "tpgan", "method_label": "TP-GAN (ours)",
               "poses": {"15": {"rank1_percent": {"profile": 50.0, "tpgan": 75.0}},
                         "90": {"rank1_percent": {"profile": 0.0, "tpgan": 12.5}}}}
    header, rows = fr.rank1_table([results], PAPER_SETTING2)
    assert header == ["Method", "±90°", "±75°", "±60°", "±45°", "±30°", "±15°"]
    assert rows[0] == ["Light-CNN (raw profiles)", "0.00", "–", "–", "–", "–", "50.00"]
    assert rows[1] == ["TP-GAN (ours)", "12.50", "–", "–", "–", "–", "75.00"]
    # tpgan spec 7.2 Setting 2, labelled as recalled
    assert rows[3][0].startswith("TP-GAN, paper") and "recalled" in rows[3][0]
    assert rows[3][1:] == ["64.03", "84.10", "92.93", "98.58", "99.85", "99.78"]
    # Two models on the same records: the profile baseline once.
    other = dict(results, method="drgan", method_label="DR-GAN",
                 poses={"15": {"rank1_percent": {"profile": 50.0, "drgan": 60.0}}})
    _, rows = fr.rank1_table([results, other])
    assert [r[0] for r in rows] == ["Light-CNN (raw profiles)", "TP-GAN (ours)", "DR-GAN"]
    assert rows[2][-1] == "60.00"


class _Quadrants:
    """A stand-in identity network: features = mean gray of the four image quadrants."""

    def __call__(self, gray, training=False):
        pooled = tf.nn.avg_pool2d(gray, 64, 64, "VALID")  # [B, 2, 2, 1]
        return pooled, tf.reshape(pooled, [-1, 4])


def _face(quadrant, value=0.9):
    image = np.full((128, 128, 3), 0.1, np.float32)
    r, c = divmod(quadrant, 2)
    image[r * 64:(r + 1) * 64, c * 64:(c + 1) * 64] = value
    return image


def test_a_run_and_its_summary_by_hand():
    """Subjects 1..3 look like quadrants 0..2; the profiles of subjects 2 and 3 look like
    subject 1, the model's frontals like their own subject."""
    run = fr.FrontalizationRun(_Quadrants(), "toy", batch_size=4, sheet_rows=2)
    records = [FaceRecord(s, 1, 1, 7, yaw, f"p{s}_{yaw}.png", f"f{s}.png")
               for s, yaw in ((1, 0), (2, 0), (3, 0), (2, 45), (3, -45))]
    target = np.stack([_face(r.subject - 1) for r in records])
    profile = np.stack([_face(0) if r.yaw else _face(r.subject - 1) for r in records])
    output = np.stack([_face(r.subject - 1, 1.5) for r in records])  # clipped to 1
    run.add(records[:3], profile[:3], output[:3], target[:3])
    run.add(records[3:], profile[3:], output[3:], target[3:])
    with pytest.raises(ValueError, match="differ in length"):
        run.add(records[:2], profile[:1], output[:2], target[:2])
    data = run.finish()
    assert list(data.gallery) == [1, 2, 3] and data.gallery_features.shape == (3, 4)
    assert data.features["toy"].shape == (5, 4)
    results = fr.summarise(data, "toy", "Toy")
    assert (results["subjects"], results["pairs"], results["probes"]) == (3, 5, 2)
    assert results["method"] == "toy" and results["kind"] == "frontalization"
    at45 = results["poses"]["45"]
    assert at45["pairs"] == 2 and at45["probes"] == 2 and at45["gallery_images_excluded"] == 0
    assert at45["rank1_percent"] == {"profile": 0.0, "toy": 100.0}
    zero = results["poses"]["0"]
    assert zero["probes"] == 0 and zero["gallery_images_excluded"] == 3
    assert all(np.isnan(v) for v in zero["rank1_percent"].values())
    # Quality against the GT: the profile at 0 degrees IS the GT; the output is clipped 1.0
    # where the GT is 0.9 (a quarter of the pixels): L1 = 0.1 / 4.
    assert zero["l1"]["profile"] == 0.0 and zero["psnr"]["profile"] == float("inf")
    assert zero["l1"]["toy"] == pytest.approx(0.025, rel=1e-5)
    assert zero["ssim"]["profile"] == pytest.approx(1.0)
    assert results["rank1_percent_all_probes"] == {"profile": 0.0, "toy": 100.0}
    # Pictures: up to sheet_rows per |yaw|, one per subject first, uint8.
    assert sorted(data.samples) == [0, 45] and len(data.samples[0]) == 2
    assert [s["subject"] for s in data.samples[45]] == [2, 3]
    assert data.samples[45][0]["input"].dtype == np.uint8
    header, rows = fr.sanity_table(results)
    assert header == ["Pose", "0°", "±45°"] and rows[1] == ["probes", "0", "2"]
    header, rows = fr.quality_table(results)
    assert header[0] == "Pose" and rows[0][:4] == ["0°", "3", "0.0250", "0.0000"]


def test_quality_only_without_an_identity_network():
    run = fr.FrontalizationRun(None, "toy", batch_size=2)
    record = FaceRecord(1, 1, 1, 7, 30)
    run.add([record], _face(0)[None], _face(1)[None], _face(0)[None])
    data = run.finish()
    assert data.features == {} and data.gallery_features.shape == (0, 0)
    assert data.quality["l1"]["toy"][0] == pytest.approx(0.8 * 2 / 4)
    with pytest.raises(ValueError, match="no pairs"):
        fr.FrontalizationRun(None, "toy", 2).finish()


def test_features_of_pads_the_last_chunk_and_to_uint8():
    calls = []

    def fn(x):
        calls.append(int(x.shape[0]))
        return tf.reduce_mean(x, axis=[1, 2])

    images = np.random.default_rng(0).uniform(size=(5, 128, 128, 3)).astype(np.float32)
    got = fr.features_of(fn, images, 2)
    assert calls == [2, 2, 2] and got.shape == (5, 3)
    np.testing.assert_allclose(got, images.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_array_equal(fr.to_uint8(np.array([0.0, 0.5, 0.999, 1.0, -0.1])),
                                  [0, 128, 255, 255, 0])


def test_sample_keeper_prefers_new_subjects():
    keeper = fr.SampleKeeper(2)
    for subject in (1, 1, 1, 2, 3):
        keeper.offer(15, subject, lambda s=subject: {"id": s})
    keeper.offer(30, 4, lambda: {"id": 4})
    keeper.offer(30, 4, lambda: {"id": 40})
    got = keeper.result()
    assert [s["subject"] for s in got[15]] == [1, 2]
    assert [s["id"] for s in got[30]] == [4, 40]  # too few subjects: repeats fill up
