"""tpgan_tf/faces/landmarks_tf.py against its numpy original landmarks.py on the same points."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tests.faces.cases import LEFT, RIGHT, random_points
from tpgan_tf.faces import landmarks as lm_np
from tpgan_tf.faces import landmarks_tf


def test_round_half_away_matches_numpy():
    values = np.array([-2.5, -1.5, -0.5, -0.49, 0.0, 0.5, 1.5, 2.5, 2.4999, 127.5], np.float32)
    got = landmarks_tf.round_half_away(tf.constant(values)).numpy()
    np.testing.assert_array_equal(got, [-3, -2, -1, 0, 0, 1, 2, 3, 2, 128])
    np.testing.assert_array_equal(got, lm_np.round_half_away(values.astype(np.float64)))


def test_index_points_equal_to_index_points():
    points = random_points(200, seed=4, halves=80)
    got = landmarks_tf.index_points(tf.constant(points)).numpy()
    assert got.dtype == np.int32 and got.shape == (200, 5, 2)
    for b in range(len(points)):
        np.testing.assert_array_equal(got[b], lm_np.to_index_points(points[b].astype(np.float64)),
                                      err_msg=str(b))


def test_faces_left_and_mirror_landmarks():
    lm = tf.constant(np.stack([RIGHT, LEFT]))
    np.testing.assert_array_equal(landmarks_tf.faces_left(lm).numpy(), [False, True])
    frontal = RIGHT.copy()
    frontal[2, 0] = 0.5 * (frontal[0, 0] + frontal[1, 0])  # nose exactly in the middle
    assert not landmarks_tf.faces_left(tf.constant(frontal[None])).numpy()[0]
    mirrored = landmarks_tf.mirror_landmarks(tf.constant(RIGHT[None]), 128).numpy()[0]
    np.testing.assert_allclose(mirrored, lm_np.mirror_landmarks(RIGHT.astype(np.float64), 128),
                               atol=1e-5)
    np.testing.assert_allclose(mirrored[0], [127 - 82.7, 40.4], atol=1e-5)  # right eye -> left


def test_faces_left_and_mirroring_equal_numpy_on_random_points():
    points = random_points(300, seed=5, low=0, high=320)
    # Ties (nose exactly at the eye midpoint) are not "left"; eyes on half pixels so that the
    # midpoint is exact in float32 and float64 alike.
    points[:50, :2, 0] = np.round(points[:50, :2, 0] * 2) / 2
    points[:50, 2, 0] = 0.5 * (points[:50, 0, 0] + points[:50, 1, 0])
    left = landmarks_tf.faces_left(tf.constant(points)).numpy()
    mirrored = landmarks_tf.mirror_landmarks(tf.constant(points), 320).numpy()
    for b, p in enumerate(points.astype(np.float64)):
        assert left[b] == lm_np.faces_left(p), b
        np.testing.assert_allclose(mirrored[b], lm_np.mirror_landmarks(p, 320), atol=1e-4,
                                   err_msg=str(b))
    assert 0 < left.sum() < len(points) and not left[:50].any()


def test_where_batch_selects_whole_examples():
    a = tf.reshape(tf.range(24, dtype=tf.float32), [3, 2, 2, 2])
    b = -a
    got = landmarks_tf.where_batch(tf.constant([True, False, True]), a, b).numpy()
    np.testing.assert_array_equal(got[0], a[0])
    np.testing.assert_array_equal(got[1], b[1])
    np.testing.assert_array_equal(got[2], a[2])
    vec = landmarks_tf.where_batch(tf.constant([False, True]), tf.constant([1, 2]),
                                   tf.constant([7, 8])).numpy()
    np.testing.assert_array_equal(vec, [7, 2])
