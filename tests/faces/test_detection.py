"""tpgan_tf/faces/detection.py: MTCNN on a real photograph (the NASA astronaut portrait,
tests/data/README.md), the point order and coordinate convention, thresholds, and tpgan spec 1.2
alignment of the detected points."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from tpgan_tf.faces import detection
from tpgan_tf.faces.alignment import align_face, template_landmarks

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
# tests/data/README.md: marked by hand, 0-based pixel centres, spec 1.2 order.
HAND_MARKED = np.array([[203, 101], [246, 103], [224, 127], [203, 141], [245, 141]], float)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    image = cv2.imread(os.path.join(DATA, "astronaut.jpg"), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(image[:, :, ::-1])


@pytest.fixture(scope="module")
def astronaut_faces(astronaut):
    return detection.detect(astronaut)


def test_one_face_with_the_five_points_in_spec_order(astronaut, astronaut_faces):
    (face,) = astronaut_faces
    p = face.landmarks
    assert p.shape == (5, 2) and p.dtype == np.float64
    assert face.confidence > 0.99
    # Eyes above the nose above the mouth corners; "left" is image-left (spec 1.2).
    assert max(p[0, 1], p[1, 1]) < p[2, 1] < min(p[3, 1], p[4, 1])
    assert p[0, 0] < p[2, 0] < p[1, 0] and p[3, 0] < p[4, 0]
    # Within 4 px (10% of the eye distance) of the points marked by hand.
    np.testing.assert_array_less(np.abs(p - HAND_MARKED), 4.0)
    x0, y0, x1, y1 = face.box
    assert x0 < p[:, 0].min() and p[:, 0].max() < x1 and y0 < p[:, 1].min() and p[:, 1].max() < y1
    assert face.eye_distance == pytest.approx(np.hypot(*(p[1] - p[0])))
    assert 38 < face.eye_distance < 46
    assert face.area == pytest.approx((x1 - x0) * (y1 - y0))
    assert detection.rejection(face) is None


def test_points_are_zero_based_pixel_centres(astronaut, astronaut_faces):
    """On the mirrored photo a 0-based point x comes back at W - 1 - x (a 1-based convention
    would give W + 1 - x, 2 px further). MTCNN is not exactly mirror-symmetric, so single
    points differ by up to ~1.5 px; the mean shows the convention."""
    (face,) = astronaut_faces
    (mirrored,) = detection.detect(np.ascontiguousarray(astronaut[:, ::-1]))
    width = astronaut.shape[1]
    # Mirroring swaps image-left and image-right points (landmarks.MIRROR_ORDER).
    back = mirrored.landmarks[[1, 0, 2, 4, 3]]
    excess = face.landmarks[:, 0] + back[:, 0] - (width - 1)
    assert abs(excess.mean()) < 1.0, excess
    np.testing.assert_array_less(np.abs(excess), 2.0)
    np.testing.assert_array_less(np.abs(face.landmarks[:, 1] - back[:, 1]), 1.5)


def test_alignment_of_the_detected_points(astronaut, astronaut_faces):
    """Spec 1.2 on the detected points: the eyes land on the template's eye row (y = 40) and
    the eye centre on (64, 40), to within 2 px (here exactly: the alignment is built so).

    Each eye's x lands 5.0 px outside the template's, not within 2 px: spec 1.2 scales by the
    eye-to-mouth height only (48 px), and this face's broad smile lifts the mouth corners, so
    its eye distance is 1.10x its eye-to-mouth height where the template's is 0.89x (42.84 /
    47.99). No similarity transform keyed on that height can put her eyes closer together.
    """
    (face,) = astronaut_faces
    aligned = align_face(astronaut, face.landmarks)
    template = template_landmarks()
    eyes = aligned.landmarks[:2]
    np.testing.assert_allclose(eyes[:, 1], template[:2, 1], atol=2.0)
    np.testing.assert_allclose(eyes.mean(axis=0), template[:2].mean(axis=0), atol=2.0)
    np.testing.assert_allclose(eyes.mean(axis=0), [64.0, 40.0], atol=1e-9)
    mouth_height = aligned.landmarks[3:5, 1].mean() - eyes[:, 1].mean()
    assert mouth_height == pytest.approx(48.0)
    x_error = eyes[:, 0] - template[:2, 0]
    np.testing.assert_allclose(x_error, [-5.0, 5.0], atol=0.5)  # measured -5.02, +5.02
    ratio = face.eye_distance / np.hypot(*(face.landmarks[3:5].mean(0) - face.landmarks[:2].mean(0)))
    assert 1.05 < ratio < 1.15


def test_largest_face_first_and_small_faces_reported(astronaut):
    """A canvas with the photo at full size and at 0.3x: two faces, the larger first; the
    small one (eye distance ~13 px) is rejected as too small."""
    small = cv2.resize(astronaut, (154, 154), interpolation=cv2.INTER_AREA)
    canvas = np.full((512, 512 + 200, 3), 255, np.uint8)
    canvas[:, :512] = astronaut
    canvas[100:254, 530:684] = small
    faces = detection.detect(canvas)
    assert len(faces) == 2
    assert faces[0].area > 4 * faces[1].area
    assert faces[0].landmarks[:, 0].max() < 512 < faces[1].landmarks[:, 0].min()
    assert 10 < faces[1].eye_distance < 16
    assert detection.rejection(faces[0]) is None
    assert detection.rejection(faces[1]).startswith("face too small (eye distance 1")
    assert detection.rejection(faces[1], min_eye_distance=5) is None
    usable = detection.detect_landmarks(canvas)
    assert len(usable) == 1
    np.testing.assert_array_equal(usable[0], faces[0].landmarks)


def test_no_face_and_bad_input():
    flat = np.full((240, 320, 3), (60, 120, 180), np.uint8)
    assert detection.detect(flat) == []
    assert detection.detect(np.zeros((12, 40, 3), np.uint8)) == []  # below min_face_size
    with pytest.raises(ValueError, match="RGB uint8"):
        detection.detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="float32"):
        detection.detect(np.zeros((64, 64, 3), np.float32))


def test_rejection_reasons_and_thresholds():
    points = np.array([[0, 0], [30, 0], [15, 20], [5, 35], [25, 35]], float)
    face = detection.Face(np.array([0, 0, 40, 50], float), 0.95, points)
    assert face.eye_distance == 30.0 and face.area == 2000.0
    assert detection.rejection(face) is None
    assert detection.rejection(face, min_confidence=0.96) == "low confidence (0.950 < 0.96)"
    assert detection.rejection(face, min_eye_distance=31) == (
        "face too small (eye distance 30.0 px < 31 px)")
    low = detection.Face(face.box, 0.85, points)
    assert detection.rejection(low) == "low confidence (0.850 < 0.9)"
    assert detection.rejection(detection.Face(face.box, float("nan"), points)).startswith("low")


def test_spec_order_sorts_eyes_and_mouth_corners_by_x():
    p = np.array([[30, 1], [10, 2], [20, 10], [28, 20], [12, 21]], float)
    np.testing.assert_array_equal(detection.spec_order(p),
                                  [[10, 2], [30, 1], [20, 10], [12, 21], [28, 20]])


def test_detector_is_loaded_once(astronaut_faces):
    assert detection.detector() is detection.detector()
