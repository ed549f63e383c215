"""Tests of data_prep/synthetic/landmarks68.py: the 68 iBUG points lie on the surface and on
the curves the labels come from, the mirror table, left/right and mirror symmetry of a
frontal projection, and the 5-point reduction."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from data_prep import synthetic as S
from data_prep.synthetic import appearance as A
from data_prep.synthetic import landmarks68 as L
from data_prep.synthetic.regions import REGION_ID, THETA_FACE_DEG

PPM = 1.4


@pytest.fixture(scope="module")
def model():
    return S.HeadModel(dataclasses.replace(S.identity_for(0, 8), mouth_open=3.0), PPM)


def test_mirror_table_is_an_involution_that_swaps_sides():
    m = L.MIRROR_68
    assert sorted(m.tolist()) == list(range(68))
    np.testing.assert_array_equal(m[m], np.arange(68))
    assert set(m[list(L.GROUPS["left_eye"])]) == set(L.GROUPS["right_eye"])
    assert set(m[list(L.GROUPS["left_brow"])]) == set(L.GROUPS["right_brow"])
    assert m[8] == 8 and m[30] == 30 and m[33] == 33 and m[51] == 51 and m[66] == 66
    assert m[36] == 45 and m[39] == 42 and m[48] == 54 and m[60] == 64
    assert sum(len(g) for g in L.GROUPS.values()) == 68


def test_points_lie_on_the_surface(model):
    theta, y = L.face_coordinates(model)
    pts = L.landmarks_68_3d(model)
    assert pts.shape == (68, 3)
    np.testing.assert_allclose(pts[:, 1], y)
    np.testing.assert_allclose(np.arctan2(pts[:, 0], pts[:, 2]), theta, atol=1e-9)
    for k in (0, 8, 19, 30, 37, 51, 62):  # vectorised lookup = HeadModel.surface_point
        np.testing.assert_allclose(pts[k], model.surface_point(theta[k], y[k]), atol=1e-9)


def test_points_are_on_their_curves(model):
    p = model.params
    theta, y = L.face_coordinates(model)
    u = theta * p.face_front
    # jaw: the ends on the face line, the rest on the head/neck seam or the face line
    assert abs(math.degrees(theta[0])) == pytest.approx(THETA_FACE_DEG)
    assert y[0] == pytest.approx(L.JAW_TOP_Y) and y[16] == pytest.approx(L.JAW_TOP_Y)
    assert theta[8] == pytest.approx(0.0, abs=1e-9)
    assert y[8] == pytest.approx(float(model.seam_y(0.0)), abs=1e-9)
    for k in range(17):
        on_side = abs(abs(math.degrees(theta[k])) - THETA_FACE_DEG) < 1e-6
        assert on_side or y[k] == pytest.approx(float(model.seam_y(theta[k])), abs=model.dy)
    np.testing.assert_allclose(y[17:27], A.brow_arch(p, np.abs(u[17:27]) - p.eye_half_distance))
    du = np.abs(u[36:48]) - p.eye_half_distance
    lids = np.abs(y[36:48] + 0.3)
    np.testing.assert_allclose(lids, A.eyelid_opening(p, du), atol=1e-9)
    np.testing.assert_allclose(y[49:54], p.mouth_y + A.upper_lip_height(p, u[49:54]))
    np.testing.assert_allclose(y[55:60], p.mouth_y - A.lower_lip_depth(p, u[55:60]))
    np.testing.assert_allclose(y[61:64] - p.mouth_y, A.lip_gap(p, u[61:64]))
    np.testing.assert_allclose(p.mouth_y - y[65:68], A.lip_gap(p, u[65:68]))
    assert y[62] - y[66] == pytest.approx(3.0)  # the lip gap of mouth_open = 3 mm
    assert y[30] == pytest.approx(model.landmarks_3d[2, 1])
    # texels under the points carry their part (points strictly inside a part)
    def region_at(k):
        row = int(round((model.y[0] - y[k]) / model.dy))
        col = int(round((theta[k] + math.pi) / (2 * math.pi) * len(model.theta)))
        return model.regions[row, col % len(model.theta)]
    assert all(region_at(k) == REGION_ID["brow_neg"] for k in range(17, 22))
    assert all(region_at(k) == REGION_ID["brow_pos"] for k in range(22, 27))
    assert all(region_at(k) == REGION_ID["nose"] for k in range(27, 36))


def test_frontal_projection_is_left_right_and_mirror_symmetric(model):
    pts = L.landmarks_68_3d(model)
    x, y = pts[:, 0], -pts[:, 1]  # yaw 0, image y down
    np.testing.assert_allclose(x + x[L.MIRROR_68], 0.0, atol=1e-6)
    np.testing.assert_allclose(y, y[L.MIRROR_68], atol=1e-6)
    assert x[0] < x[8] < x[16] and x[36] < x[39] < x[42] < x[45] and x[48] < x[54]
    assert y[19] < y[37] < y[30] < y[51] < y[57] < y[8]  # brow, eye, nose, lips, chin


def test_landmarks5_from_68():
    pts = np.random.default_rng(0).uniform(0, 100, (68, 2))
    five = L.landmarks5_from_68(pts)
    np.testing.assert_allclose(five, [pts[36:42].mean(0), pts[42:48].mean(0), pts[30], pts[48],
                                      pts[54]])
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        L.landmarks5_from_68(np.zeros((5, 2)))
