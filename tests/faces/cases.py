"""Landmarks and images shared by the numpy / TF twin tests of tpgan_tf/faces (and the
TP-GAN frontalizer tests, which feed the same faces through the in-graph training input)."""
from __future__ import annotations

import numpy as np

# Template-like crop landmarks (0-based floats) of a face looking image-right and image-left.
RIGHT = np.array([[50.2, 41.0], [82.7, 40.4], [78.4, 64.6], [55.5, 88.1], [80.49, 88.6]],
                 np.float32)
LEFT = np.array([[44.5, 40.5], [76.6, 41.2], [48.3, 65.0], [47.6, 88.7], [72.2, 88.2]],
                np.float32)


def pattern_image(seed=0):
    """A random uint8 [128, 128, 3] face stand-in (every pixel different enough to locate)."""
    return np.random.default_rng(seed).integers(0, 256, (128, 128, 3), dtype=np.uint8)


def random_points(n, seed, low=-30.0, high=160.0, halves=0):
    """n random float32 [5, 2] landmark sets; the first `halves` lie on exact .5 ties."""
    points = np.random.default_rng(seed).uniform(low, high, (n, 5, 2)).astype(np.float32)
    points[:halves] = np.round(points[:halves] * 2) / 2
    return points
