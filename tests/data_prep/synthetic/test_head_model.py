"""Tests of data_prep/synthetic/head_model.py: lighting by flash index, the surface tables and the
3-D five landmarks."""
from __future__ import annotations

import math

import numpy as np
import pytest

from data_prep import synthetic as S
from data_prep.synthetic.head_model import _illumination_light

MID = (320, 240)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


# ----------------------------------------------------------------------------- lighting
def test_flash_index_sets_the_lit_side():
    p = S.identity_for(0, 4)
    sides = {}
    for il in (3, 7, 11, 0):
        img, lms, parts = S.render_view(p, 0, il, MID, return_parts=True)
        skin = parts == S.PART_ID["skin"]
        nose_x = int(round(lms[2, 0]))
        luma = _luma(img)
        sides[il] = (luma[:, :nose_x][skin[:, :nose_x]].mean(),
                     luma[:, nose_x + 1:][skin[:, nose_x + 1:]].mean())
    assert sides[3][0] > 1.3 * sides[3][1]  # flash 03 at -60 deg: image-left side lit
    assert sides[11][1] > 1.3 * sides[11][0]
    assert abs(sides[7][0] / sides[7][1] - 1) < 0.05  # frontal flash: symmetric
    assert max(sides[0]) < 0.7 * min(sides[7])  # no flash: room light only


def test_flash_directions_follow_the_documented_layout():
    for index in S.NO_FLASH:
        assert _illumination_light(index) == (None, 0.0)
    for index, azimuth in ((1, -90.0), (7, 0.0), (13, 90.0)):  # horizontal arc, 15 deg steps
        light, strength = _illumination_light(index)
        assert strength == pytest.approx(0.85)
        assert np.linalg.norm(light) == pytest.approx(1.0, abs=1e-6)
        el = math.radians(8.0)
        want = (math.cos(el) * math.sin(math.radians(azimuth)), math.sin(el),
                math.cos(el) * math.cos(math.radians(azimuth)))
        np.testing.assert_allclose(light, want, atol=1e-6)
    assert _illumination_light(16)[0][1] == pytest.approx(math.sin(math.radians(35.0)), abs=1e-6)
    with pytest.raises(ValueError, match="illumination 20"):
        _illumination_light(20)


def test_tables_are_consistent():
    p = S.identity_for(0, 6)
    model = S.HeadModel(p, 0.5)
    n, big_n = model.radius.shape
    assert model.normals.shape == (n, big_n, 3) and model.albedo.shape == (n, big_n, 3)
    assert model.parts.shape == (n, big_n) and model.parts.max() < len(S.PARTS)
    np.testing.assert_allclose(np.linalg.norm(model.normals, axis=-1), 1.0, atol=1e-5)
    assert np.all(np.diff(model.y) < 0) and model.y[0] > p.crown_height  # rows go down from the top
    # the five 3-D landmarks lie on the surface: their radius is the table's at (theta, y)
    for x, y, z in model.landmarks_3d:
        theta = math.atan2(x, z)
        row = int(round((model.y[0] - y) / model.dy))
        col = int(round((theta + math.pi) / (2 * math.pi) * big_n)) % big_n
        assert abs(math.hypot(x, z) - model.radius[row, col]) < 1.0, (x, y, z)
    # the nose tip is the most protruding point and sits on the midline below the eyes
    eyes, tip = model.landmarks_3d[:2], model.landmarks_3d[2]
    assert tip[0] == pytest.approx(0.0, abs=1e-9) and tip[1] == pytest.approx(-p.nose_length, abs=3)
    assert tip[2] > eyes[:, 2].max() + 10
