"""Tests of data_prep/synthetic/appearance.py: the painted region labels follow the outline
functions (lips, lip gap, brows, eyelids), an open mouth paints an inner mouth, and the coarse
part labels are unchanged by it outside the mouth."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from data_prep import synthetic as S
from data_prep.synthetic import appearance as A
from data_prep.synthetic.regions import REGION_ID

PPM = 1.4


def _column(model, u_mm):
    """Region labels of the table column at face coordinate u (mm) and that column's u."""
    p = model.params
    k = int(np.argmin(np.abs(model.theta * p.face_front - u_mm)))
    return model.regions[:, k], model.theta[k] * p.face_front


def _span(labels, y, region):
    rows = np.flatnonzero(labels == REGION_ID[region])
    return (y[rows].min(), y[rows].max()) if len(rows) else None


def test_outline_functions_by_hand():
    p = dataclasses.replace(S.identity_for(0, 1), mouth_open=4.0)
    mw, lf = p.mouth_half_width, p.lip_fullness
    assert A.upper_lip_height(p, 0.0) == pytest.approx((5.5 + 0.45 * lf) * (0.85 + 0.15 * 0.2))
    assert A.lower_lip_depth(p, 0.0) == pytest.approx(6.5 + 0.55 * lf)
    assert A.upper_lip_height(p, mw) == 0 and A.lower_lip_depth(p, -mw) == 0
    assert A.lip_gap(p, 0.0) == pytest.approx(2.0)
    assert A.lip_gap(p, A.MOUTH_INNER_FRACTION * mw) == 0
    assert A.brow_arch(p, 3.0) == pytest.approx(p.brow_y + p.brow_arch)
    assert A.eyelid_opening(p, 0.0) == pytest.approx(p.eye_opening)
    assert A.eyelid_opening(p, p.eye_half_length) == 0


def test_painted_regions_follow_the_outlines():
    p = dataclasses.replace(S.identity_for(0, 4), mouth_open=4.0, beard=0.0)
    model = S.HeadModel(p, PPM)
    y, dy = model.y, model.dy
    labels, u = _column(model, 0.0)
    ym, gap = p.mouth_y, A.lip_gap(p, u)
    lo, hi = _span(labels, y, "upper_lip")
    assert lo == pytest.approx(ym + gap, abs=dy) and hi == pytest.approx(
        ym + A.upper_lip_height(p, u), abs=dy)
    lo, hi = _span(labels, y, "lower_lip")
    assert hi == pytest.approx(ym - gap, abs=dy) and lo == pytest.approx(
        ym - A.lower_lip_depth(p, u), abs=dy)
    lo, hi = _span(labels, y, "inner_mouth")
    assert lo == pytest.approx(ym - gap, abs=dy) and hi == pytest.approx(ym + gap, abs=dy)
    # the brows: image-left (u < 0) and image-right are separate labels around the arch
    for sign, name in ((-1, "brow_neg"), (1, "brow_pos")):
        labels, u = _column(model, sign * (p.eye_half_distance + 3.0))
        lo, hi = _span(labels, y, name)
        assert lo < A.brow_arch(p, abs(u) - p.eye_half_distance) < hi
        assert _span(labels, y, "brow_pos" if sign < 0 else "brow_neg") is None
    # the eye opening is centred 0.3 mm under the eye line with the eyelid's half-height
    labels, u = _column(model, -p.eye_half_distance)
    lo, hi = _span(labels, y, "eye_neg")
    lid = A.eyelid_opening(p, abs(u) - p.eye_half_distance)
    assert lo == pytest.approx(-0.3 - lid, abs=dy) and hi == pytest.approx(-0.3 + lid, abs=dy)


def test_closed_mouth_has_no_inner_mouth_and_opening_only_changes_the_mouth():
    base = S.identity_for(0, 5)
    closed = S.HeadModel(base, PPM)
    opened = S.HeadModel(dataclasses.replace(base, mouth_open=5.0), PPM)
    assert not np.any(closed.regions == REGION_ID["inner_mouth"])
    inner = opened.regions == REGION_ID["inner_mouth"]
    assert inner.sum() > 50
    # outside a box round the mouth, labels and colours are identical
    u = opened.theta[None, :] * base.face_front
    box = (np.abs(u) <= base.mouth_half_width + 2) & (
        np.abs(opened.y[:, None] - base.mouth_y) <= 14)
    np.testing.assert_array_equal(closed.regions[~box], opened.regions[~box])
    np.testing.assert_array_equal(closed.albedo[~box], opened.albedo[~box])
    # the inner mouth is darker than the lips, except the teeth, which are brighter
    lip = np.asarray(base.lip_rgb).mean()
    mouth = opened.albedo[inner].mean(axis=1)
    assert (mouth < 0.8 * lip).mean() > 0.3 and (mouth > lip).mean() > 0.3
    assert math.isclose(opened.params.mouth_open, 5.0)
