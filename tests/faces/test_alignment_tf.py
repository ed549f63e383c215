"""tpgan_tf/faces/alignment_tf.py (the tpgan spec 1.2 alignment in a graph, used by the exported
`frontalize_image` signature) against its numpy/OpenCV original alignment.py."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_prep import synthetic as sy
from tpgan_tf.faces import alignment as al
from tpgan_tf.faces import alignment_tf
from tpgan_tf.faces.landmarks import check_landmarks


def _cases():
    rng = np.random.default_rng(3)
    cases = [rng.uniform(100, 500, (5, 2)) for _ in range(20)]
    vertical_eyes = np.array([[300, 200], [300, 230], [330, 250], [290, 300], [320, 301]], float)
    upside_down = np.array([[300, 300], [350, 305], [330, 250], [300, 200], [340, 210]], float)
    cases += [vertical_eyes, upside_down]  # roll 0 (same eye x) and d <= 0 (scale 1)
    return np.stack(cases).astype(np.float32)


def test_alignment_matrices_equal_data_prep():
    points = _cases()
    got, scales = alignment_tf.alignment_matrices(tf.constant(points))
    for b, p in enumerate(points):
        ref, _, scale = al.alignment_matrix(p.astype(np.float64))
        np.testing.assert_allclose(got[b].numpy(), ref, rtol=1e-9, atol=1e-9)
        assert abs(scales[b].numpy() - scale) < 1e-9
    assert scales[-1].numpy() == 1.0


def test_apply_matrices_equal_apply_matrix():
    points = _cases()
    matrices, _ = alignment_tf.alignment_matrices(tf.constant(points))
    got = alignment_tf.apply_matrices(matrices, tf.constant(points)).numpy()
    for b, p in enumerate(points.astype(np.float64)):
        ref, _, _ = al.alignment_matrix(p)
        np.testing.assert_allclose(got[b], al.apply_matrix(ref, p), atol=1e-9)
    # Every case with a positive eye-to-mouth height lands on the spec 1.2 crop geometry.
    np.testing.assert_allclose(got[:-1, :2].mean(axis=1), [[64.0, 40.0]] * (len(got) - 1),
                               atol=1e-9)


def test_points_inside_equals_check_landmarks():
    rng = np.random.default_rng(8)
    base = rng.uniform(0, 300, (200, 5, 2))
    base[:40] = np.clip(base[:40], -0.5, [319.5, 239.5])  # on the edges: still inside
    rows, cols = np.arange(40, 80), rng.integers(0, 5, 40)
    base[rows, cols, 0] = rng.choice([-0.51, 319.51], 40)  # one point just outside
    base[80:100, 0, 1] = 239.6
    inside = []
    for p in base:
        got = bool(alignment_tf.points_inside(tf.constant(p), 240, 320).numpy())
        assert got == (check_landmarks(p, 320, 240) is None), p
        inside.append(got)
    assert all(inside[:40]) and not any(inside[40:100]) and any(inside[100:])


@pytest.mark.parametrize("yaw,size", [(30, (640, 480)), (-45, (640, 480)), (15, (200, 150))])
def test_align_photos_close_to_numpy_align_face(yaw, size):
    raw, landmarks = sy.render_view(sy.identity_for(0, 3), yaw, image_size=size,
                                    roll_degrees=5.0)
    ref = al.align_face(raw, landmarks)
    png = cv2.imencode(".png", raw[:, :, ::-1])[1].tobytes()
    aligned, crop_points = alignment_tf.align_photos(tf.constant([png]),
                                                     tf.constant(landmarks[None], tf.float32))
    diff = np.abs(aligned.numpy()[0].astype(np.int32) - ref.image.astype(np.int32))
    # Measured on 40 synthetic photos: mean |difference| 0.44 grey levels on average (at most
    # 0.79) when shrinking (s ~ 0.87, antialiased Keys cubic in both), 0.75 (at most 1.6) when
    # enlarging (bilinear here, bicubic in data_prep); 99th percentile <= 12, at edges.
    assert diff.mean() < (1.0 if ref.scale < 1 else 2.0), diff.mean()
    assert np.percentile(diff, 99) <= 12
    np.testing.assert_allclose(crop_points.numpy()[0], ref.landmarks, atol=1e-3)


def test_align_image_on_a_decoded_photo_equals_align_photos():
    raw, landmarks = sy.render_view(sy.identity_for(0, 5), -20, image_size=(320, 240))
    matrices, scales = alignment_tf.alignment_matrices(tf.constant(landmarks[None], tf.float32))
    direct = alignment_tf.align_image(tf.constant(raw), matrices[0], scales[0]).numpy()
    png = cv2.imencode(".png", raw[:, :, ::-1])[1].tobytes()
    aligned, _ = alignment_tf.align_photos(tf.constant([png]),
                                           tf.constant(landmarks[None], tf.float32))
    assert direct.dtype == np.uint8 and direct.shape == (128, 128, 3)
    np.testing.assert_array_equal(direct, aligned.numpy()[0])
    ref = al.align_face(raw, landmarks)
    assert np.abs(direct.astype(np.int32) - ref.image.astype(np.int32)).mean() < 2.0


def test_align_photos_rejects_bad_requests():
    raw, landmarks = sy.render_view(sy.identity_for(0, 4), 0, image_size=(200, 150))
    png = tf.constant([cv2.imencode(".png", raw)[1].tobytes()])
    outside = landmarks.copy()
    outside[4, 0] = 200.0  # x beyond width - 0.5
    with pytest.raises(tf.errors.InvalidArgumentError, match="lies outside its image"):
        alignment_tf.align_photos(png, tf.constant(outside[None], tf.float32))
    nan = landmarks.copy()
    nan[1, 1] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be finite"):
        alignment_tf.align_photos(png, tf.constant(nan[None], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        alignment_tf.align_photos(tf.constant([b"not an image"]),
                                  tf.constant(landmarks[None], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="differ in size"):
        alignment_tf.align_photos(png, tf.constant(np.stack([landmarks] * 2), tf.float32))
