"""TF twins of tpgan_tf/faces/parts.py: part windows, patch cutting and mirroring on batches.

Used by the TP-GAN input pipeline (windows stored in the records) and by the exported
signatures (windows computed in-graph from landmarks); tests/faces/test_parts_tf.py checks
every function against its numpy original in parts.py.
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.faces.landmarks_tf import index_points, where_batch
from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES, POSE_INDEPENDENT_NOSE_OFFSET


def part_windows(landmarks: tf.Tensor,
                 nose_offset: int = POSE_INDEPENDENT_NOSE_OFFSET) -> tf.Tensor:
    """tpgan spec 1.4 windows for 0-based float landmarks [B, 5, 2] -> int32 [B, 4, 2]
    (top, left) in PART_NAMES order; equal to parts.part_windows(to_index_points(landmarks),
    nose_offset) for each example."""
    p = index_points(landmarks)
    x, y = p[..., 0], p[..., 1]
    eye, nose, mouth = PART_BY_NAME["eye_left"], PART_BY_NAME["nose"], PART_BY_NAME["mouth"]
    # Mouth centre: floor of the corner mean (the original's int // int floors).
    my = tf.math.floordiv(y[:, 3] + y[:, 4], 2)
    mx = tf.math.floordiv(x[:, 3] + x[:, 4], 2)
    tops = [y[:, 0] - eye.height // 2, y[:, 1] - eye.height // 2,
            y[:, 2] + 11 - nose.height,  # tpgan spec 1.4: nose rows [y2 - 21, y2 + 11)
            my - mouth.height // 2]
    lefts = [x[:, 0] - eye.width // 2, x[:, 1] - eye.width // 2,
             x[:, 2] - nose_offset + 1,  # tpgan spec 1.4: nose cols [x2 - o + 1, x2 - o + 41)
             mx - mouth.width // 2]
    return tf.stack([tf.stack(tops, axis=1), tf.stack(lefts, axis=1)], axis=2)


def cut_patches(images: tf.Tensor, windows: tf.Tensor) -> dict:
    """images [B, H, W, C] (any dtype), windows int [B, 4, 2] (top, left) -> {part: [B, h, w, C]}.

    A window reaching outside the image is zero-filled there, never shifted (as
    parts.crop_window; the original had no bounds check, tpgan spec 1.4).
    """
    windows = tf.cast(windows, tf.int32)
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    channels = images.shape[-1]
    patches = {}
    for i, name in enumerate(PART_NAMES):
        part = PART_BY_NAME[name]
        rows = windows[:, i, 0:1] + tf.range(part.height)[None, :]  # [B, h]
        cols = windows[:, i, 1:2] + tf.range(part.width)[None, :]  # [B, w]
        picked = tf.gather(images, tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1)
        picked = tf.gather(picked, tf.clip_by_value(cols, 0, width - 1), axis=2, batch_dims=1)
        inside = (((rows >= 0) & (rows < height))[:, :, None, None]
                  & ((cols >= 0) & (cols < width))[:, None, :, None])
        patch = tf.where(inside, picked, tf.zeros_like(picked))
        patches[name] = tf.ensure_shape(patch, [None, part.height, part.width, channels])
    return patches


def flip(images: tf.Tensor) -> tf.Tensor:
    """Left-right flip of [B, H, W, C]."""
    return tf.reverse(images, axis=[2])


def mirror_patches(patches: dict) -> dict:
    """tpgan spec 1.4 patch mirroring of a batch: every patch flipped, the new left eye is the
    flipped right-eye patch (parts.mirror_patches)."""
    swap = {"eye_left": "eye_right", "eye_right": "eye_left"}
    return {name: flip(patches[swap.get(name, name)]) for name in PART_NAMES}


def mirror_where(mirrored: tf.Tensor, image: tf.Tensor, patches: dict) -> tuple[tf.Tensor, dict]:
    """Mirrors the examples where `mirrored` [B] is True (image flipped, patches mirrored and
    swapped); the others pass unchanged. Patches must have been cut from the UNmirrored
    image (tpgan spec 1.4)."""
    flipped = mirror_patches(patches)
    return (where_batch(mirrored, flip(image), image),
            {n: where_batch(mirrored, flipped[n], patches[n]) for n in PART_NAMES})
