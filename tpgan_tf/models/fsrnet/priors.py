"""Facial prior targets of fsrnet spec 5: landmark heatmaps and one-hot parsing maps at the
prior net's resolution (64 x 64 for 128 x 128 faces), in TensorFlow, batched, graph-friendly.

The prior channels are landmark heatmaps first, then parsing maps (spec 5 recommendation):
K = num_landmarks + number of parsing classes.

Coordinates. Landmarks are (x, y) = (column, row) in pixels of the H x W image, 0-based,
with pixel i's centre at i. A map of size h = H / f covers f x f image pixels per cell, so
cell j's centre sits at image coordinate f j + (f - 1) / 2, i.e.

    u_map = (x + 0.5) / f - 0.5        (128 -> 64: u = x / 2 - 0.25)

the same half-pixel alignment as area downsampling, so heatmaps and the area-downsampled
parsing maps line up. Heatmaps are exp(-d^2 / (2 sigma^2)) around that point (maximum 1 at
the landmark itself, so 1 on the grid when it falls on a cell centre), zero for a missing
(NaN) landmark.

The label sets, remaps and prior sets are in prior_sets.py.
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.models.fsrnet.prior_sets import PriorSet, label_remap


def to_map_coordinates(landmarks, image_size: int, map_size: int) -> tf.Tensor:
    """Image-pixel (x, y) -> map-cell coordinates: (p + 0.5) * map/image - 0.5 (module doc).
    landmarks [..., 2] -> float32 [..., 2]."""
    scale = map_size / image_size
    return (tf.cast(landmarks, tf.float32) + 0.5) * scale - 0.5


def landmark_heatmaps(landmarks, image_size: int = 128, map_size: int = 64,
                      sigma: float = 1.0) -> tf.Tensor:
    """Gaussian heatmaps, one per landmark: landmarks [B, N, 2] (x, y) in image pixels
    (module doc) -> [B, map_size, map_size, N] float32, peak 1, zero where a landmark is NaN."""
    if sigma <= 0:
        raise ValueError(f"heatmap sigma must be > 0, got {sigma}")
    landmarks = tf.cast(tf.convert_to_tensor(landmarks), tf.float32)
    if landmarks.shape.rank != 3 or landmarks.shape[-1] != 2:
        raise ValueError(f"landmarks must be [B, N, 2] (x, y), got shape {landmarks.shape}")
    points = to_map_coordinates(landmarks, image_size, map_size)  # [B, N, 2]
    valid = tf.reduce_all(tf.math.is_finite(points), axis=-1)  # [B, N]
    points = tf.where(valid[..., None], points, tf.zeros_like(points))
    grid = tf.range(map_size, dtype=tf.float32)
    dx = grid[None, None, :] - points[:, :, 0:1]  # [B, N, W]
    dy = grid[None, None, :] - points[:, :, 1:2]  # [B, N, H]
    gx = tf.exp(-tf.square(dx) / (2.0 * sigma ** 2))
    gy = tf.exp(-tf.square(dy) / (2.0 * sigma ** 2))
    maps = gy[:, :, :, None] * gx[:, :, None, :]  # [B, N, H, W], separable Gaussian
    maps = maps * tf.cast(valid, tf.float32)[:, :, None, None]
    return tf.transpose(maps, [0, 2, 3, 1])


def parsing_one_hot(label_map, num_classes: int, remap=None, map_size: int = 64) -> tf.Tensor:
    """One-hot parsing maps, area-downsampled: label_map [B, H, W] (or [B, H, W, 1]) integer
    labels -> [B, map_size, map_size, num_classes] float32, each pixel summing to one.

    remap: optional table (label_remap) applied to the labels first. H and W must be
    multiples of map_size. Labels outside 0..num_classes-1 (after the remap, or outside the
    table before it) fail a tf.debugging assertion naming the problem.
    """
    labels = tf.convert_to_tensor(label_map)
    if labels.shape.rank == 4 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape.rank != 3:
        raise ValueError(f"label_map must be [B, H, W] or [B, H, W, 1], got shape {labels.shape}")
    h, w = labels.shape[1], labels.shape[2]
    if h is None or w is None or h % map_size or w % map_size or h // map_size != w // map_size:
        raise ValueError(f"label map H, W must be known equal multiples of {map_size}, "
                         f"got shape {labels.shape}")
    labels = tf.cast(labels, tf.int32)
    if remap is not None:
        table = tf.constant(remap, tf.int32)
        tf.debugging.assert_less(labels, len(remap), message="parsing label outside the remap table")
        tf.debugging.assert_non_negative(labels, message="negative parsing label")
        labels = tf.gather(table, labels)
    tf.debugging.assert_less(labels, num_classes, message=f"parsing label >= {num_classes} classes")
    tf.debugging.assert_non_negative(labels, message="negative parsing label")
    one_hot = tf.one_hot(labels, num_classes, dtype=tf.float32)
    factor = h // map_size
    if factor == 1:
        return one_hot
    return tf.nn.avg_pool2d(one_hot, factor, factor, "VALID")


def prior_maps(landmarks, label_map, prior_set: PriorSet, image_size: int = 128,
               sigma: float = 1.0) -> tf.Tensor:
    """The K-channel target p_gt: heatmaps of landmarks [B, N, 2], then the one-hot parsing
    of label_map [B, H, W] (labels of prior_set.label_map_set) -> [B, H/2, W/2, K] float32.
    The map size is half the image size (the prior net's stride-2 stem, spec 4.3)."""
    map_size = image_size // 2
    landmarks = tf.convert_to_tensor(landmarks)
    if landmarks.shape[1] != prior_set.num_landmarks:
        raise ValueError(f"expected {prior_set.num_landmarks} landmarks, got shape {landmarks.shape}")
    heat = landmark_heatmaps(landmarks, image_size, map_size, sigma)
    remap = label_remap(prior_set.label_map_set, prior_set.parsing_set)
    parsing = parsing_one_hot(label_map, prior_set.num_parsing, remap, map_size)
    return tf.concat([heat, parsing], axis=-1)


def from_map_coordinates(points, image_size: int, map_size: int) -> tf.Tensor:
    """Map-cell (u, v) -> image-pixel (x, y), the inverse of to_map_coordinates:
    x = (u + 0.5) * image/map - 0.5. [..., 2] -> float32 [..., 2]."""
    return (tf.cast(points, tf.float32) + 0.5) * (image_size / map_size) - 0.5


def heatmap_landmarks(heatmaps, image_size: int = 128) -> tf.Tensor:
    """Landmarks read off predicted heatmaps: [B, h, w, N] -> [B, N, 2] (x, y) in image pixels.

    Per channel the arg-max cell, moved a quarter cell towards the higher of its two
    neighbours in x and in y (the stacked-hourglass decoding), then mapped to image pixels
    (from_map_coordinates)."""
    maps = tf.cast(tf.convert_to_tensor(heatmaps), tf.float32)
    if maps.shape.rank != 4:
        raise ValueError(f"heatmaps must be [B, h, w, N], got shape {maps.shape}")
    h, w = int(maps.shape[1]), int(maps.shape[2])
    flat = tf.transpose(maps, [0, 3, 1, 2])  # [B, N, h, w]
    index = tf.argmax(tf.reshape(flat, [tf.shape(flat)[0], tf.shape(flat)[1], h * w]), axis=-1,
                      output_type=tf.int32)
    row, col = index // w, index % w

    def value(r, c):
        r, c = tf.clip_by_value(r, 0, h - 1), tf.clip_by_value(c, 0, w - 1)
        return tf.gather_nd(flat, tf.stack([r, c], axis=-1), batch_dims=2)

    dx = tf.sign(value(row, col + 1) - value(row, col - 1)) * 0.25
    dy = tf.sign(value(row + 1, col) - value(row - 1, col)) * 0.25
    points = tf.stack([tf.cast(col, tf.float32) + dx, tf.cast(row, tf.float32) + dy], axis=-1)
    return from_map_coordinates(points, image_size, w)
