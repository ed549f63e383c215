"""The shared paste-back (tpgan_tf/photos/paste.py): the enlarged-photo map, the feathered
mask and where a crop's pixels land, against values computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

from tpgan_tf.photos.paste import (enlarged_matrix, feather_mask, footprint, paste_face,
                                   warped_mask)


def test_enlarged_matrix_by_hand():
    """Photo pixel x is centred on pixels X = (x + 0.5) k - 0.5 of the photo enlarged k
    times: with the identity crop map and k = 8, X = 3.5 is photo (and crop) pixel 0 and
    X = 11.5 pixel 1. With crop = 2 x + (5, -3) and k = 4, X = (1.5, 5.5) is photo (0, 1),
    crop (5, -1)."""
    m = enlarged_matrix(np.array([[1.0, 0, 0], [0, 1, 0]]), 8)
    np.testing.assert_allclose(m @ [3.5, 3.5, 1], [0, 0], atol=1e-12)
    np.testing.assert_allclose(m @ [11.5, 19.5, 1], [1, 2], atol=1e-12)
    m = enlarged_matrix(np.array([[2.0, 0, 5], [0, 2, -3]]), 4)
    np.testing.assert_allclose(m @ [1.5, 5.5, 1], [5, -1], atol=1e-12)
    np.testing.assert_allclose(m[:, :2], [[0.5, 0], [0, 0.5]])


def test_feather_mask_by_hand():
    """size 8, band 2: distances from the outermost pixel 0 1 2 3 3 2 1 0, ramp
    smoothstep(d / 2) = 0, 0.5, 1, 1, 1, 1, 0.5, 0; the mask is the outer product."""
    ramp = np.array([0, 0.5, 1, 1, 1, 1, 0.5, 0])
    np.testing.assert_allclose(feather_mask(8, 0.25), np.outer(ramp, ramp), atol=1e-7)
    # band 4 (feather 0.5): d / 4 = 0.25 -> smoothstep 0.15625
    assert feather_mask(8, 0.5)[1, 3] == pytest.approx(0.15625 * 0.84375, abs=1e-7)
    assert feather_mask(128).shape == (128, 128) and feather_mask(128)[16:112, 16:112].min() == 1


def test_paste_by_a_translation_lands_where_computed():
    """crop = target - (10, 5): face pixel (c, r) lands on target (c + 10, r + 5), blended
    with the mask there: round(t + m (f - t)); every other pixel is the target's."""
    rng = np.random.default_rng(0)
    target = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    face = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    before = target.copy()
    out = paste_face(target, face, np.array([[1.0, 0, -10], [0, 1, -5]]), feather=0.25)
    mask = feather_mask(8, 0.25)[..., None]
    t = target[5:13, 10:18].astype(np.float64)
    expected = target.copy()
    expected[5:13, 10:18] = np.rint(t + mask * (face - t)).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)
    assert (out[6:12, 11:17] != target[6:12, 11:17]).any()  # the face is there
    # ... feathered: its outer ring (mask 0) keeps the target, the next ring is half-way
    ring = np.r_[target[5, 10:18], target[12, 10:18], target[5:13, 10], target[5:13, 17]]
    np.testing.assert_array_equal(np.r_[out[5, 10:18], out[12, 10:18], out[5:13, 10],
                                        out[5:13, 17]], ring)
    half = np.rint((target[6, 13].astype(float) + face[1, 3]) / 2)  # mask 0.5 x 1
    np.testing.assert_array_equal(out[6, 13], half)
    np.testing.assert_array_equal(target, before)  # a new array: the target is not written


def test_paste_by_a_rotation_and_a_scale():
    """A quarter turn, crop (x, y) = (Y - 3, 20 - X): face pixel (c, r) lands on target
    (X, Y) = (20 - r, c + 3). Band 1 (feather 0): the mask is 0 on the face's outer ring and
    1 inside, so the inner 6 x 6 face pixels appear exactly, turned."""
    face = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    target = np.full((30, 30, 3), 7, np.uint8)
    out = paste_face(target, face, np.array([[0.0, 1, -3], [-1, 0, 20]]), feather=0.0)
    for r in range(1, 7):
        for c in range(1, 7):
            np.testing.assert_array_equal(out[c + 3, 20 - r], face[r, c])
    changed = np.argwhere((out != 7).any(axis=2))
    assert changed[:, 0].min() == 4 and changed[:, 0].max() == 9  # Y = c + 3, c = 1..6
    assert changed[:, 1].min() == 14 and changed[:, 1].max() == 19  # X = 20 - r

    # Scale 2 (target -> crop halves): crop pixel c covers target X = 2c - 0.5 .. 2c + 1.5;
    # the mask (band 2 of an 8 crop) is 1 for crop 2..5, i.e. target 4..10, where a
    # constant face comes out exactly; it is 0 at crop 0 and 7 (X = 0, 14) and beyond.
    flat = np.full((8, 8, 3), 200, np.uint8)
    target = np.full((20, 20, 3), 10, np.uint8)
    out = paste_face(target, flat, np.array([[0.5, 0, 0], [0, 0.5, 0]]), feather=0.25)
    assert (out[4:11, 4:11] == 200).all()
    changed = np.argwhere((out != 10).any(axis=2))
    assert changed.min() == 1 and changed.max() == 13


def test_outside_the_mask_is_the_target_bit_for_bit():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    face = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    angle = np.deg2rad(20)
    lin = 0.7 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    m = np.hstack([lin, (np.array([15.5, 15.5]) - lin @ [40.0, 30.0])[:, None]])  # centre
    out = paste_face(target, face, m)
    mask = warped_mask(target.shape, 32, m)
    assert (mask > 0).sum() > 500 and mask.max() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(out[mask == 0], target[mask == 0])
    assert (out[mask > 0.5] != target[mask > 0.5]).any()
    # The mask's centre is where the crop's centre (15.5, 15.5) lands: (40, 30).
    ys, xs = np.nonzero(mask)
    w = mask[ys, xs]
    assert np.average(xs, weights=w) == pytest.approx(40.0, abs=0.05)
    assert np.average(ys, weights=w) == pytest.approx(30.0, abs=0.05)


def test_footprint_and_a_crop_outside_the_target():
    m = np.array([[1.0, 0, -10], [0, 1, -5]])
    # corners at x 9.5 .. 17.5, y 4.5 .. 12.5; 2 px more before, 3 after (floor / ceil + 1)
    assert footprint((20, 30), 8, m) == (7, 2, 21, 16)
    far = np.array([[1.0, 0, 100], [0, 1, 100]])  # the crop lies far up-left of the target
    assert footprint((20, 30), 8, far) is None
    target = np.zeros((20, 30, 3), np.uint8)
    np.testing.assert_array_equal(paste_face(target, np.ones((8, 8, 3), np.uint8), far), target)
    with pytest.raises(ValueError, match="square"):
        paste_face(target, np.ones((8, 6, 3), np.uint8), m)
