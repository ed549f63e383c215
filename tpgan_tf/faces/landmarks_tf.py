"""TF twins of tpgan_tf/faces/landmarks.py for graphs (input pipeline, exported signatures).

Same conventions (0-based pixel centres; `.5pt` index points = round + 1; point order and
MIRROR_ORDER of landmarks.py); tests/faces/test_landmarks_tf.py checks each against numpy.
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.faces.landmarks import MIRROR_ORDER


def round_half_away(values) -> tf.Tensor:
    """MATLAB round (halves away from zero), as landmarks.round_half_away; int32."""
    v = tf.convert_to_tensor(values)
    return tf.cast(tf.sign(v) * tf.floor(tf.abs(v) + 0.5), tf.int32)


def index_points(landmarks) -> tf.Tensor:
    """0-based float landmarks [..., 5, 2] -> `.5pt` integers round(p) + 1 (int32), the indices
    the original used for its patch windows (landmarks.to_index_points)."""
    return round_half_away(landmarks) + 1


def faces_left(landmarks: tf.Tensor) -> tf.Tensor:
    """bool [B]: the face looks image-left (negative yaw), as landmarks.faces_left."""
    return landmarks[:, 2, 0] < 0.5 * (landmarks[:, 0, 0] + landmarks[:, 1, 0])


def mirror_landmarks(landmarks: tf.Tensor, width: int) -> tf.Tensor:
    """[..., 5, 2] 0-based landmarks of the left-right flipped image (x -> width - 1 - x) with
    eyes and mouth corners swapped (landmarks.mirror_landmarks, one_based=False)."""
    p = tf.gather(landmarks, list(MIRROR_ORDER), axis=-2)
    return tf.stack([(width - 1) - p[..., 0], p[..., 1]], axis=-1)


def where_batch(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Per-example select: cond [B] bool, a and b [B, ...] -> a where cond else b."""
    shape = tf.concat([tf.shape(cond), tf.ones([tf.rank(a) - 1], tf.int32)], axis=0)
    return tf.where(tf.reshape(cond, shape), a, b)
