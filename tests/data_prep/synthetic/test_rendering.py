"""Tests of data_prep/synthetic/rendering.py: landmark geometry (tpgan spec 1.1, 1.2), roll and shift,
pixels under the landmarks, self-occlusion, and the same pixels as before the package split."""
from __future__ import annotations

import hashlib
import math

import cv2
import numpy as np

from data_prep import synthetic as S
from data_prep.synthetic.rendering import _make_view, _parts_view

SMALL = (160, 120)  # (width, height)
MID = (320, 240)

# Computed with the single-file synthetic-face module (before data_prep/synthetic/ became a package, commit
# 279622c): (seed, subject, yaw, flash, size, render_view keywords) -> sha256 of the image and
# of the part map, their sums, and the five landmarks. Environment-pinned like any golden value:
# a numpy/OpenCV change of float results would show here first (re-baseline deliberately).
GOLDEN_VIEWS = (
    ((0, 1, 0, 7, (160, 120), {}),
     "ad1969a7db29e0c927e0a979c6fd8ea5fd03cbc7ffd648cbdd595b49c30e1ce2",
     "aefaebbc081924209c9425c85fd43defe7b4aca944aa14582f20af93f6c1d7ea", 6303119, 17029,
     ((72.5636, 50.4), (86.4364, 50.4), (79.5, 57.24), (75.0496, 66.1461), (83.9504, 66.1461))),
    ((0, 2, 45, 3, (320, 240), dict(roll_degrees=5.0, shift=(3, -2), scale=1.02, noise_seed=11)),
     "25b13dd2cdbb653d84bf6b3af234bec977ddc81b0d2a5bcacf6c36a57b432b4f",
     "dcdafa9baa3cd16dd20a3d46dea1522a1909ebf231b674a18614352bf5e05559", 27756381, 63606,
     ((178.4971, 97.4004), (198.5746, 95.6439), (196.5389, 111.9978), (183.7566, 126.4213),
      (198.4415, 125.1365))),
    ((3, 5, -90, 11, (160, 120), {}),
     "97c3e691dab48d9986f6bc96ebb67cc273337ca26111238444065c7e3f577c35",
     "cf61b22255f26190787e3d0e5416ccb5e039f0125fc637a5c74d68619a92830b", 7053746, 12313,
     ((59.8549, 50.4), (59.8549, 50.4), (53.8487, 58.1586), (59.8219, 66.4228), (59.8219, 66.4228))),
    ((1, 4, -30, 0, (640, 480), {}),
     "e987c9dea5b724522c9782526655d6f4e1d3d9b4f9c92918f82fbd3f936b0e13",
     "0d6c010d358e2c480df5505ffcc1e45b91c79c7ba52c8818fe67d69f04ead8a8", 95756001, 262961,
     ((259.583, 201.6), (305.6224, 201.6), (269.759, 234.3048), (266.8458, 261.0358), (297.686, 261.0358))),
)


def test_render_view_matches_the_pre_split_golden_views():
    for (seed, subject, yaw, flash, size, kw), img_sha, parts_sha, img_sum, parts_sum, lms in (
            GOLDEN_VIEWS):
        image, landmarks, parts = S.render_view(S.identity_for(seed, subject), yaw, flash, size,
                                                return_parts=True, **kw)
        assert int(image.astype(np.int64).sum()) == img_sum, (seed, subject)
        assert int(parts.astype(np.int64).sum()) == parts_sum, (seed, subject)
        assert hashlib.sha256(image.tobytes()).hexdigest() == img_sha, (seed, subject)
        assert hashlib.sha256(parts.tobytes()).hexdigest() == parts_sha, (seed, subject)
        np.testing.assert_allclose(landmarks, lms, atol=1e-3)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


# ----------------------------------------------------------------------------- landmarks
def test_frontal_landmarks_are_mirror_symmetric():
    p = S.identity_for(0, 1)
    _, lms = S.render_view(p, 0, 7, MID)
    (x0, y0), (x1, y1), (x2, _), (x3, y3), (x4, y4) = lms
    assert abs((x0 + x1) / 2 - x2) < 0.01 and abs((x3 + x4) / 2 - x2) < 0.01
    assert abs(y0 - y1) < 1e-6 and abs(y3 - y4) < 1e-6
    assert x0 < x2 < x1 and y0 < lms[2, 1] < y3
    # spec 1.2 scale: eye-to-mouth centre distance of a raw 640x480 face is ~50-80 px
    eye_mouth = ((y3 + y4) - (y0 + y1)) / 2 * (480 / MID[1])
    assert 50 < eye_mouth < 80


def test_nose_follows_yaw_sign_and_eye_distance_is_cosine():
    p = S.identity_for(0, 2)
    yaws = list(range(-90, 91, 15))
    lms = {yaw: S.render_view(p, yaw, 7, SMALL)[1] for yaw in yaws}
    nose = [lms[y][2, 0] for y in yaws]
    assert all(b > a for a, b in zip(nose, nose[1:]))  # image-right as yaw grows (spec 1.1)
    for yaw in yaws:
        # "left" = smaller x (spec 1.2); at 90 deg the pairs tie (a symmetric head)
        assert lms[yaw][0, 0] <= lms[yaw][1, 0] + 1e-6 and lms[yaw][3, 0] <= lms[yaw][4, 0] + 1e-6
        offset = lms[yaw][2, 0] - lms[yaw][:2, 0].mean()  # nose relative to the eye midpoint
        if yaw:
            assert np.sign(offset) == np.sign(yaw) and abs(offset) > 0.5, (yaw, offset)
    for yaw in (-93, 93):  # past 90 deg (yaw jitter) the far eye is the smaller-x one
        lm = S.render_view(p, yaw, 7, SMALL)[1]
        assert lm[0, 0] < lm[1, 0] and lm[3, 0] < lm[4, 0]
    d0 = lms[0][1, 0] - lms[0][0, 0]
    for yaw in yaws:
        if abs(yaw) <= 75:  # orthographic: the eye separation scales exactly as cos(yaw)
            d = lms[yaw][1, 0] - lms[yaw][0, 0]
            assert abs(d / d0 - math.cos(math.radians(yaw))) < 0.01, yaw


def test_roll_and_shift_move_landmarks_with_the_image():
    p = S.identity_for(0, 3)
    img0, lm0, parts0 = S.render_view(p, 30, 7, MID, return_parts=True)
    img1, lm1, parts1 = S.render_view(p, 30, 7, MID, roll_degrees=10, shift=(6, -4),
                                      return_parts=True)
    cx, cy = (MID[0] - 1) / 2 + 6, S.EYE_ROW_FRACTION * MID[1] - 4
    rot = cv2.getRotationMatrix2D((cx, cy), 10, 1.0)
    moved = np.concatenate([lm0 + [6, -4], np.ones((5, 1))], axis=1) @ rot.T
    np.testing.assert_allclose(lm1, moved, atol=1e-6)
    eye = S.PART_ID["eye_neg"]
    for lm, parts in ((lm0, parts0), (lm1, parts1)):  # the near eye stays under its point
        x, y = lm[0].round().astype(int)
        assert parts[y, x] == eye


def test_pixels_at_visible_landmarks_show_their_part():
    width, height = S.DEFAULT_IMAGE_SIZE  # full size: the pupil is ~4 px wide
    for sid in (1, 2, 3):
        p = S.identity_for(0, sid)
        img, lms, parts = S.render_view(p, 0, 7, (width, height), return_parts=True)
        assert img.shape == (height, width, 3)
        skin = np.median(img[parts == S.PART_ID["skin"]].astype(float), axis=0)
        for k, label in ((0, "eye_neg"), (1, "eye_pos")):
            x, y = lms[k].round().astype(int)
            assert S.PARTS[parts[y, x]] == label
            # the pupil is much darker than the skin, and the iris has its own colour
            assert _luma(img[y, x]) < 0.6 * _luma(skin), sid
            iris = img[y, x + 3].astype(float)  # 3 px = ~3.3 mm from the centre: the iris
            want = np.asarray(p.iris_rgb) / np.sum(p.iris_rgb)
            assert np.abs(iris / iris.sum() - want).max() < np.abs(skin / skin.sum() - want).max()
        # just above the mouth line, between the corners: the upper lip, redder than skin
        mx, my = lms[3:, 0].mean(), lms[3:, 1].mean()
        lip = img[int(round(my)) - 2, int(round(mx))].astype(float)
        assert S.PARTS[parts[int(round(my)) - 2, int(round(mx))]] == "lips"
        assert lip[0] / lip[1] > skin[0] / skin[1]


# ----------------------------------------------------------------------------- occlusion
def _surface_theta(params, yaw):
    """Per-pixel head-frame angle (degrees, NaN on background) and labels of one view."""
    view = _make_view(params, yaw, MID, 0.0, (0.0, 0.0), 1.0)
    theta = np.full(MID[0] * MID[1], np.nan)
    theta[view.pix] = np.degrees(view.model.theta[view.texel % len(view.model.theta)])
    return theta.reshape(MID[1], MID[0]), _parts_view(view), view.landmarks


def test_far_side_is_self_occluded():
    p = S.identity_for(0, 2)
    views = {yaw: _surface_theta(p, yaw) for yaw in (0, 45, 60, 90)}
    theta0, parts0, lms0 = views[0]
    rows = slice(int(lms0[0, 1]), int(lms0[3, 1]))  # eye line to mouth line
    far = {yaw: np.sum(v[0][rows] > 10) for yaw, v in views.items()}  # the far cheek
    assert far[0] > 500 and far[45] < 0.6 * far[0] and far[90] < 0.02 * far[0]
    eye_pos, eye_neg = S.PART_ID["eye_pos"], S.PART_ID["eye_neg"]
    assert np.sum(parts0 == eye_pos) > 20 and np.sum(parts0 == eye_neg) > 20
    theta90, parts90, lms90 = views[90]
    assert np.sum(parts90 == eye_pos) == 0 and np.sum(parts90 == eye_neg) > 5
    for k in (0, 1):  # at 90 both eye points project to the near eye; the far one is hidden
        x, y = lms90[k].round().astype(int)
        assert parts90[y, x] != eye_pos
    # z-buffer: at the nose tip pixel the nose (theta ~ 0) hides the far cheek behind it
    for yaw in (45, 60):
        theta, parts, lms = views[yaw]
        x, y = lms[2].round().astype(int)
        assert abs(theta[y, x - 1]) < 4, (yaw, theta[y, x - 1])
        assert np.nanmax(theta[y, x - 6:x + 1]) < 8  # no far cheek just inside the tip
