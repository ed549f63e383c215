"""TP-GAN's input pipeline: pair records (tpgan_tf/data/pair_records.py) -> the training batch of
tpgan spec 1.1.

Every batch is a dict (B = batch size):
    image [B,128,128,3]      profile in [0, 1): uint8 / 256 (spec 1.1), mirrored to positive yaw
    image64, image32         its legacy-resize pyramid (= decimation [::2, ::2], [::4, ::4])
    eye_left [B,40,40,3], eye_right [B,40,40,3], nose [B,32,40,3], mouth [B,32,48,3]
                             profile patches (spec 1.4), cut BEFORE mirroring, then flipped and
                             with the two eyes swapped for negative yaws
    frontal, frontal64, frontal32, frontal_eye_left, ..., frontal_mouth   the same for the GT
    landmarks, frontal_landmarks [B,5,2]   0-based crop coordinates after mirroring
    label int32 [B]          subject id (the original: int of the file name's first 3 chars)
    yaw int32 [B]            signed yaw of the source camera (before mirroring)
with `with_metadata=True` also session, recording, illumination int32 [B] and profile_path,
frontal_path string [B] (the evaluation protocol needs them).

Per example only the PNGs are decoded; patches, mirroring and the float conversion run once
per batch (tpgan_tf/faces/parts_tf.py, the TF twin of the data preparation's numpy code).
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.data import pipeline
from tpgan_tf.data.pair_records import SIDES, feature_spec
from tpgan_tf.faces import landmarks_tf, parts_tf
from tpgan_tf.faces.parts import IMAGE_SIZE, PART_NAMES

_PREFIX = {"profile": "", "frontal": "frontal_"}
_IMAGE_KEY = {"profile": "image", "frontal": "frontal"}


def parse_pair(serialized: tf.Tensor, with_metadata: bool = False) -> dict:
    """One serialized pair Example -> un-batched uint8 images, their windows [4, 2] and
    landmarks [5, 2] (unmirrored), label and yaw (and the metadata fields if asked)."""
    ex = tf.io.parse_single_example(serialized, feature_spec())
    out = {"label": tf.cast(ex["subject"], tf.int32), "yaw": tf.cast(ex["yaw"], tf.int32)}
    for side in SIDES:
        image = tf.io.decode_png(ex[f"{side}/png"], channels=3)
        out[_IMAGE_KEY[side]] = tf.ensure_shape(image, [IMAGE_SIZE, IMAGE_SIZE, 3])
        out[f"{_PREFIX[side]}windows"] = tf.reshape(ex[f"{side}/windows"], [4, 2])
        out[f"{_PREFIX[side]}landmarks"] = tf.reshape(ex[f"{side}/landmarks"], [5, 2])
    if with_metadata:
        for name in ("session", "recording", "illumination"):
            out[name] = tf.cast(ex[name], tf.int32)
        out["profile_path"] = ex["profile/path"]
        out["frontal_path"] = ex["frontal/path"]
    return out


def to_training_batch(batch: dict, mirror_to_one_side: bool = True) -> dict:
    """A batch of `parse_pair` dicts -> the training batch of the module doc.

    Patches are cut from the unmirrored images at the stored windows (spec 1.4), then every
    example with negative yaw is mirrored (spec 1.1 MIRROR_TO_ONE_SIDE; its GT too); uint8
    becomes float32 / 256 (spec 1.1, not / 255) and the 64/32 pyramids are added (legacy
    resize at exactly 2x / 4x reduction = decimation).
    """
    out = {k: v for k, v in batch.items() if not k.endswith("windows")}
    mirrored = batch["yaw"] < 0 if mirror_to_one_side else tf.zeros_like(batch["yaw"], tf.bool)
    for side in SIDES:
        prefix, key = _PREFIX[side], _IMAGE_KEY[side]
        patches = parts_tf.cut_patches(batch[key], batch[f"{prefix}windows"])
        image, patches = parts_tf.mirror_where(mirrored, batch[key], patches)
        out[key] = image
        for name in PART_NAMES:
            out[f"{prefix}{name}"] = patches[name]
        points = batch[f"{prefix}landmarks"]
        out[f"{prefix}landmarks"] = landmarks_tf.where_batch(
            mirrored, landmarks_tf.mirror_landmarks(points, IMAGE_SIZE), points)
    for key, value in list(out.items()):
        if value.dtype == tf.uint8:
            out[key] = tf.cast(value, tf.float32) / 256.0
    for key in ("image", "frontal"):
        out[f"{key}64"] = out[key][:, ::2, ::2]
        out[f"{key}32"] = out[key][:, ::4, ::4]
    return out


def yaw_filter(yaw_low: int, yaw_high: int):
    """A predicate on serialized pairs: yaw_low <= |yaw| <= yaw_high (reads only the yaw)."""
    yaw_only = {"yaw": tf.io.FixedLenFeature([], tf.int64)}

    def in_range(serialized):
        yaw = tf.abs(tf.io.parse_single_example(serialized, yaw_only)["yaw"])
        return (yaw >= yaw_low) & (yaw <= yaw_high)
    return in_range


def make_dataset(file_pattern: str, batch_size: int, *, yaw_low: int = 0, yaw_high: int = 90,
                 shuffle: bool = True, repeat: bool = True, deterministic: bool = False,
                 seed: int | None = None, shuffle_buffer: int = 2048,
                 drop_remainder: bool = True, mirror_to_one_side: bool = True,
                 cache: bool = False, with_metadata: bool = False,
                 input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Batches of training dicts from the shards matching `file_pattern`.

    yaw_low <= |yaw| <= yaw_high is the pose filter of spec 5 (the released config: 0..60).
    `deterministic=True` fixes the element order (with a seed: the same order on every run).
    `cache=True` keeps the decoded examples in memory after the first pass (small data sets).
    input_context: this replica's share under tf.distribute (see data/pipeline.read_records).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not 0 <= yaw_low <= yaw_high <= 90:
        raise ValueError(f"need 0 <= yaw_low <= yaw_high <= 90, got {yaw_low}..{yaw_high}")
    autotune = tf.data.AUTOTUNE
    ds = pipeline.read_records(file_pattern, shuffle=shuffle, deterministic=deterministic,
                               seed=seed, input_context=input_context)
    if yaw_low > 0 or yaw_high < 90:
        ds = ds.filter(yaw_filter(yaw_low, yaw_high))
    ds = ds.map(lambda s: parse_pair(s, with_metadata), num_parallel_calls=autotune,
                deterministic=deterministic)
    ds = pipeline.cache_shuffle_repeat(ds, cache=cache, shuffle=shuffle,
                                       shuffle_buffer=shuffle_buffer, seed=seed, repeat=repeat)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(lambda b: to_training_batch(b, mirror_to_one_side), num_parallel_calls=autotune,
                deterministic=deterministic)
    return ds.prefetch(autotune).with_options(pipeline.options(deterministic))


EVAL_SHUFFLE_BUFFER = 4096  # pairs (~60 kB each): ~250 MB at most


def eval_dataset(file_pattern: str, batch_size: int, max_examples: int = 0,
                 shuffle_seed: int | None = None) -> tf.data.Dataset:
    """Test batches in a fixed order (the sorted shards read one after the other), with the
    metadata fields; the last batch may be smaller. max_examples > 0 keeps the first pairs.
    shuffle_seed: shuffle the pairs (a window of EVAL_SHUFFLE_BUFFER) in a fixed order given
    by the seed, so that a batch mixes subjects and poses as a training batch does (the
    records are written subject by subject; with batch-statistics BN a batch of one subject
    would normalise its skin tone away)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    ds = tf.data.TFRecordDataset(pipeline.list_shards(file_pattern))
    if max_examples > 0:
        ds = ds.take(max_examples)
    if shuffle_seed is not None:
        ds = ds.shuffle(EVAL_SHUFFLE_BUFFER, seed=shuffle_seed, reshuffle_each_iteration=False)
    ds = ds.map(lambda s: parse_pair(s, with_metadata=True), num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True)
    ds = ds.batch(batch_size).map(to_training_batch, num_parallel_calls=tf.data.AUTOTUNE,
                                  deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def random_examples(n: int, seed: int = 0, num_labels: int = 10) -> dict:
    """n random examples of the training batch (numpy; images uniform in [0, 1)), for tests
    and benchmarks that need no records."""
    import numpy as np

    from tpgan_tf.faces.parts import PARTS

    rng = np.random.default_rng(seed)
    img = lambda *shape: rng.uniform(0, 1, (n, *shape)).astype(np.float32)  # noqa: E731
    ex = {"image": img(128, 128, 3), "frontal": img(128, 128, 3),
          "label": rng.integers(0, num_labels, n).astype(np.int32),
          "yaw": rng.choice([0, 15, 30, 45, 60], n).astype(np.int32)}
    for p in PARTS:
        ex[p.name] = img(p.height, p.width, 3)
        ex[f"frontal_{p.name}"] = img(p.height, p.width, 3)
    return ex
