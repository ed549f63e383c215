"""Tests of data_prep/synthetic/regions.py: the label tables and remaps, and where the skin
subdivision (face, head skin, neck, ear, nose) lies on a head's table."""
from __future__ import annotations

import math

import numpy as np
import pytest

from data_prep import synthetic as S
from data_prep.synthetic import regions as R


def test_remap_tables_follow_the_documented_sets():
    assert R.HELEN_LABELS == ("background", "face_skin", "left_brow", "right_brow", "left_eye",
                              "right_eye", "nose", "upper_lip", "inner_mouth", "lower_lip", "hair")
    helen = {name: R.HELEN_LABELS[R.REGION_TO_HELEN[i]] for i, name in enumerate(R.REGIONS)}
    assert helen == {
        "background": "background", "face_skin": "face_skin", "head_skin": "background",
        "neck": "background", "ear": "background", "nose": "nose", "hair": "hair",
        "brow_neg": "left_brow", "brow_pos": "right_brow", "eye_neg": "left_eye",
        "eye_pos": "right_eye", "upper_lip": "upper_lip", "lower_lip": "lower_lip",
        "inner_mouth": "inner_mouth", "clothes": "background"}
    coarse = {name: S.PARTS[R.REGION_TO_PART[i]] for i, name in enumerate(R.REGIONS)}
    assert coarse["nose"] == coarse["neck"] == coarse["ear"] == coarse["head_skin"] == "skin"
    assert coarse["upper_lip"] == coarse["lower_lip"] == coarse["inner_mouth"] == "lips"
    assert coarse["brow_neg"] == coarse["brow_pos"] == "brow"
    assert set(coarse.values()) == set(S.PARTS)  # every coarse part has a fine region
    np.testing.assert_array_equal(R.helen_to_global(np.arange(11)),
                                  [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2])
    assert R.to_helen(np.array([[R.REGION_ID["neck"], R.REGION_ID["eye_pos"]]])).tolist() == [[0, 5]]
    with pytest.raises(ValueError, match="label 11"):
        R.helen_to_global(np.array([3, 11], np.uint8))


def test_nose_outline_widens_to_the_alae_and_closes_under_the_tip():
    p = S.identity_for(0, 3)
    tip = -p.nose_length
    widths = R.nose_half_width(p, np.array([R.NOSE_TOP_Y + 0.1, R.NOSE_TOP_Y, 0.5 * tip, tip,
                                            tip - R.NOSE_BASE_DROP - 0.1]))
    assert widths[0] == 0 and widths[-1] == 0
    assert widths[1] == pytest.approx(R.NOSE_BRIDGE_HALF_WIDTH)
    assert widths[1] < widths[2] < widths[3] == pytest.approx(p.nose_half_width + 1)


def test_skin_subdivision_on_a_head_table():
    p = S.identity_for(0, 2)
    model = S.HeadModel(p, 0.6)
    reg, theta, y = model.regions, model.theta, model.y
    col = {deg: int(np.argmin(np.abs(theta - math.radians(deg)))) for deg in (-96, 0, 60, 96, 180)}
    row = {mm: int(np.argmin(np.abs(y - mm))) for mm in (-14, -30, 0, -150)}
    assert reg[row[-14], col[96]] == reg[row[-14], col[-96]] == R.REGION_ID["ear"]
    assert reg[row[-30], col[60]] == R.REGION_ID["face_skin"]
    assert reg[row[-30], col[0]] == R.REGION_ID["nose"]  # the nose tip is at -32..-42 mm
    assert reg[row[-150], col[0]] == R.REGION_ID["neck"]
    assert reg[row[-14], col[180]] in (R.REGION_ID["head_skin"], R.REGION_ID["hair"])
    # the seam: the midline turns from face to neck at neck_top, just under the chin
    mid = reg[:, col[0]]
    k = model.neck_top[col[0]]
    assert mid[k] == R.REGION_ID["neck"] and mid[k - 1] != R.REGION_ID["neck"]
    assert p.chin_y - 16 < y[k] < p.chin_y - 8
    assert model.seam_y(0.0) == pytest.approx(y[k] + 0.5 * model.dy)
    # nothing is face skin behind the face line
    behind = np.abs(theta) > math.radians(R.THETA_FACE_DEG) + 1e-9
    assert not np.any(reg[:, behind] == R.REGION_ID["face_skin"])
