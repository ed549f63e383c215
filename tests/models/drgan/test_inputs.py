"""DR-GAN's input pipeline (tpgan_tf/models/drgan/inputs.py): a flip mirrors the pose label,
the 110 -> 96 crops, the per-image seeds of a batch's augmentation, labels from the records,
the multi-image sampler, the checkpointable position (drgan spec 4.3, 7)."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import get_config
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.models.drgan import inputs

DATA = get_config("paper", "drgan").data  # 96 from 110, 9 views within +-60


def _face(seed=0):
    """A left-right asymmetric uint8 "face" [128, 128, 3]."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)


def _augment(image, pose, yaw, seed, flip=True):
    return inputs.augment(inputs.resize(image, 110), tf.constant(pose), tf.constant(yaw),
                          tf.constant(seed, tf.int64), image_size=96, num_views=9, flip=flip)


def test_a_flip_mirrors_the_image_and_its_pose_label():
    image = _face()
    flipped_seen = unflipped_seen = False
    for s in range(16):
        seed = [s, 7]
        out = _augment(image, 7, 45, seed)  # view 7 of 9 = +45
        plain = _augment(image, 7, 45, seed, flip=False)  # same crop, never flipped
        if bool(out["flipped"]):
            flipped_seen = True
            np.testing.assert_array_equal(out["image"].numpy(), plain["image"].numpy()[:, ::-1])
            assert int(out["pose"]) == 9 - 1 - 7 and int(out["yaw"]) == -45
        else:
            unflipped_seen = True
            np.testing.assert_array_equal(out["image"].numpy(), plain["image"].numpy())
            assert int(out["pose"]) == 7 and int(out["yaw"]) == 45
        assert int(plain["pose"]) == 7 and not bool(plain["flipped"])
    assert flipped_seen and unflipped_seen  # 16 fair coins: both sides (p = 2^-15 to fail)


def test_mirror_pose_and_pose_of_yaw_by_hand():
    assert [int(inputs.mirror_pose(i, 9)) for i in range(9)] == list(range(8, -1, -1))
    yaws = tf.constant([-60, -15, 0, 15, 60])
    assert inputs.pose_of_yaw(yaws, 60).numpy().tolist() == [0, 3, 4, 5, 8]
    assert inputs.pose_of_yaw(tf.constant([-90, 0, 90]), 90).numpy().tolist() == [0, 6, 12]


def test_random_crop_lies_in_the_110_resize_and_the_test_crop_is_central():
    image = _face(1)
    resized = inputs.resize(image, 110).numpy()
    x = _augment(image, 4, 0, [3, 4], flip=False)["image"].numpy()
    assert x.shape == (96, 96, 3) and x.min() >= -1 and x.max() <= 1
    target = (x + 1) * 127.5
    hits = [(t, c) for t in range(15) for c in range(15)
            if np.allclose(resized[t:t + 96, c:c + 96], target, atol=1e-3)]
    assert len(hits) == 1
    test = inputs.eval_input(image[None], 110, 96).numpy()[0]
    np.testing.assert_allclose((test + 1) * 127.5, resized[7:103, 7:103], atol=1e-3)


def test_training_rows_from_records_are_the_110_resize(drgan_records):
    out, _ = drgan_records
    ds = inputs.make_dataset(split_pattern(out, "train"), 6, DATA, deterministic=True, seed=1)
    batch = next(iter(ds))
    assert set(batch) == {"source", "identity", "pose", "yaw"}  # no augmentation yet
    assert batch["source"].shape == (6, 110, 110, 3) and batch["source"].dtype == tf.float32
    assert float(tf.reduce_min(batch["source"])) >= 0 and float(tf.reduce_max(batch["source"])) <= 255
    # Training subjects 1 and 2 -> identity 0 and 1; pose index consistent with the yaw.
    assert set(batch["identity"].numpy().tolist()) <= {0, 1}
    np.testing.assert_array_equal(batch["pose"].numpy(), (batch["yaw"].numpy() + 60) // 15)
    assert set(np.abs(batch["yaw"].numpy()).tolist()) <= {0, 15, 60}
    # Deterministic with a seed: the same batch again.
    again = next(iter(inputs.make_dataset(split_pattern(out, "train"), 6, DATA,
                                          deterministic=True, seed=1)))
    np.testing.assert_array_equal(again["source"].numpy(), batch["source"].numpy())


def _rows(n=4, multi=1, seed=0):
    cfg = get_config("paper", "drgan")
    cfg.model.multi_images = multi
    return {k: tf.constant(v) for k, v in inputs.random_examples(n, cfg, seed).items()}


def _seeds(shape, start=0):
    return tf.reshape(tf.range(start, start + 2 * int(np.prod(shape)), dtype=tf.int64),
                      [*shape, 2])


def test_augment_batch_is_augment_per_image_with_its_own_seed():
    rows = _rows(3, multi=2)
    seeds = _seeds([3, 2])
    batch = inputs.augment_batch(rows, seeds, DATA)
    assert batch["image"].shape == (3, 2, 96, 96, 3) and batch["flipped"].shape == (3, 2)
    assert "source" not in batch and batch["identities"].shape == (3, 2)
    for i in range(3):
        for j in range(2):
            one = inputs.augment(rows["source"][i, j], rows["pose"][i, j], rows["yaw"][i, j],
                                 seeds[i, j], image_size=96, num_views=9)
            for key in ("image", "pose", "yaw", "flipped"):
                np.testing.assert_array_equal(batch[key][i, j].numpy(), one[key].numpy())
    # The same seeds give the same batch; other seeds other crops / flips.
    again = inputs.augment_batch(rows, seeds, DATA)
    np.testing.assert_array_equal(again["image"].numpy(), batch["image"].numpy())
    other = inputs.augment_batch(rows, _seeds([3, 2], start=100), DATA)
    assert np.abs(other["image"].numpy() - batch["image"].numpy()).max() > 0.5


def test_centre_view_is_the_centre_crop():
    rows = _rows(2)
    view = inputs.centre_view(rows, DATA)
    np.testing.assert_allclose(view["image"].numpy(),
                               rows["source"].numpy()[:, 7:103, 7:103] / 127.5 - 1, atol=1e-6)
    assert not view["flipped"].numpy().any()
    np.testing.assert_array_equal(view["pose"].numpy(), rows["pose"].numpy())


def test_multi_image_rows_hold_different_images_of_one_subject(drgan_records):
    out, _ = drgan_records
    ds = inputs.make_dataset(split_pattern(out, "train"), 3, DATA, multi_images=4,
                             deterministic=True, seed=2)
    for batch in ds.take(3):
        assert batch["source"].shape == (3, 4, 110, 110, 3)
        assert batch["identity"].shape == (3,) and batch["pose"].shape == (3, 4)
        # Every image of a row belongs to the row's subject (windows keyed by subject) ...
        np.testing.assert_array_equal(batch["identities"].numpy(),
                                      np.repeat(batch["identity"].numpy()[:, None], 4, 1))
        # ... and the n images of a row are different ones.
        for row in batch["source"].numpy():
            flat = row.reshape(4, -1)
            assert all(not np.array_equal(flat[i], flat[j]) for i in range(4)
                       for j in range(i + 1, 4))


def test_the_input_position_is_checkpointed(drgan_records, tmp_path):
    out, _ = drgan_records
    it = iter(inputs.make_dataset(split_pattern(out, "train"), 4, DATA, multi_images=2,
                                  deterministic=True, seed=3))
    next(it)
    ckpt = tf.train.Checkpoint(iterator=it)
    path = ckpt.write(str(tmp_path / "it"))
    expected = [next(it)["source"].numpy() for _ in range(2)]
    ckpt.read(path)
    for e in expected:
        np.testing.assert_array_equal(next(it)["source"].numpy(), e)


def test_eval_batches_keep_the_order_and_the_metadata(drgan_records):
    out, manifest = drgan_records
    batches = list(inputs.eval_dataset(split_pattern(out, "test"), 16, DATA))
    total = sum(int(b["image"].shape[0]) for b in batches)
    assert total == manifest["splits"]["test"]["examples"]
    first = batches[0]
    assert first["aligned"].shape[1:] == (128, 128, 3) and first["image"].shape[1:] == (96, 96, 3)
    np.testing.assert_allclose(first["image"].numpy(), inputs.eval_input(
        first["aligned"], 110, 96).numpy(), atol=1e-6)
    assert set(first["subject"].numpy().tolist()) <= {3, 4}


def test_random_examples_follow_the_batch_contract():
    cfg = get_config("multi", "drgan")
    ex = inputs.random_examples(3, cfg, seed=0)
    assert ex["source"].shape == (3, 4, 110, 110, 3) and ex["pose"].shape == (3, 4)
    np.testing.assert_array_equal(ex["yaw"], ex["pose"] * 15 - 60)
    assert ex["identity"].max() < cfg.model.num_identities
    with pytest.raises(ValueError, match="batch_size"):
        inputs.make_dataset("unused", 0, DATA)
