"""tf.data from the pair shards (tfrecord_schema.py) to the training batch of spec 1.1.

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
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.parts import IMAGE_SIZE, PARTS
from tpgan_tf.tfrecord_schema import SIDES, feature_spec

# Margin of zeros around the image so that a patch window reaching outside it is zero-filled,
# never shifted (spec 1.4 has no bounds check; data_prep records such windows as "padded").
_MARGIN = 64
# Mirroring swaps image-left and image-right points: eyes 0<->1, mouth corners 3<->4.
_MIRRORED_POINT_ORDER = [1, 0, 2, 4, 3]


def _cut_patches(image: tf.Tensor, windows: tf.Tensor) -> dict:
    """image [128,128,3], windows int64 [8] ((top, left) per part in PARTS order) ->
    dict part name -> [h, w, 3] patch of the image's dtype."""
    padded = tf.pad(image, [[_MARGIN, _MARGIN], [_MARGIN, _MARGIN], [0, 0]])
    windows = tf.cast(windows, tf.int32) + _MARGIN
    patches = {}
    for i, part in enumerate(PARTS):
        patch = tf.slice(padded, [windows[2 * i], windows[2 * i + 1], 0],
                         [part.height, part.width, 3])
        patches[part.name] = tf.ensure_shape(patch, [part.height, part.width, 3])
    return patches


def _mirror(image, patches, landmarks):
    """Spec 1.4 mirroring: flip image and patches left-right, swap the eye patches and the
    left/right landmarks; x -> 127 - x in 0-based pixel coordinates."""
    image = tf.reverse(image, axis=[1])
    flipped = {k: tf.reverse(v, axis=[1]) for k, v in patches.items()}
    flipped["eye_left"], flipped["eye_right"] = flipped["eye_right"], flipped["eye_left"]
    landmarks = tf.gather(landmarks, _MIRRORED_POINT_ORDER)
    landmarks = tf.stack([IMAGE_SIZE - 1 - landmarks[:, 0], landmarks[:, 1]], axis=1)
    return image, flipped, landmarks


def parse_pair(serialized: tf.Tensor, mirror_to_one_side: bool = True) -> dict:
    """One serialized Example -> the un-batched training dict, images and patches still uint8
    (`to_training_batch` converts a whole batch at once, which is cheaper)."""
    ex = tf.io.parse_single_example(serialized, feature_spec())
    yaw = tf.cast(ex["yaw"], tf.int32)
    out = {"label": tf.cast(ex["subject"], tf.int32), "yaw": yaw}
    for side in SIDES:
        image = tf.io.decode_png(ex[f"{side}/png"], channels=3)
        image = tf.ensure_shape(image, [IMAGE_SIZE, IMAGE_SIZE, 3])
        # spec 1.4: patches are cut from the unmirrored image, then mirrored with it.
        patches = _cut_patches(image, ex[f"{side}/windows"])
        landmarks = tf.reshape(ex[f"{side}/landmarks"], [5, 2])
        if mirror_to_one_side:  # spec 1.1 MIRROR_TO_ONE_SIDE: the GT of a mirrored input too
            image, patches, landmarks = tf.cond(
                yaw < 0, lambda i=image, p=patches, pts=landmarks: _mirror(i, p, pts),
                lambda i=image, p=patches, pts=landmarks: (i, p, pts))
        key, prefix = ("image", "") if side == "profile" else ("frontal", "frontal_")
        out[key] = image
        out[f"{prefix}landmarks"] = landmarks
        for name, patch in patches.items():
            out[f"{prefix}{name}"] = patch
    return out


def to_training_batch(batch: dict) -> dict:
    """A batch of `parse_pair` dicts -> the training batch of the module doc: uint8 images and
    patches become float32 in [0, 1) (spec 1.1: / 256, not / 255), and the 64/32 pyramids are
    added (spec 1.1: legacy resize at exactly 2x / 4x reduction = decimation)."""
    out = dict(batch)
    for key, value in batch.items():
        if value.dtype == tf.uint8:
            out[key] = tf.cast(value, tf.float32) / 256.0
    for key in ("image", "frontal"):
        out[f"{key}64"] = out[key][:, ::2, ::2]
        out[f"{key}32"] = out[key][:, ::4, ::4]
    return out


def list_shards(file_pattern: str) -> list[str]:
    """Sorted shard paths matching `file_pattern`; FileNotFoundError when there are none."""
    files = sorted(tf.io.gfile.glob(file_pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord shards match {file_pattern!r}; build them with "
                                "`python -m data_prep.build_tfrecords`")
    return files


def make_dataset(file_pattern: str, batch_size: int, *, yaw_low: int = 0, yaw_high: int = 90,
                 shuffle: bool = True, repeat: bool = True, deterministic: bool = False,
                 seed: int | None = None, shuffle_buffer: int = 2048,
                 drop_remainder: bool = True, mirror_to_one_side: bool = True,
                 cache: bool = False) -> tf.data.Dataset:
    """Batches of training dicts from the shards matching `file_pattern`.

    yaw_low <= |yaw| <= yaw_high is the pose filter of spec 5 (the released config: 0..60).
    `deterministic=True` fixes the element order (with a seed: the same order on every run).
    `cache=True` keeps the decoded examples in memory after the first pass (small data sets).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not 0 <= yaw_low <= yaw_high <= 90:
        raise ValueError(f"need 0 <= yaw_low <= yaw_high <= 90, got {yaw_low}..{yaw_high}")
    files = list_shards(file_pattern)
    options = tf.data.Options()
    options.deterministic = deterministic
    autotune = tf.data.AUTOTUNE

    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
                       num_parallel_calls=autotune, deterministic=deterministic)
    if yaw_low > 0 or yaw_high < 90:
        yaw_only = {"yaw": tf.io.FixedLenFeature([], tf.int64)}

        def in_range(serialized):
            yaw = tf.abs(tf.io.parse_single_example(serialized, yaw_only)["yaw"])
            return (yaw >= yaw_low) & (yaw <= yaw_high)

        ds = ds.filter(in_range)
    ds = ds.map(lambda s: parse_pair(s, mirror_to_one_side), num_parallel_calls=autotune,
                deterministic=deterministic)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(to_training_batch, num_parallel_calls=autotune, deterministic=deterministic)
    return ds.prefetch(autotune).with_options(options)
