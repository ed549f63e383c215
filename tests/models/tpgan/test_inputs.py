"""TP-GAN's input pipeline (tpgan_tf/models/tpgan/inputs.py): pair records -> the training batch
of spec 1.1 / 1.4, compared with the stored PNGs cut and mirrored in numpy; the pose filter,
determinism, the evaluation order and the random batch of the same contract. The records are
built once per session (tests/conftest.py `pair_records`)."""
import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.data.pair_records import feature_spec
from tpgan_tf.faces.image_ops import legacy_resize
from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES, crop_window
from tpgan_tf.models.tpgan import inputs
from tpgan_tf.models.tpgan.inputs import make_dataset


def _all_examples(pattern, **kwargs):
    ds = make_dataset(pattern, 64, shuffle=False, repeat=False, deterministic=True,
                      drop_remainder=False, **kwargs)
    batches = list(ds.as_numpy_iterator())
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def test_pipeline_round_trip(pair_records):
    out, manifest, root, _ = pair_records
    ex = _all_examples(os.path.join(out, "train-*.tfrecord"))
    n = manifest["splits"]["train"]["examples"]
    assert ex["image"].shape == (n, 128, 128, 3) and ex["frontal"].shape == (n, 128, 128, 3)
    assert ex["eye_left"].shape == (n, 40, 40, 3) and ex["nose"].shape == (n, 32, 40, 3)
    assert ex["mouth"].shape == (n, 32, 48, 3) and ex["frontal_mouth"].shape == (n, 32, 48, 3)
    assert ex["image"].min() >= 0 and ex["image"].max() <= 255 / 256  # uint8 / 256
    assert ex["label"].dtype == np.int32 and set(ex["label"]) == {1, 2}
    np.testing.assert_array_equal(ex["image64"], ex["image"][:, ::2, ::2])
    np.testing.assert_array_equal(
        legacy_resize(tf.constant(ex["frontal"][:4]), 32).numpy(), ex["frontal32"][:4])

    # Compare one negative-yaw and one positive-yaw example with the PNG + numpy patches.
    # One shard, unshuffled and deterministic: the i-th example is the shard's i-th record.
    shard = os.path.join(out, "train-00000-of-00002.tfrecord")
    ex = _all_examples(shard)
    for yaw_sign in (-1, 1):
        i = next(j for j, y in enumerate(ex["yaw"]) if np.sign(y) == yaw_sign and abs(y) >= 45)
        rec = _record_at(shard, i)
        crop = cv2.imdecode(np.frombuffer(rec["profile/png"].numpy(), np.uint8),
                            cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 256
        windows = rec["profile/windows"].numpy().reshape(4, 2)
        cut = {}
        for name, (top, left) in zip(PART_NAMES, windows):
            part = PART_BY_NAME[name]
            cut[name], _ = crop_window(crop, int(top), int(left), part.height, part.width)
        if yaw_sign < 0:  # spec 1.4: flipped, eyes swapped
            np.testing.assert_array_equal(ex["image"][i], crop[:, ::-1])
            np.testing.assert_array_equal(ex["eye_left"][i], cut["eye_right"][:, ::-1])
            np.testing.assert_array_equal(ex["eye_right"][i], cut["eye_left"][:, ::-1])
            np.testing.assert_array_equal(ex["nose"][i], cut["nose"][:, ::-1])
            lm = rec["profile/landmarks"].numpy().reshape(5, 2)
            np.testing.assert_allclose(ex["landmarks"][i][0], [127 - lm[1, 0], lm[1, 1]])
        else:
            np.testing.assert_array_equal(ex["image"][i], crop)
            for name in PART_NAMES:
                np.testing.assert_array_equal(ex[name][i], cut[name])
    # After mirroring every profile faces image-right: nose x right of the eye midpoint.
    turned = np.abs(ex["yaw"]) >= 30
    eye_mid = ex["landmarks"][:, :2, 0].mean(axis=1)
    assert np.all(ex["landmarks"][turned, 2, 0] > eye_mid[turned])


def _record_at(shard, index):
    for j, record in enumerate(tf.data.TFRecordDataset(shard)):
        if j == index:
            return tf.io.parse_single_example(record, feature_spec())
    raise IndexError(index)


def test_pipeline_yaw_filter_and_determinism(pair_records):
    out, manifest, _, _ = pair_records
    pattern = os.path.join(out, "train-*.tfrecord")
    ex = _all_examples(pattern, yaw_low=15, yaw_high=45)
    per_yaw = manifest["splits"]["train"]["per_yaw"]
    expected = sum(v for k, v in per_yaw.items() if 15 <= abs(int(k)) <= 45)
    assert len(ex["yaw"]) == expected and np.all((np.abs(ex["yaw"]) >= 15)
                                                 & (np.abs(ex["yaw"]) <= 45))

    def first_labels(seed):
        ds = make_dataset(pattern, 6, shuffle=True, deterministic=True, seed=seed)
        return [tuple(b["yaw"]) for b in ds.take(4).as_numpy_iterator()]

    assert first_labels(1) == first_labels(1)
    assert first_labels(1) != first_labels(2)


def test_pipeline_reports_missing_shards(tmp_path):
    with pytest.raises(FileNotFoundError, match="no TFRecord shards"):
        make_dataset(str(tmp_path / "train-*.tfrecord"), 2)


def test_parse_pair_keeps_uint8_windows_and_unmirrored_landmarks(pair_records):
    out, _, _, _ = pair_records
    shard = os.path.join(out, "train-00000-of-00002.tfrecord")
    raw = next(iter(tf.data.TFRecordDataset(shard)))
    ex = inputs.parse_pair(raw)
    stored = tf.io.parse_single_example(raw, feature_spec())
    assert ex["image"].dtype == tf.uint8 and ex["image"].shape == (128, 128, 3)
    assert ex["frontal"].dtype == tf.uint8
    np.testing.assert_array_equal(ex["windows"].numpy().ravel(), stored["profile/windows"])
    np.testing.assert_array_equal(ex["frontal_windows"].numpy().ravel(),
                                  stored["frontal/windows"])
    np.testing.assert_array_equal(ex["landmarks"].numpy().ravel(), stored["profile/landmarks"])
    assert int(ex["label"]) == int(stored["subject"]) and int(ex["yaw"]) == int(stored["yaw"])
    assert "session" not in ex
    meta = inputs.parse_pair(raw, with_metadata=True)
    assert meta["profile_path"].numpy() == stored["profile/path"].numpy()
    for name in ("session", "recording", "illumination"):
        assert int(meta[name]) == int(stored[name])


def test_eval_dataset_keeps_the_shard_order_and_the_last_partial_batch(pair_records):
    out, manifest, _, _ = pair_records
    pattern = os.path.join(out, "test-*.tfrecord")
    batches = list(inputs.eval_dataset(pattern, 4))
    n = manifest["splits"]["test"]["examples"]
    assert [len(b["yaw"]) for b in batches] == [4] * (n // 4) + ([n % 4] if n % 4 else [])
    paths = [p.decode() for b in batches for p in b["profile_path"].numpy()]
    stored = [tf.io.parse_single_example(r, feature_spec())["profile/path"].numpy().decode()
              for shard in sorted(tf.io.gfile.glob(pattern))
              for r in tf.data.TFRecordDataset(shard)]
    assert paths == stored  # sorted shards, one after the other
    assert len(list(inputs.eval_dataset(pattern, 4, max_examples=6).unbatch())) == 6
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        inputs.eval_dataset(pattern, 0)


def test_eval_dataset_shuffles_by_seed_into_mixed_batches(pair_records):
    """shuffle_seed: every pair once, in an order fixed by the seed, other than the records'
    (which are written subject by subject)."""
    out, _, _, _ = pair_records
    pattern = os.path.join(out, "test-*.tfrecord")

    def order(**kwargs):
        return [p.decode() for b in inputs.eval_dataset(pattern, 4, **kwargs)
                for p in b["profile_path"].numpy()]

    stored, shuffled = order(), order(shuffle_seed=1)
    assert sorted(shuffled) == sorted(stored) and shuffled != stored
    assert order(shuffle_seed=1) == shuffled  # deterministic
    assert order(shuffle_seed=2) != shuffled


def test_make_dataset_rejects_bad_arguments(pair_records):
    pattern = os.path.join(pair_records[0], "train-*.tfrecord")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        make_dataset(pattern, 0)
    with pytest.raises(ValueError, match="0 <= yaw_low <= yaw_high <= 90"):
        make_dataset(pattern, 2, yaw_low=50, yaw_high=40)


def test_random_examples_have_the_shapes_of_the_training_batch(pair_records):
    real = next(iter(make_dataset(os.path.join(pair_records[0], "train-*.tfrecord"), 3,
                                  shuffle=False, deterministic=True)))
    fake = inputs.random_examples(3, seed=1)
    for key, value in fake.items():
        assert value.shape == tuple(real[key].shape), key
        assert value.dtype == real[key].dtype.as_numpy_dtype, key
    assert 0 <= fake["image"].min() and fake["image"].max() < 1
    np.testing.assert_array_equal(inputs.random_examples(3, seed=1)["image"], fake["image"])
