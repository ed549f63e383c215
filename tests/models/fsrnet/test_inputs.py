"""FSRNet's input pipeline (tpgan_tf/models/fsrnet/inputs.py): the batch is the spec 1
degradation of the HR face and the spec 5 priors of its labels, read from face records with a
fixed order under a seed, per replica."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import apply_overrides, get_config
from tests.models.fsrnet.conftest import write_face_records
from tpgan_tf.models.fsrnet import degradation, inputs, priors


@pytest.fixture(scope="module")
def cfg():
    return get_config("tiny", "fsrnet")


def test_batch_is_the_degradation_and_the_priors_of_the_face(cfg):
    ex = inputs.random_examples(2, cfg, seed=1)
    batch = inputs.to_training_batch({k: tf.constant(v) for k, v in ex.items()}, cfg)
    hr = ex["hr"].astype(np.float32) / 255.0
    np.testing.assert_array_equal(batch["hr"].numpy(), hr)
    np.testing.assert_allclose(batch["x"].numpy(), degradation.degrade(hr).numpy(), atol=1e-6)
    np.testing.assert_allclose(
        batch["lr"].numpy(),
        np.clip(degradation.bicubic_downsample(hr, 8).numpy(), 0, 1), atol=1e-6)
    assert batch["lr"].shape == (2, 16, 16, 3) and batch["x"].shape == (2, 128, 128, 3)
    expected = priors.prior_maps(ex["landmarks"], ex["parsing"], cfg.priors.prior_set(), 128,
                                 cfg.priors.heatmap_sigma)
    np.testing.assert_array_equal(batch["priors"].numpy(), expected.numpy())
    assert batch["priors"].shape == (2, 64, 64, cfg.num_priors)
    # the parsing maps (after the 68 heatmaps) sum to one per cell
    np.testing.assert_allclose(batch["priors"].numpy()[..., 68:].sum(-1), 1.0, atol=1e-5)


def test_jpeg_switches_round_trip_hr_and_lr(cfg):
    jpeg = apply_overrides(cfg, ["degradation.jpeg_hr=true", "degradation.jpeg_lr=true"])
    ex = {k: tf.constant(v) for k, v in inputs.random_examples(1, cfg, seed=2).items()}
    plain, both = inputs.to_training_batch(ex, cfg), inputs.to_training_batch(ex, jpeg)
    hr = degradation.jpeg_roundtrip(plain["hr"], 75)
    np.testing.assert_array_equal(both["hr"].numpy(), hr.numpy())
    x = degradation.jpeg_roundtrip(degradation.degrade(hr), 75)
    np.testing.assert_allclose(both["x"].numpy(), x.numpy(), atol=1.5 / 255)
    assert np.abs(both["x"].numpy() - plain["x"].numpy()).max() > 1 / 255


def test_dataset_reads_records_in_a_seeded_order_and_splits_by_replica(cfg, tmp_path):
    path = str(tmp_path / "train-00000-of-00001.tfrecord")
    ex = write_face_records(path, cfg, 6)
    pattern = str(tmp_path / "train-*.tfrecord")
    take = lambda **kw: [b["hr"].numpy() for b in  # noqa: E731
                         inputs.make_dataset(pattern, cfg, 2, deterministic=True, seed=4,
                                             **kw).take(3)]
    first, second = take(), take()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    seen = np.concatenate(first)  # one epoch of 6 faces, shuffled
    found = sorted(int(np.argmin([np.abs(s - e / 255).sum() for e in ex["hr"]])) for s in seen)
    assert found == list(range(6))
    ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
                                     num_replicas_in_sync=2)
    [batch] = list(inputs.make_dataset(pattern, cfg, 1, shuffle=False, repeat=False, deterministic=True,
                                       input_context=ctx).take(1))
    np.testing.assert_array_equal(batch["hr"].numpy()[0], ex["hr"][1] / np.float32(255))
    evaluated = list(inputs.eval_dataset(pattern, cfg, 4))
    assert [len(b["name"]) for b in evaluated] == [4, 2]
    assert evaluated[1]["name"].numpy()[1] == b"face0_5"  # the sixth written (seed 0)


def _face(num_landmarks: int) -> dict:
    """A 128 x 128 face with a few marked pixels, labels and landmarks (uint8, as parse_face)."""
    hr = np.zeros((128, 128, 3), np.uint8)
    hr[5, 0] = (10, 20, 30)
    parsing = np.zeros((128, 128), np.uint8)
    parsing[10, 20], parsing[11, 20], parsing[12, 20], parsing[13, 20] = 4, 2, 6, 10
    landmarks = np.zeros((num_landmarks, 2), np.float32)
    return {"hr": hr, "parsing": parsing, "landmarks": landmarks}


def test_flip_mirrors_image_landmarks_and_left_right_labels_by_hand():
    from tpgan_tf.models.fsrnet.prior_sets import LABEL_MIRRORS, LANDMARK_MIRRORS

    ex = _face(68)
    ex["landmarks"][36] = (30.0, 50.0)  # image-left outer eye corner
    ex["landmarks"][45] = (90.0, 52.0)  # image-right outer eye corner
    ex["landmarks"][30] = (63.5, 70.0)  # nose tip, on the midline
    ex["landmarks"][8] = (60.0, 120.0)  # chin
    out = inputs.flip_face({k: tf.constant(v) for k, v in ex.items()},
                           LANDMARK_MIRRORS["ibug68"], LABEL_MIRRORS["helen11"])
    points = out["landmarks"].numpy()
    np.testing.assert_array_equal(points[45], (127 - 30.0, 50.0))
    np.testing.assert_array_equal(points[36], (127 - 90.0, 52.0))
    np.testing.assert_array_equal(points[30], (63.5, 70.0))
    np.testing.assert_array_equal(points[8], (67.0, 120.0))
    np.testing.assert_array_equal(points[0], (127.0, 0.0))  # (0, 0) of point 16
    hr, parsing = out["hr"].numpy(), out["parsing"].numpy()
    np.testing.assert_array_equal(hr[5, 127], (10, 20, 30))
    assert hr[5, 0].tolist() == [0, 0, 0]
    # left eye -> right eye, left brow -> right brow; nose and hair stay
    assert parsing[10:14, 107].tolist() == [5, 3, 6, 10]
    assert parsing[10:14, 20].tolist() == [0, 0, 0, 0] and out["parsing"].dtype == tf.uint8
    five = _face(5)
    five["landmarks"][:] = [(40, 60), (88, 61), (64, 80), (45, 100), (83, 101)]
    out = inputs.flip_face({k: tf.constant(v) for k, v in five.items()},
                           LANDMARK_MIRRORS["celeba5"], LABEL_MIRRORS["helen11"])
    np.testing.assert_array_equal(out["landmarks"].numpy(),
                                  [(39, 61), (87, 60), (63, 80), (44, 101), (82, 100)])


def test_flip_switch_in_the_pipeline_draws_per_face_and_repeats_under_a_seed(cfg, tmp_path):
    from tpgan_tf.models.fsrnet.prior_sets import LABEL_MIRRORS, LANDMARK_MIRRORS

    assert not cfg.train.flip  # off by default: no source flips (fsrnet spec 7)
    flip = apply_overrides(cfg, ["train.flip=true"])
    path = str(tmp_path / "train-00000-of-00001.tfrecord")
    ex = write_face_records(path, cfg, 6)
    pattern = str(tmp_path / "train-*.tfrecord")
    take = lambda: list(inputs.make_dataset(pattern, flip, 2, deterministic=True,  # noqa: E731
                                            seed=4).take(6))
    batches, again = take(), take()
    flipped = []
    for batch, repeat in zip(batches, again):
        np.testing.assert_array_equal(batch["hr"].numpy(), repeat["hr"].numpy())
        for i in range(2):
            hr = batch["hr"].numpy()[i]
            matches = [(k, f) for k in range(6) for f in (False, True)
                       if np.array_equal(hr, (ex["hr"][k][:, ::-1] if f else ex["hr"][k])
                                         / np.float32(255))]
            [(k, is_flipped)] = matches
            flipped.append(is_flipped)
            face = {"hr": ex["hr"][k], "parsing": ex["parsing"][k],
                    "landmarks": ex["landmarks"][k]}
            if is_flipped:
                face = {key: v.numpy() for key, v in inputs.flip_face(
                    {key: tf.constant(v) for key, v in face.items()},
                    LANDMARK_MIRRORS["ibug68"], LABEL_MIRRORS["helen11"]).items()}
            np.testing.assert_array_equal(batch["parsing"].numpy()[i], face["parsing"])
            np.testing.assert_allclose(batch["landmarks"].numpy()[i], face["landmarks"])
            # the prior targets are the flipped face's
            expected = priors.prior_maps(face["landmarks"][None], face["parsing"][None],
                                         flip.priors.prior_set(), 128, flip.priors.heatmap_sigma)
            np.testing.assert_allclose(batch["priors"].numpy()[i], expected.numpy()[0],
                                       atol=1e-6)
    assert 0 < sum(flipped) < len(flipped)  # 12 faces: some mirrored, some not


def test_flip_needs_left_right_pairs_of_the_landmark_scheme():
    with pytest.raises(ValueError, match="train.flip needs the left/right pairs of "
                       "priors.landmark_scheme 'helen194'"):
        apply_overrides(get_config("paper", "fsrnet"), ["train.flip=true"])
    assert apply_overrides(get_config("celeba", "fsrnet"), ["train.flip=true"]).train.flip


def test_ibug68_pairs_mirror_the_synthetic_heads_face_coordinates():
    """The synthetic head places the 68 points symmetrically in face coordinates (u across the
    face, v up): mirroring (u -> -u) must give each point's partner exactly."""
    from data_prep.synthetic.faces import MODEL_PIXELS_PER_MM, face_identity
    from data_prep.synthetic.head_model import HeadModel
    from data_prep.synthetic.landmarks68 import face_coordinates
    from tpgan_tf.models.fsrnet.prior_sets import LANDMARK_MIRRORS

    pairs = np.array(LANDMARK_MIRRORS["ibug68"])
    assert sorted(pairs) == list(range(68)) and np.array_equal(pairs[pairs], np.arange(68))
    u, v = face_coordinates(HeadModel(face_identity(0, 0), MODEL_PIXELS_PER_MM))
    np.testing.assert_allclose(-u[pairs], u, atol=1e-9)
    np.testing.assert_allclose(v[pairs], v, atol=1e-9)


def test_flipping_input_position_can_be_checkpointed_without_a_seed(cfg, tmp_path):
    # A run that is not deterministic has no seed; its flips must still be stateless draws,
    # or the input iterator (saved with every checkpoint) cannot be serialised.
    flip = apply_overrides(cfg, ["train.flip=true"])
    write_face_records(str(tmp_path / "train-00000-of-00001.tfrecord"), cfg, 4)
    iterator = iter(inputs.make_dataset(str(tmp_path / "train-*.tfrecord"), flip, 2))
    next(iterator)
    checkpoint = tf.train.Checkpoint(iterator=iterator)
    saved = checkpoint.save(str(tmp_path / "ckpt"))
    after = next(iterator)["hr"].numpy()
    checkpoint.restore(saved)
    np.testing.assert_array_equal(next(iterator)["hr"].numpy(), after)
