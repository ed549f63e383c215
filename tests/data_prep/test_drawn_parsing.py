"""Parsing maps drawn from five points (data_prep/drawn_parsing.py): pixels inside and outside
each part against shapes computed by hand, the painting order, left / right, rotation with the
face, and points that make no face."""
from __future__ import annotations

import numpy as np
import pytest

from data_prep.drawn_parsing import draw_parsing

# An upright face: eyes (40, 50) and (80, 50), nose tip (60, 70), mouth corners (45, 90) and
# (75, 90). By hand: E = (60, 50), d = 40, u = (1, 0), v = (0, 1), M = (60, 90), h = 40,
# w = (1, 0), m = 15.
POINTS = [(40, 50), (80, 50), (60, 70), (45, 90), (75, 90)]
SIZE = 128
BG, SKIN, L_BROW, R_BROW, L_EYE, R_EYE, NOSE, U_LIP, L_LIP = 0, 1, 2, 3, 4, 5, 6, 7, 9


@pytest.fixture(scope="module")
def labels():
    return draw_parsing(POINTS, SIZE)


def at(labels, x, y):
    return int(labels[y, x])


def test_skin_ellipse_by_hand(labels):
    # centre E + 0.5 h v = (60, 70); semi-axes 1.1 d = 44 across, 1.4 h = 56 down
    assert at(labels, 60 + 44, 70) == SKIN and at(labels, 60 + 45, 70) == BG
    assert at(labels, 60 - 44, 70) == SKIN and at(labels, 60 - 45, 70) == BG
    assert at(labels, 60, 70 - 56) == SKIN and at(labels, 60, 70 - 57) == BG
    assert at(labels, 60, 70 + 56) == SKIN and at(labels, 60, 70 + 57) == BG
    # (x - 60)^2 / 44^2 + (y - 70)^2 / 56^2: (90, 110) gives 0.465 + 0.510 = 0.975 <= 1,
    # (92, 110) gives 0.529 + 0.510 = 1.039 > 1
    assert at(labels, 90, 110) == SKIN and at(labels, 92, 110) == BG


def test_eyes_by_hand(labels):
    # centred on the eye points, semi-axes 0.22 d = 8.8 along x, 0.09 d = 3.6 along y
    for (x, y), eye in ((POINTS[0], L_EYE), (POINTS[1], R_EYE)):
        assert at(labels, x, y) == eye
        assert at(labels, x + 8, y) == eye and at(labels, x - 8, y) == eye
        assert at(labels, x + 9, y) == SKIN and at(labels, x - 9, y) == SKIN
        assert at(labels, x, y + 3) == eye and at(labels, x, y + 4) == SKIN
    # image-left is "left"
    assert at(labels, 40, 50) == L_EYE and at(labels, 80, 50) == R_EYE


def test_brows_by_hand(labels):
    # centres 0.3 d = 12 above each eye, (40, 38) and (80, 38); semi-axes 12 and 2.8
    for x, brow in ((40, L_BROW), (80, R_BROW)):
        assert at(labels, x, 38) == brow
        assert at(labels, x + 12, 38) == brow and at(labels, x + 13, 38) == SKIN
        assert at(labels, x, 36) == brow and at(labels, x, 35) == SKIN


def test_nose_quadrilateral_by_hand(labels):
    # bridge E + 0.25 (n - E) = (60, 55), 0.1 d = 4 to each side; tip n + 0.1 d v = (60, 74),
    # 0.25 d = 10 to each side. The left edge from (56, 55) to (50, 74): at y = 56 it is at
    # x = 56 - 6 / 19 = 55.68, at y = 74 at x = 50.
    assert at(labels, 60, 60) == NOSE and at(labels, 60, 55) == NOSE
    assert at(labels, 56, 56) == NOSE and at(labels, 55, 56) == SKIN
    assert at(labels, 50, 74) == NOSE and at(labels, 49, 74) == SKIN
    assert at(labels, 70, 74) == NOSE and at(labels, 71, 74) == SKIN
    assert at(labels, 60, 54) == SKIN and at(labels, 60, 75) == SKIN


def test_lips_by_hand(labels):
    # ellipse centre (60, 90), semi-axes m = 15 along x and 0.4 m = 6 along y; above the
    # corner line upper lip, on and below it lower lip
    assert at(labels, 60, 85) == U_LIP and at(labels, 60, 84) == U_LIP
    assert at(labels, 60, 83) == SKIN
    assert at(labels, 60, 95) == L_LIP and at(labels, 60, 96) == L_LIP
    assert at(labels, 60, 97) == SKIN
    assert at(labels, 74, 89) == U_LIP and at(labels, 74, 91) == L_LIP
    assert at(labels, 75, 90) == L_LIP and at(labels, 76, 90) == SKIN


def test_only_the_drawn_labels_appear_and_areas_fit_the_shapes(labels):
    assert set(np.unique(labels).tolist()) == {BG, SKIN, L_BROW, R_BROW, L_EYE, R_EYE, NOSE,
                                               U_LIP, L_LIP}
    # eye ellipse area pi 8.8 3.6 = 99.5 px; the pixel count is close to it
    assert abs(int((labels == L_EYE).sum()) - np.pi * 8.8 * 3.6) < 12
    # the nose quadrilateral (a trapezoid): (8 + 20) / 2 * 19 = 266 px, less nothing (the
    # eyes and lips do not reach it)
    assert abs(int((labels == NOSE).sum()) - 266) < 25


def test_mirrored_points_give_the_mirrored_map_with_sides_swapped(labels):
    mirror = lambda p: (SIZE - 1 - p[0], p[1])  # noqa: E731
    # mirroring swaps image-left and image-right points (eyes 0 <-> 1, mouth corners 3 <-> 4)
    p = [mirror(POINTS[i]) for i in (1, 0, 2, 4, 3)]
    swapped = np.array([0, 1, 3, 2, 5, 4, 6, 7, 8, 9, 10], np.uint8)[labels[:, ::-1]]
    np.testing.assert_array_equal(draw_parsing(p, SIZE), swapped)


def test_the_map_turns_with_the_face(labels):
    # every point turned a quarter about the image centre c: (x, y) -> (c + (y - c), c - (x - c))
    # is np.rot90 of the image (counter-clockwise); the parts turn with it (pixels on a
    # part's boundary may go either way: a few)
    c = (SIZE - 1) / 2.0
    turned = [(c + (y - c), c - (x - c)) for x, y in POINTS]
    # after the turn the eyes lie on a vertical line: image-left order no longer says which
    # eye is which, so keep the order of the original face
    drawn = draw_parsing(turned, SIZE)
    expected = np.rot90(labels)
    assert np.mean(drawn != expected) < 0.002
    assert at(drawn, *map(int, map(round, turned[0]))) == L_EYE


@pytest.mark.parametrize("points, match", [
    ([(40, 50), (40, 50), (60, 70), (45, 90), (75, 90)], "on one spot"),
    ([(40, 90), (80, 90), (60, 70), (45, 50), (75, 50)], "not below the eye line"),
    ([(40, 50), (80, 50), (60, 70), (45, 90)], "five finite"),
])
def test_points_that_make_no_face_raise(points, match):
    with pytest.raises(ValueError, match=match):
        draw_parsing(points, SIZE)


def test_convex_mask_either_winding_and_ellipse_turned():
    from data_prep.drawn_parsing import _grid, convex_mask, ellipse_mask

    grid = _grid(8)
    triangle = [(1, 1), (6, 1), (1, 6)]  # x + y <= 7 with x, y >= 1
    expected = np.array([[x >= 1 and y >= 1 and x + y <= 7 for x in range(8)]
                         for y in range(8)])
    np.testing.assert_array_equal(convex_mask(grid, triangle), expected)
    np.testing.assert_array_equal(convex_mask(grid, triangle[::-1]), expected)
    # an ellipse of semi-axes 3 along the diagonal (1, 1) / sqrt 2 and 1 across it, centred
    # at (4, 4): (5, 5) is sqrt 2 along (inside), (5, 3) is sqrt 2 across (outside)
    diagonal = np.array([1.0, 1.0]) / np.sqrt(2.0)
    mask = ellipse_mask(grid, (4, 4), diagonal, 3.0, 1.0)
    assert mask[5, 5] and mask[6, 6] and not mask[3, 5] and not mask[7, 7]
