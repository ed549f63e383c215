"""Local fusion of the original `partCombiner` (spec 2.3).

Each part tensor is zero-padded to 128 x 128 at a FIXED template position (not the sample's
landmarks), and the four canvases are merged by an element-wise max. Because the padding is
zero, max(x, 0, 0, 0) = relu(x) wherever a single part covers a pixel: the fused tensors are
in effect ReLU'd. That quirk is kept.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES


def place_on_canvas(patch: tf.Tensor, part_name: str) -> tf.Tensor:
    """[B, h, w, C] patch -> [B, 128, 128, C] canvas, zero outside the part's template window."""
    (top, bottom), (left, right) = PART_BY_NAME[part_name].paddings
    return tf.pad(patch, [[0, 0], [top, bottom], [left, right], [0, 0]])


def fuse_parts(parts: dict) -> tf.Tensor:
    """dict part name -> [B, h, w, C] -> [B, 128, 128, C]: max over the four padded canvases."""
    canvases = [place_on_canvas(parts[name], name) for name in PART_NAMES]
    return tf.reduce_max(tf.stack(canvases, axis=0), axis=0)


@keras.saving.register_keras_serializable(package="tpgan_tf")
class PartCombiner(keras.layers.Layer):
    """Layer form of `fuse_parts` (no weights)."""

    def call(self, parts):
        return fuse_parts(parts)
