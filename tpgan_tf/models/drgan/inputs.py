"""DR-GAN's input pipeline: image records (tpgan_tf/data/image_records.py) -> training batches
(drgan spec 4.3, 4.4, 7).

Per example (training): the aligned 128 crop -> bilinear resize to data.load_size (110) ->
optional in-plane rotation U(-r, r) (official 10 degrees; bilinear here, the code's is bicubic)
-> random data.image_size (96) crop -> random horizontal flip that mirrors the pose label as
well (view index i of N symmetric views -> N - 1 - i, yaw -> -yaw; an image is never flipped
without its label) -> x / 127.5 - 1 in [-1, 1]. At test: the same resize, the centre crop, no
flip. Only views with |yaw| <= data.max_yaw are kept; the pose index is (yaw + max_yaw) / 15
in the config's pose set, whatever set the records were built with.

The random draws of each example come from a seed of `tf.data.Dataset.random` (stateless
ops), so the input position, augmentation included, is part of a checkpoint of the iterator
and a resumed run sees the same batches.

Batches (B rows; with model.multi_images n > 1 every row holds n different images of ONE
subject, drawn by `group_by_window` over the shuffled stream):
    image     float32 [B, s, s, 3] in [-1, 1]        ([B, n, s, s, 3] for multi)
    identity  int32 [B]    class index: subject - 1 (Multi-PIE subjects 001-200 -> 0..199)
    pose      int32 [B]    view index after the flip       ([B, n])
    yaw       int32 [B]    signed yaw in degrees after the flip ([B, n])
    flipped   bool [B]     whether the example was mirrored ([B, n])
    identities int32 [B, n] multi only: the identity of every image (equal along a row)
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tpgan_tf.data import pipeline
from tpgan_tf.data.image_records import parse_image

YAW_STEP = 15
METADATA = ("subject", "session", "recording", "illumination", "path", "camera")


def mirror_pose(pose, num_views: int):
    """The view index of the mirrored image: i -> N - 1 - i (the N views are symmetric)."""
    return num_views - 1 - pose


def pose_of_yaw(yaw, max_yaw: int):
    """View index (yaw + max_yaw) / 15 of int yaws (degrees) in the pose set within +-max_yaw."""
    return (yaw + max_yaw) // YAW_STEP


def normalise(image_uint8_or_float):
    """0..255 -> [-1, 1]: x / 127.5 - 1 (drgan spec 4.3)."""
    return tf.cast(image_uint8_or_float, tf.float32) / 127.5 - 1.0


def resize(image, load_size: int):
    """[H, W, 3] or [B, H, W, 3] -> load_size x load_size, bilinear, float32 0..255."""
    return tf.image.resize(tf.cast(image, tf.float32), [load_size, load_size],
                           method="bilinear", antialias=False)


def centre_crop(image, size: int):
    """The central size x size window of [..., L, L, 3] (offset (L - size) // 2)."""
    load = image.shape[-2]
    top = (load - size) // 2
    return image[..., top:top + size, top:top + size, :]


def eval_input(image_uint8, load_size: int, image_size: int):
    """Aligned crops uint8 [..., 128, 128, 3] -> the test input [..., s, s, 3] in [-1, 1]:
    resize to load_size, centre crop (drgan spec 4.3, 7)."""
    return normalise(centre_crop(resize(image_uint8, load_size), image_size))


def rotate(image, degrees):
    """Rotates [H, W, C] float by `degrees` (counter-clockwise on screen) about the centre,
    bilinear, zero fill."""
    h, w = image.shape[0], image.shape[1]
    a = degrees * math.pi / 180.0
    cos, sin = tf.cos(a), tf.sin(a)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    # Output pixel (x, y) samples input (x', y') = R^-1 ((x, y) - c) + c.
    transform = tf.stack([cos, -sin, cx - cos * cx + sin * cy,
                          sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0])
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=tf.cast(transform[None], tf.float32),
        output_shape=tf.constant([h, w], tf.int32), fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")
    return out[0]


def augment(image_uint8, pose, yaw, seed, *, load_size: int, image_size: int,
            num_views: int, flip: bool = True, max_rotation: float = 0.0) -> dict:
    """One training example (module doc): uint8 [128, 128, 3], its view index and yaw, a
    stateless seed int64 [2] -> {"image" [s, s, 3] in [-1, 1], "pose", "yaw", "flipped"}."""
    crop_seed, flip_seed, rot_seed = tf.unstack(
        tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3))
    x = resize(image_uint8, load_size)
    if max_rotation > 0:
        angle = tf.random.stateless_uniform([], rot_seed, -max_rotation, max_rotation)
        x = rotate(x, angle)
    x = tf.image.stateless_random_crop(x, [image_size, image_size, 3], crop_seed)
    flipped = tf.constant(False)
    if flip:
        flipped = tf.random.stateless_uniform([], flip_seed) < 0.5
        x = tf.where(flipped, tf.reverse(x, axis=[1]), x)
        # The label goes with the image (drgan spec 7): never one without the other.
        pose = tf.where(flipped, mirror_pose(pose, num_views), pose)
        yaw = tf.where(flipped, -yaw, yaw)
    return {"image": normalise(x), "pose": pose, "yaw": yaw, "flipped": flipped}


def _in_pose_set(max_yaw: int):
    yaw_only = {"yaw": tf.io.FixedLenFeature([], tf.int64)}

    def keep(serialized):
        yaw = tf.io.parse_single_example(serialized, yaw_only)["yaw"]
        return (tf.abs(yaw) <= max_yaw) & (yaw % YAW_STEP == 0)
    return keep


def make_dataset(file_pattern: str, batch_size: int, data, *, multi_images: int = 1,
                 shuffle: bool = True, repeat: bool = True, deterministic: bool = False,
                 seed: int | None = None, shuffle_buffer: int = 2048, cache: bool = False,
                 input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Training batches of the module doc from the shards matching `file_pattern`.

    data: the config's `data` section (image_size, load_size, max_yaw, flip, max_rotation).
    batch_size: rows per batch (this replica's). multi_images n > 1: n images of one subject
    per row. deterministic with a seed: the same order and augmentation on every run.
    input_context: this replica's share under tf.distribute (data/pipeline.read_records).
    """
    if batch_size < 1 or multi_images < 1:
        raise ValueError(f"batch_size and multi_images must be >= 1, got {batch_size}, "
                         f"{multi_images}")
    autotune = tf.data.AUTOTUNE
    num_views = data.num_views
    ds = pipeline.read_records(file_pattern, shuffle=shuffle, deterministic=deterministic,
                               seed=seed, input_context=input_context)
    ds = ds.filter(_in_pose_set(data.max_yaw))

    def parse(serialized):
        ex = parse_image(serialized)
        return {"image": ex["image"], "identity": ex["subject"] - 1,
                "pose": pose_of_yaw(ex["yaw"], data.max_yaw), "yaw": ex["yaw"]}

    ds = ds.map(parse, num_parallel_calls=autotune, deterministic=deterministic)
    ds = pipeline.cache_shuffle_repeat(ds, cache=cache, shuffle=shuffle,
                                       shuffle_buffer=shuffle_buffer, seed=seed, repeat=repeat)
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds))

    def train_example(ex, s):
        out = augment(ex["image"], ex["pose"], ex["yaw"], s, load_size=data.load_size,
                      image_size=data.image_size, num_views=num_views, flip=data.flip,
                      max_rotation=data.max_rotation)
        return {**out, "identity": ex["identity"]}

    ds = ds.map(train_example, num_parallel_calls=autotune, deterministic=deterministic)
    if multi_images > 1:
        # n different images of one subject per row: windows of n over the shuffled stream,
        # keyed by subject (within one pass no image repeats; across the repeat boundary a
        # subject with fewer than n remaining images could see one twice).
        n = multi_images
        ds = ds.group_by_window(
            key_func=lambda ex: tf.cast(ex["identity"], tf.int64),
            reduce_func=lambda key, window: window.batch(n, drop_remainder=True),
            window_size=n)
        ds = ds.map(lambda ex: {**ex, "identity": ex["identity"][0],
                                "identities": ex["identity"]},
                    num_parallel_calls=autotune, deterministic=deterministic)
    ds = ds.batch(batch_size, drop_remainder=True)
    return ds.prefetch(autotune).with_options(pipeline.options(deterministic))


def eval_dataset(file_pattern: str, batch_size: int, data, max_examples: int = 0
                 ) -> tf.data.Dataset:
    """Test batches in a fixed order (sorted shards one after the other; |yaw| <= max_yaw):
    {"image": the test input [b, s, s, 3] in [-1, 1], "aligned": uint8 [b, 128, 128, 3],
    "identity", "pose", "yaw", and METADATA}; the last batch may be smaller. max_examples > 0
    keeps the first ones."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    ds = tf.data.TFRecordDataset(pipeline.list_shards(file_pattern))
    ds = ds.filter(_in_pose_set(data.max_yaw))
    if max_examples > 0:
        ds = ds.take(max_examples)

    def parse(serialized):
        ex = parse_image(serialized)
        out = {"image": eval_input(ex["image"], data.load_size, data.image_size),
               "aligned": ex["image"], "identity": ex["subject"] - 1,
               "pose": pose_of_yaw(ex["yaw"], data.max_yaw), "yaw": ex["yaw"]}
        out.update({k: ex[k] for k in METADATA})
        return out

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def random_examples(n: int, cfg, seed: int = 0) -> dict:
    """n random rows of the training batch (numpy; images uniform in [-1, 1], identities
    below model.num_identities, consistent pose / yaw), for tests and benchmarks."""
    rng = np.random.default_rng(seed)
    m, d = cfg.model, cfg.data
    k = m.multi_images
    shape = (n,) if k == 1 else (n, k)
    s = d.image_size
    pose = rng.integers(0, d.num_views, shape).astype(np.int32)
    identity = rng.integers(0, m.num_identities, n).astype(np.int32)
    out = {"image": rng.uniform(-1, 1, (*shape, s, s, 3)).astype(np.float32),
           "identity": identity, "pose": pose,
           "yaw": (pose * YAW_STEP - d.max_yaw).astype(np.int32),
           "flipped": np.zeros(shape, bool)}
    if k > 1:
        out["identities"] = np.repeat(identity[:, None], k, axis=1)
    return out
