"""tpgan_tf/faces/parts_tf.py (the in-graph patch windows, cutting and mirroring of the input
pipeline and the exported signatures) against its numpy original parts.py (tpgan spec 1.4) on the
same landmarks and images."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.faces.cases import LEFT, RIGHT, pattern_image, random_points
from tpgan_tf.faces import parts as pt
from tpgan_tf.faces import parts_tf
from tpgan_tf.faces.landmarks import mirror_landmarks, to_index_points
from tpgan_tf.faces.parts import PART_NAMES


def test_windows_equal_data_prep_part_windows():
    points = random_points(300, seed=1, halves=100)  # exact halves: the rounding ties
    got = parts_tf.part_windows(tf.constant(points), nose_offset=20).numpy()
    for b in range(len(points)):
        ref = pt.part_windows(to_index_points(points[b].astype(np.float64)), 20)
        for i, name in enumerate(PART_NAMES):
            assert tuple(got[b, i]) == ref[name][:2], (b, name)
    # One example by hand (spec 1.4, `.5pt` index = round(p) + 1):
    # eye_left (50.2, 41.0) -> (51, 42): rows 22.., cols 31..; nose (78.4, 64.6) -> (79, 66):
    # rows 66 - 21 = 45, cols 79 - 20 + 1 = 60; mouth corners (55.5, 88.1) -> (57, 89) (a tie,
    # rounded away from 0) and (80.49, 88.6) -> (81, 90): my = 179 // 2 = 89, mx = 138 // 2 = 69.
    hand = parts_tf.part_windows(tf.constant(RIGHT[None])).numpy()[0]
    np.testing.assert_array_equal(hand, [[22, 31], [21, 64], [45, 60], [73, 45]])


@pytest.mark.parametrize("nose_offset", [8, 32])
def test_windows_follow_the_camera_nose_offset(nose_offset):
    points = random_points(50, seed=nose_offset, low=0, high=128, halves=20)
    got = parts_tf.part_windows(tf.constant(points), nose_offset=nose_offset).numpy()
    for b in range(len(points)):
        ref = pt.part_windows(to_index_points(points[b].astype(np.float64)), nose_offset)
        np.testing.assert_array_equal(got[b], [ref[n][:2] for n in PART_NAMES], err_msg=str(b))


def test_cut_patches_equal_crop_parts_with_zero_fill():
    image = pattern_image()
    points = np.stack([RIGHT, RIGHT + np.float32([[-60, -30]]), RIGHT + np.float32([[55, 45]])])
    windows = parts_tf.part_windows(tf.constant(points))
    got = parts_tf.cut_patches(tf.constant(np.stack([image] * 3)), windows)
    for b in range(3):
        ref, padded = pt.crop_parts(image, to_index_points(points[b].astype(np.float64)), 20)
        for name in PART_NAMES:
            np.testing.assert_array_equal(got[name][b].numpy(), ref[name], err_msg=name)
        assert any(padded.values()) == (b > 0)  # the shifted faces reach outside the crop


def test_flip_and_mirror_patches_equal_numpy():
    images = np.stack([pattern_image(3), pattern_image(4)])
    np.testing.assert_array_equal(parts_tf.flip(tf.constant(images)).numpy(),
                                  np.stack([pt.mirror_image(i) for i in images]))
    patches = parts_tf.cut_patches(tf.constant(images),
                                   parts_tf.part_windows(tf.constant(np.stack([RIGHT, LEFT]))))
    mirrored = parts_tf.mirror_patches(patches)
    assert list(mirrored) == list(PART_NAMES)
    for b in range(2):
        ref = pt.mirror_patches({n: patches[n][b].numpy() for n in PART_NAMES})
        for name in PART_NAMES:
            np.testing.assert_array_equal(mirrored[name][b].numpy(), ref[name], err_msg=name)


def test_mirror_where_equals_mirror_sample():
    """Per example: patches cut from the unmirrored face, then (only where asked) the whole
    sample mirrored, as parts.mirror_sample does in numpy."""
    images = np.stack([pattern_image(5), pattern_image(6), pattern_image(7)])
    points = np.stack([RIGHT, LEFT, LEFT])
    flags = np.array([False, True, True])
    patches = parts_tf.cut_patches(tf.constant(images),
                                   parts_tf.part_windows(tf.constant(points)))
    image, out = parts_tf.mirror_where(tf.constant(flags), tf.constant(images), patches)
    for b in range(3):
        ref, padded = pt.crop_parts(images[b], to_index_points(points[b].astype(np.float64)), 20)
        ref_image = images[b]
        if flags[b]:
            ref_image, m_points, ref, _ = pt.mirror_sample(images[b], points[b], ref, padded)
            np.testing.assert_allclose(m_points, mirror_landmarks(points[b], 128))
        np.testing.assert_array_equal(image[b].numpy(), ref_image, err_msg=str(b))
        for name in PART_NAMES:
            np.testing.assert_array_equal(out[name][b].numpy(), ref[name], err_msg=f"{b} {name}")
