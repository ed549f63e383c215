"""Face crops of the FSRNet records (data_prep/face_crops.py): the box rules, the pixel-centre
landmark transform, exact crops of an upscaled face, label maps through one-hot area
resizing, padding outside the image, and the landmark checks."""
from __future__ import annotations

import numpy as np
import pytest

from data_prep import face_crops as C


def test_tight_box_is_centred_on_the_landmark_box():
    points = np.array([[10.0, 20.0], [110.0, 60.0]])  # extent 100 x 40, centre (60, 40)
    box = C.tight_box(points, 1.2)
    assert box.side == 120
    # the middle of pixel centres x0 .. x0 + 119 is within half a pixel of the centre (60, 40)
    middle = np.array([box.x0, box.y0]) + (box.side - 1) / 2
    np.testing.assert_array_equal(np.abs(middle - [60, 40]), [0.5, 0.5])
    odd = C.tight_box(np.array([[0.0, 0.0], [100.0, 50.0]]), 1.01)  # side 101: exact
    assert (odd.side, odd.x0 + 50, odd.y0 + 50) == (101, 50, 25)
    with pytest.raises(ValueError, match="scale"):
        C.tight_box(points, 0)


def test_center_box_of_an_aligned_celeba_image():
    assert C.center_box(178, 218) == C.Box(0, 20, 178)  # img_align_celeba: rows 20..197
    assert C.center_box(178, 218, offset=5) == C.Box(0, 25, 178)


def test_crop_of_a_2x_upscaled_face_gives_the_face_its_landmarks_and_labels_back():
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    labels = rng.integers(0, 11, (128, 128), dtype=np.uint8)
    big = face.repeat(2, 0).repeat(2, 1)  # pixel (r, c) -> block (2r..2r+1, 2c..2c+1)
    box = C.Box(0, 0, 256)
    np.testing.assert_array_equal(C.crop_image(big, box), face)
    np.testing.assert_array_equal(C.crop_labels(labels.repeat(2, 0).repeat(2, 1), box), labels)
    planes = np.stack([(labels == k) * 255 for k in range(11)], -1).astype(np.uint8)
    np.testing.assert_array_equal(C.crop_label_planes(planes.repeat(2, 0).repeat(2, 1), box),
                                  labels)
    # the centre of block (2r..2r+1) is big-pixel 2r + 0.5, which is face pixel r
    points = np.array([[2 * 5 + 0.5, 2 * 7 + 0.5], [0.5, 254.5]])
    np.testing.assert_allclose(C.crop_landmarks(points, box), [[5, 7], [0, 127]])


def test_crop_outside_the_image_pads_black_and_background():
    image = np.full((10, 10, 3), 200, np.uint8)
    labels = np.full((10, 10), 4, np.uint8)
    box = C.Box(-5, 0, 10)  # the left half lies outside
    assert box.padding(10, 10) == 50
    crop = C.crop_image(image, box, size=10)
    assert (crop[:, :5] == 0).all() and (crop[:, 5:] == 200).all()
    lab = C.crop_labels(labels, box, size=10)
    assert (lab[:, :5] == 0).all() and (lab[:, 5:] == 4).all()
    planes = np.zeros((10, 10, 11), np.uint8)
    planes[..., 4] = 255
    lab = C.crop_label_planes(planes, box, size=10)
    assert (lab[:, :5] == 0).all() and (lab[:, 5:] == 4).all()


def test_downscaled_labels_keep_the_majority_per_block():
    labels = np.zeros((8, 8), np.uint8)
    labels[:, :3] = 2  # 3 of every 4 columns of the left block are label 2
    out = C.crop_labels(labels, C.Box(0, 0, 8), size=2)
    np.testing.assert_array_equal(out, [[2, 0], [2, 0]])


def test_landmark_problems_name_the_point():
    assert C.landmark_problem([[0, 0], [9.5, 9.5]], 10, 10) is None
    assert "expected 3 landmarks, got 2" in C.landmark_problem([[0, 0], [1, 1]], 10, 10, 3)
    assert "not all finite" in C.landmark_problem([[0, np.nan]], 10, 10)
    message = C.landmark_problem([[1, 1], [12.0, 3.0]], 10, 10)
    assert "landmark 1 at (12.0, 3.0) is outside the 10x10 image" in message
    assert "N x 2" in C.landmark_problem([1, 2, 3], 10, 10)
