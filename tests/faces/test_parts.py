"""Spec 1.4 part table, patch windows and mirroring (tpgan_tf/faces/parts.py).

The image encodes each pixel's position: channel 0 = row * 1000 + col, channel 1 = 1 (so zero
padding is visible even at pixel (0, 0)). A patch whose top-left is (top, left) must then hold
(top + r) * 1000 + (left + c) at (r, c).
"""
from __future__ import annotations

import numpy as np
import pytest

from tpgan_tf.faces import parts as pt
from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES, PARTS

# `.5pt` convention integers (used directly as 0-based indices, as in the original).
LM = np.array([[44, 41], [86, 41], [64, 65], [48, 89], [83, 90]])


def _pattern(size=128):
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    return np.stack([rows * 1000 + cols, np.ones_like(rows)], axis=-1)


def _expected(top, left, h, w):
    r, c = np.mgrid[top:top + h, left:left + w]
    return (r * 1000 + c).astype(np.float64)


def test_windows_follow_spec_formulas():
    img = _pattern()
    patches, padded = pt.crop_parts(img, LM, nose_offset=25)
    assert list(patches) == list(PART_NAMES) and not any(padded.values())
    for part in PARTS:
        assert patches[part.name].shape == (part.height, part.width, 2)
    # Hand-computed from tpgan spec 1.4:
    #   eyes  rows [y-20, y+20), cols [x-20, x+20)
    #   mouth my = (89+90)//2 = 89, mx = (48+83)//2 = 65 -> rows [73, 105), cols [41, 89)
    #   nose  rows [65-21, 65+11) = [44, 76), cols [64-25+1, 64-25+41) = [40, 80)
    expected_top_left = {"eye_left": (21, 24), "eye_right": (21, 66), "nose": (44, 40),
                         "mouth": (73, 41)}
    for part in PARTS:
        top, left = expected_top_left[part.name]
        np.testing.assert_array_equal(patches[part.name][..., 0],
                                      _expected(top, left, part.height, part.width))
        assert pt.part_windows(LM, 25)[part.name] == (top, left, part.height, part.width)
    # Corner values written out once more, literally.
    assert patches["eye_left"][0, 0, 0] == 21024 and patches["eye_left"][-1, -1, 0] == 60063
    assert patches["mouth"][-1, -1, 0] == 104088
    assert patches["nose"][21, 24, 0] == 65064  # the tip sits at row 21, column o - 1


def test_float_landmarks_are_rounded_half_away():
    img = _pattern()
    ref, _ = pt.crop_parts(img, LM, 20)
    floats = LM + np.array([[-0.5, -0.5], [0.49, 0.2], [-0.3, 0.4999], [0.0, 0.0], [-0.5, 0]])
    # -0.5 on 44 gives 43.5 -> 44 (half away from zero), 86.49 -> 86, etc.
    got, _ = pt.crop_parts(img, floats, 20)
    for name in PART_NAMES:
        np.testing.assert_array_equal(got[name], ref[name])
    shifted, _ = pt.crop_parts(img, LM + 0.51, 20)  # 44.51 -> 45: every window moves by one
    assert shifted["eye_left"][0, 0, 0] == ref["eye_left"][0, 0, 0] + 1001


def test_border_window_is_zero_padded_not_shifted():
    img = _pattern()
    lm = LM.copy()
    lm[0] = (5, 10)  # left eye window rows [-10, 30), cols [-15, 25)
    lm[3:5] = (120, 100), (126, 101)  # mouth mx = 123 -> cols [99, 147)
    patches, padded = pt.crop_parts(img, lm, 20)
    assert padded == {"eye_left": True, "eye_right": False, "nose": False, "mouth": True}
    eye = patches["eye_left"]
    assert np.all(eye[:10, :, 1] == 0) and np.all(eye[:, :15, 1] == 0)
    assert np.all(eye[10:, 15:, 1] == 1)
    np.testing.assert_array_equal(eye[10:, 15:, 0], _expected(0, 0, 30, 25))
    mouth = patches["mouth"]  # rows (100+101)//2 - 16 = 84 .. 116
    np.testing.assert_array_equal(mouth[:, :29, 0], _expected(84, 99, 32, 29))
    assert np.all(mouth[:, 29:, 1] == 0)
    # Entirely outside: all zeros, flagged, no crash.
    far = LM.copy()
    far[2] = (-100, 400)
    p, pad = pt.crop_parts(img, far, 20)
    assert pad["nose"] and not p["nose"].any() and p["nose"].shape == (32, 40, 2)
    # Each side alone sets the flag; a window touching the last row/column does not.
    for top, left, want in [(-1, 50, True), (97, 50, True), (50, -1, True), (50, 89, True),
                            (88, 88, False), (0, 0, False)]:
        patch, flag = pt.crop_window(img, top, left, 40, 40)
        assert flag == want, (top, left)
        assert bool((patch[..., 1] == 0).any()) == want


def test_uint8_and_gray_images_keep_dtype():
    img = np.arange(128 * 128, dtype=np.uint32).reshape(128, 128).astype(np.uint8)
    p, _ = pt.crop_parts(img, LM, 20)
    assert p["eye_left"].dtype == np.uint8 and p["eye_left"].shape == (40, 40)
    np.testing.assert_array_equal(p["eye_left"], img[21:61, 24:64])


def test_mirror_sample_flips_and_swaps():
    img = _pattern()
    lm = LM.copy()
    lm[0] = (15, 41)  # left eye padded, right eye not: the flags must swap too
    patches, padded = pt.crop_parts(img, lm, 20)
    m_img, m_lm, m_patches, m_padded = pt.mirror_sample(img, lm, patches, padded,
                                                        one_based=True)
    np.testing.assert_array_equal(m_img[:, 0], img[:, 127])
    np.testing.assert_array_equal(m_patches["eye_left"], patches["eye_right"][:, ::-1])
    np.testing.assert_array_equal(m_patches["eye_right"], patches["eye_left"][:, ::-1])
    for name in ("nose", "mouth"):
        np.testing.assert_array_equal(m_patches[name], patches[name][:, ::-1])
    assert m_padded["eye_right"] and not m_padded["eye_left"]
    # `.5pt` (1-based) values: x -> 129 - x, eyes and mouth corners swapped.
    np.testing.assert_array_equal(m_lm, [[43, 41], [114, 41], [65, 65], [46, 90], [81, 89]])
    assert m_lm[0, 0] < m_lm[1, 0] and m_lm[3, 0] < m_lm[4, 0]
    # Each mirrored point sees the same pixel as its source point (1-based -> index - 1).
    src = lm[[1, 0, 2, 4, 3]]
    for (x, y), (mx, my) in zip(src, m_lm):
        assert m_img[my - 1, mx - 1, 0] == img[y - 1, x - 1, 0]


def test_part_table_matches_spec_2_3():
    expected = {"eye_left": ((20, 68), (23, 65)), "eye_right": ((20, 68), (65, 23)),
                "nose": ((48, 48), (43, 45)), "mouth": ((72, 24), (40, 40))}
    assert {n: PART_BY_NAME[n].paddings for n in PART_NAMES} == expected
    assert pt.POSE_INDEPENDENT_NOSE_OFFSET == 20  # spec 1.4: the centred nose rule


def test_index_landmarks_rejects_bad_points():
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        pt.index_landmarks(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="finite"):
        pt.index_landmarks(np.full((5, 2), np.nan))
    got = pt.index_landmarks(np.array([[0.5, -0.5], [1.49, 2.5], [3, 4], [5, 6], [7, 8]]))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [[1, -1], [1, 3], [3, 4], [5, 6], [7, 8]])


def test_mirror_patches_without_flags():
    img = _pattern()
    patches, _ = pt.crop_parts(img, LM, 20)
    mirrored = pt.mirror_patches(patches)
    assert list(mirrored) == list(PART_NAMES)
    np.testing.assert_array_equal(mirrored["eye_left"], patches["eye_right"][:, ::-1])
    np.testing.assert_array_equal(mirrored["mouth"], patches["mouth"][:, ::-1])
    # The mirror of the mirror is the original.
    for name, value in pt.mirror_patches(mirrored).items():
        np.testing.assert_array_equal(value, patches[name])
