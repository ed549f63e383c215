"""DR-GAN's input pipeline: image records (tpgan_tf/data/image_records.py) -> training batches
(drgan spec 4.3, 4.4, 7).

Training examples (`make_dataset`) are NOT augmented: the aligned 128 crop is bilinearly
resized to data.load_size (110) and yielded as "source". Each training step augments its
batch itself (`augment_batch`) from one stateless seed per image that the task draws from its
checkpointed generator: a fresh draw for every D and G step, as the released code re-draws
crop, flip and rotation on every session.run (spec 4.3), or one draw per iteration shared by
all its steps (data.same_batch_for_d_and_g). Augmentation of one image (`augment`): optional
in-plane rotation U(-r, r) (official 10 degrees; bilinear here, the code's is bicubic) ->
random data.image_size (96) crop -> random horizontal flip that mirrors the pose label as well
(view index i of N symmetric views -> N - 1 - i, yaw -> -yaw; an image is never flipped
without its label) -> x / 127.5 - 1 in [-1, 1]. At test: the same resize, the centre crop, no
flip (`eval_input`; `centre_view` for a training batch). Only views with |yaw| <= data.max_yaw
are kept; the pose index is (yaw + max_yaw) / 15 in the config's pose set, whatever set the
records were built with.

The dataset holds no random state but its shuffle, so a checkpoint of its iterator and of the
task's generator (which makes every augmentation draw) resumes a run exactly.

Rows from `make_dataset` (B rows; with model.multi_images n > 1 every row holds n different
images of ONE subject, drawn by `group_by_window` over the shuffled stream):
    source    float32 [B, L, L, 3] in 0..255, L = load_size ([B, n, L, L, 3] for multi)
    identity  int32 [B]    class index: subject - 1 (Multi-PIE subjects 001-200 -> 0..199)
    pose      int32 [B]    view index                      ([B, n])
    yaw       int32 [B]    signed yaw in degrees           ([B, n])
    identities int32 [B, n] multi only: the identity of every image (equal along a row)
Training batches (`augment_batch`, what the steps use): "source" replaced by
    image     float32 [B, s, s, 3] in [-1, 1]        ([B, n, s, s, 3] for multi)
and pose / yaw after the flip, plus
    flipped   bool [B]     whether the image was mirrored ([B, n])
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


def augment(image, pose, yaw, seed, *, image_size: int, num_views: int, flip: bool = True,
            max_rotation: float = 0.0) -> dict:
    """One training image (module doc): float32 [L, L, 3] in 0..255 (the load_size resize),
    its view index and yaw, a stateless seed int64 [2] -> {"image" [s, s, 3] in [-1, 1],
    "pose", "yaw", "flipped"}."""
    crop_seed, flip_seed, rot_seed = tf.unstack(
        tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3))
    x = tf.cast(image, tf.float32)
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


def augment_batch(batch: dict, seeds, data) -> dict:
    """The training batch of rows from make_dataset (module doc): every image augmented with
    its own seed. seeds: int64 [B, 2] ([B, n, 2] for multi), one per image; the same seeds
    give the same batch (stateless ops). data: the config's `data` section."""
    source = batch["source"]
    size, load = data.image_size, source.shape[-2]
    lead = tf.shape(batch["pose"])
    pose, yaw = tf.reshape(batch["pose"], [-1]), tf.reshape(batch["yaw"], [-1])
    out = tf.map_fn(
        lambda a: augment(a[0], a[1], a[2], a[3], image_size=size, num_views=data.num_views,
                          flip=data.flip, max_rotation=data.max_rotation),
        (tf.reshape(source, [-1, load, load, 3]), pose, yaw,
         tf.reshape(tf.cast(seeds, tf.int64), [-1, 2])),
        fn_output_signature={"image": tf.TensorSpec([size, size, 3], tf.float32),
                             "pose": pose.dtype, "yaw": yaw.dtype, "flipped": tf.bool})
    rows = {k: v for k, v in batch.items() if k != "source"}
    rows["image"] = tf.reshape(out["image"], tf.concat([lead, [size, size, 3]], axis=0))
    rows.update({k: tf.reshape(out[k], lead) for k in ("pose", "yaw", "flipped")})
    if batch["pose"].shape.is_fully_defined():  # keep the static shapes for the networks
        rows["image"].set_shape([*batch["pose"].shape, size, size, 3])
    return rows


def centre_view(batch: dict, data) -> dict:
    """The rows of make_dataset as test inputs: the centre image_size crop of each source
    image in [-1, 1], labels as they are, nothing flipped (monitoring, spec 4.3 test rule)."""
    rows = {k: v for k, v in batch.items() if k != "source"}
    rows["image"] = normalise(centre_crop(batch["source"], data.image_size))
    rows["flipped"] = tf.zeros_like(batch["pose"], tf.bool)
    return rows


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
    """Rows of the module doc (un-augmented; see augment_batch) from the shards matching
    `file_pattern`.

    data: the config's `data` section (load_size, max_yaw). batch_size: rows per batch (this
    replica's). multi_images n > 1: n images of one subject per row. deterministic with a
    seed: the same order on every run.
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
    # Resized after the shuffle buffer (which holds the 128 uint8 crops); no augmentation
    # here: each training step draws its own (module doc).
    def to_source(ex):
        rows = {k: v for k, v in ex.items() if k != "image"}
        return {"source": resize(ex["image"], data.load_size), **rows}

    ds = ds.map(to_source, num_parallel_calls=autotune, deterministic=deterministic)
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
    """n random rows of make_dataset (numpy; source images uniform in 0..255 at load_size,
    identities below model.num_identities, consistent pose / yaw), for tests and benchmarks."""
    rng = np.random.default_rng(seed)
    m, d = cfg.model, cfg.data
    k = m.multi_images
    shape = (n,) if k == 1 else (n, k)
    pose = rng.integers(0, d.num_views, shape).astype(np.int32)
    identity = rng.integers(0, m.num_identities, n).astype(np.int32)
    out = {"source": rng.uniform(0, 255, (*shape, d.load_size, d.load_size, 3)).astype(np.float32),
           "identity": identity, "pose": pose,
           "yaw": (pose * YAW_STEP - d.max_yaw).astype(np.int32)}
    if k > 1:
        out["identities"] = np.repeat(identity[:, None], k, axis=1)
    return out
