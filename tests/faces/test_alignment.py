"""Spec 1.2 alignment (tpgan_tf/faces/alignment.py). Coordinates: 0-based pixel centres unless said."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tpgan_tf.faces import alignment as al

TEMPLATE = al.template_landmarks()
# One colour per landmark (RGB), so a channel swap or a mixed-up blob is caught.
COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255]], float)


def _similarity(scale, degrees, centre_raw):
    """2x3 matrix: crop template -> raw, rotating by `degrees` and scaling about (64, 40)."""
    t = math.radians(degrees)
    lin = scale * np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    off = np.asarray(centre_raw, float) - lin @ np.array([64.0, 40.0])
    return np.hstack([lin, off[:, None]])


def _raw_face(matrix, crop_sigma=2.0, size=(480, 640)):
    """Render Gaussian blobs at the template landmarks mapped by `matrix` into a raw image."""
    raw_pts = al.apply_matrix(matrix, TEMPLATE)
    sigma = crop_sigma * math.sqrt(abs(np.linalg.det(matrix[:, :2])))
    yy, xx = np.mgrid[0:size[0], 0:size[1]].astype(np.float64)
    img = np.zeros(size + (3,))
    for (x, y), colour in zip(raw_pts, COLOURS):
        g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma ** 2))
        img += g[:, :, None] * colour
    return np.clip(np.round(img), 0, 255).astype(np.uint8), raw_pts


def _centroid(image, channel_weights, centre, radius=8):
    """Intensity-weighted centroid (x, y) of a blob in a window around `centre`."""
    cx, cy = (int(round(v)) for v in centre)
    win = image[cy - radius:cy + radius + 1, cx - radius:cx + radius + 1].astype(np.float64)
    w = win @ channel_weights
    yy, xx = np.mgrid[cy - radius:cy + radius + 1, cx - radius:cx + radius + 1]
    return np.array([(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()])


def test_template_is_spec_minus_one():
    np.testing.assert_allclose(TEMPLATE, [[42.58, 40.0], [85.42, 40.0], [63.12, 63.75],
                                          [46.59, 87.86], [81.59, 88.11]])
    # Its eye centre is exactly where align_face puts it: (64, 40) 0-based = (65, 41) 1-based.
    np.testing.assert_allclose(TEMPLATE[:2].mean(axis=0), [64.0, 40.0])


@pytest.mark.parametrize("scale, degrees, centre", [
    (1.7, 12.0, (310.0, 200.0)),  # face larger than the crop: antialiased shrink path
    (0.8, -20.0, (250.0, 260.0)),  # smaller: single cubic warp (upscaling)
])
def test_align_undoes_a_known_similarity(scale, degrees, centre):
    raw, raw_pts = _raw_face(_similarity(scale, degrees, centre))
    out = al.align_face(raw, raw_pts)
    assert out.image.shape == (128, 128, 3) and out.image.dtype == np.uint8
    assert out.roll_degrees == pytest.approx(degrees)
    # Template mouth-eye height is 47.985, so the recovered scale is 48 / (47.985 * scale).
    mouth_eye = TEMPLATE[3:5, 1].mean() - 40.0
    assert out.scale == pytest.approx(48.0 / (mouth_eye * scale))
    # Landmarks back on the template (only the 48 / 47.985 rescale differs: < 0.02 px).
    np.testing.assert_allclose(out.landmarks, TEMPLATE, atol=0.02)
    # The matrix is the raw -> crop map of the landmarks.
    np.testing.assert_allclose(al.apply_matrix(out.matrix, raw_pts), out.landmarks, atol=1e-9)
    assert not out.clipped
    # Pixel content: every blob's centroid is back at its template position.
    for pt, colour in zip(TEMPLATE, COLOURS):
        c = _centroid(out.image, colour / 255.0, pt)
        assert np.abs(c - pt).max() < 0.1, (pt, c)
    # Colours kept: the left-eye blob is red, not green or blue.
    x, y = np.round(TEMPLATE[0]).astype(int)
    r, g, b = out.image[y, x]
    assert r > 150 and g < 10 and b < 10


def test_eye_row_40_and_mouth_height_48_exact():
    # Arbitrary tilted face; 0-based float coordinates (1-based: eye row 41).
    pts = np.array([[212.3, 240.9], [281.7, 228.4], [250.2, 270.0], [226.0, 305.5],
                    [279.9, 297.1]])
    out = al.align_face(np.zeros((480, 640, 3), np.uint8), pts)
    lm = out.landmarks
    assert lm[0:2, 1].mean() == pytest.approx(40.0, abs=1e-9)
    assert lm[0:2, 0].mean() == pytest.approx(64.0, abs=1e-9)
    assert lm[0, 1] == pytest.approx(lm[1, 1], abs=1e-9)  # eye line levelled
    assert lm[3:5, 1].mean() - lm[0:2, 1].mean() == pytest.approx(48.0, abs=1e-9)
    # Rounded = the `.5pt` convention: MATLAB round + 1 (1-based crop coordinates).
    np.testing.assert_array_equal(out.landmarks_rounded, np.floor(lm + 0.5).astype(int) + 1)
    assert out.landmarks_rounded[0, 1] == out.landmarks_rounded[1, 1] == 41
    # Hand-checked roll: atan((240.9 - 228.4) / (212.3 - 281.7)).
    assert out.roll_degrees == pytest.approx(math.degrees(math.atan(12.5 / -69.4)))


def test_zero_roll_when_eyes_level_or_vertical():
    level = np.array([[200, 200], [260, 200], [230, 230], [205, 260], [255, 262]], float)
    out = al.align_face(np.zeros((480, 640), np.uint8), level)
    assert out.roll_degrees == 0.0
    assert out.matrix[0, 1] == 0.0 and out.matrix[1, 0] == 0.0
    assert out.matrix[0, 0] == out.matrix[1, 1] == pytest.approx(48.0 / 61.0)
    # 90 degree profile: both eyes at the same x, different y -> roll 0 (tpgan spec 1.2 step 1).
    vertical = np.array([[300, 200], [300, 204], [330, 230], [305, 260], [307, 261]], float)
    out = al.align_face(np.zeros((480, 640, 3), np.uint8), vertical)
    assert out.roll_degrees == 0.0 and out.matrix[0, 1] == 0.0 and out.matrix[1, 0] == 0.0


def test_scale_one_when_mouth_above_eyes():
    upside_down = np.array([[200, 300], [260, 300], [230, 270], [205, 240], [255, 240]], float)
    out = al.align_face(np.zeros((480, 640, 3), np.uint8), upside_down)
    assert out.scale == 1.0
    np.testing.assert_allclose(out.matrix[:, :2], np.eye(2))
    np.testing.assert_allclose(out.landmarks[0:2, 1], [40, 40])
    np.testing.assert_allclose(out.landmarks[3:5, 1], [-20, -20])


def test_clipped_crop_is_zero_filled():
    raw = np.full((480, 640, 3), 200, np.uint8)
    near_corner = np.array([[10, 20], [58, 20], [34, 45], [14, 68], [54, 68]], float)  # scale 1
    out = al.align_face(raw, near_corner)
    assert out.scale == pytest.approx(1.0) and out.clipped
    # Crop column c samples raw column c - 30: columns < 30 (rows < 20) are outside -> 0.
    assert np.all(out.image[:, :28] == 0) and np.all(out.image[:18] == 0)
    assert np.all(out.image[25:, 35:] == 200)
    centred = near_corner + [300, 200]
    assert not al.align_face(raw, centred).clipped


def test_shrinking_is_antialiased():
    # 1-px stripes shrunk 3x (eye-to-mouth 144 px -> 48): an antialiased resize gives flat grey
    # (mean 127.5); point-sampling cubic interpolation gives stripes, a box filter 85/170 columns.
    raw = np.zeros((480, 640, 3), np.uint8)
    raw[:, ::2] = 255
    pts = np.array([[250, 150], [390, 150], [320, 220], [260, 294], [380, 294]], float)
    out = al.align_face(raw, pts)
    assert out.scale == pytest.approx(1 / 3) and not out.clipped
    inner = out.image[4:-4, 4:-4].astype(np.float64)
    assert abs(inner.mean() - 127.5) < 2 and inner.std() < 2


def test_imresize_antialiased_matches_matlab_algorithm():
    # MATLAB imresize([1 2 3 4], 0.5), worked by hand from its contributions() rule: output 1 is
    # centred at input 1.5 (1-based); kernel 0.5 * cubic(0.5 d) over 8 taps, normalised
    # weights (-3, -9, 29, 111, 111, 29, -9, -3) / 256 on the symmetric-padded inputs
    # (3, 2, 1, 1, 2, 3, 4, 4) -> 374 / 256 = 1.4609375; by symmetry the second is 5 - that.
    out = al.imresize_antialiased(np.array([[1, 2, 3, 4]], np.float32).T[:, :, None] *
                                  np.ones((1, 4, 1), np.float32), 0.5)
    assert out.shape == (2, 2, 1)
    np.testing.assert_allclose(out[:, 0, 0], [1.4609375, 3.5390625], atol=1e-6)
    # Linear ramps are reproduced away from the border; constants everywhere.
    ramp = np.tile(np.arange(100, dtype=np.float32), (50, 1))[:, :, None]
    small = al.imresize_antialiased(ramp, 0.3)
    assert small.shape == (15, 30, 1)
    np.testing.assert_allclose(small[7, 5:25, 0], (np.arange(5, 25) + 0.5) / 0.3 - 0.5,
                               atol=0.01)
    flat = al.imresize_antialiased(np.full((37, 41, 3), 80.0, np.float32), 0.37)
    np.testing.assert_allclose(flat, 80.0, atol=1e-4)


def test_bad_inputs():
    pts = TEMPLATE + 100
    with pytest.raises(ValueError, match="uint8"):
        al.align_face(np.zeros((480, 640, 3), np.float32), pts)
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        al.align_face(np.zeros((480, 640, 3), np.uint8), pts[:4])
    bad = pts.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        al.align_face(np.zeros((480, 640, 3), np.uint8), bad)


def test_windowed_shrink_is_bit_identical_to_the_full_shrink():
    # align_face shrinks only the part of the image its warp reads; that must equal slicing
    # the full antialiased shrink, also where the window meets the image border.
    rng = np.random.default_rng(7)
    image = rng.uniform(0, 255, (97, 131, 3)).astype(np.float32)
    full = al.imresize_antialiased(image, 0.43)
    for window in [(0, 0, 10, 12), (5, 7, 30, 41), (20, 30, 42, 57), (35, 50, 99, 99)]:
        r0, c0, r1, c1 = window
        np.testing.assert_array_equal(al.imresize_antialiased(image, 0.43, window),
                                      full[r0:r1, c0:c1])


def test_face_region_spans_the_templates_eyes_and_mouth():
    # template (0-based): eyes at x 42.58 / 85.42, y 40.0; mouth corners at y 87.86 / 88.11
    rows, cols = al.face_region()
    assert (rows.start, rows.stop, cols.start, cols.stop) == (40, 89, 43, 86)
