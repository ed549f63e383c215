"""Prior targets (fsrnet spec 5): Gaussian heatmaps on the 64 grid, one-hot parsing maps."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.models.fsrnet.prior_sets import PriorSet
from tpgan_tf.models.fsrnet.priors import (
    landmark_heatmaps, parsing_one_hot, prior_maps, to_map_coordinates)


def test_map_coordinates_are_half_pixel_aligned():
    # 128-pixel x maps to x / 2 - 0.25: cell 0 covers pixels 0 and 1, its centre is 0.5 in
    # 128-pixel units; the last cell's centre is 126.5.
    pts = np.array([[[0.5, 126.5], [0.0, 1.0], [127.0, 64.0]]], np.float32)
    np.testing.assert_allclose(to_map_coordinates(pts, 128, 64).numpy(),
                               [[[0.0, 63.0], [-0.25, 0.25], [63.25, 31.75]]])


def test_heatmap_peaks_at_the_landmark_and_is_a_gaussian():
    pts = np.array([[[20.5, 40.5], [101.0, 7.0], [np.nan, np.nan]]], np.float32)  # (x, y)
    maps = landmark_heatmaps(pts, 128, 64, sigma=1.5).numpy()
    assert maps.shape == (1, 64, 64, 3)
    # Landmark 0 sits on cell (row 20, col 10): peak exactly 1 there.
    assert np.unravel_index(np.argmax(maps[0, :, :, 0]), (64, 64)) == (20, 10)
    np.testing.assert_allclose(maps[0, 20, 10, 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(maps[0, 20, 12, 0], np.exp(-4 / (2 * 1.5 ** 2)), rtol=1e-5)
    # Landmark 1 at map (x, y) = (50.25, 3.25): the nearest cell is (row 3, col 50).
    assert np.unravel_index(np.argmax(maps[0, :, :, 1]), (64, 64)) == (3, 50)
    d2 = 0.25 ** 2 + 0.25 ** 2
    np.testing.assert_allclose(maps[0, 3, 50, 1], np.exp(-d2 / (2 * 1.5 ** 2)), rtol=1e-5)
    assert np.all(maps[..., 2] == 0)  # a missing landmark gives an all-zero map
    with pytest.raises(ValueError, match="sigma"):
        landmark_heatmaps(pts, sigma=0)
    with pytest.raises(ValueError, match=r"\[B, N, 2\]"):
        landmark_heatmaps(pts[0])


def test_one_hot_parsing_is_area_downsampled_and_sums_to_one():
    labels = np.zeros((1, 128, 128), np.int32)
    labels[0, 0, 0], labels[0, 0, 1], labels[0, 1, 0] = 1, 2, 2  # cell (0, 0): 1 bg, 1 x 1, 2 x 2
    labels[0, 64:, :] = 2
    maps = parsing_one_hot(labels, 3).numpy()
    assert maps.shape == (1, 64, 64, 3)
    np.testing.assert_allclose(maps[0, 0, 0], [0.25, 0.25, 0.5])
    np.testing.assert_allclose(maps[0, 40:, :, 2], 1.0)
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-6)
    random = np.random.default_rng(0).integers(0, 11, (2, 128, 128, 1))
    np.testing.assert_allclose(parsing_one_hot(random, 11).numpy().sum(-1), 1.0, rtol=1e-6)


def test_helen11_to_global3_remap():
    labels = np.arange(11, dtype=np.int32).repeat(2)[None, None, :].repeat(2, axis=1)  # [1, 2, 22]
    labels = np.pad(labels, [[0, 0], [0, 20], [0, 0]], constant_values=0)[:, :22, :]
    maps = parsing_one_hot(labels, 3, remap=(0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2), map_size=11).numpy()
    # cell (0, j) holds helen label j: 0 -> background, 1..9 -> face, 10 -> hair.
    np.testing.assert_allclose(maps[0, 0, :, 0], [1] + [0] * 10)
    np.testing.assert_allclose(maps[0, 0, :, 1], [0] + [1] * 9 + [0])
    np.testing.assert_allclose(maps[0, 0, :, 2], [0] * 10 + [1])


def test_bad_labels_raise():
    with pytest.raises(tf.errors.InvalidArgumentError, match="parsing label"):
        parsing_one_hot(np.full((1, 64, 64), 3), 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="remap table"):
        parsing_one_hot(np.full((1, 64, 64), 11), 3, remap=(0,) * 11)
    with pytest.raises(ValueError, match="multiples of 64"):
        parsing_one_hot(np.zeros((1, 100, 100)), 3)


def test_prior_maps_puts_heatmaps_first():
    prior_set = PriorSet(2, "custom", "global3")
    pts = np.array([[[10.0, 10.0], [50.0, 90.0]]], np.float32)
    labels = np.full((1, 128, 128), 10, np.int32)  # all hair
    maps = prior_maps(pts, labels, prior_set, sigma=1.0).numpy()
    assert maps.shape == (1, 64, 64, prior_set.num_priors) == (1, 64, 64, 5)
    np.testing.assert_allclose(maps[..., :2], landmark_heatmaps(pts).numpy())
    np.testing.assert_allclose(maps[..., 4], 1.0)
    np.testing.assert_allclose(maps[..., 2:4], 0.0)
    with pytest.raises(ValueError, match="expected 2 landmarks"):
        prior_maps(pts[:, :1], labels, prior_set)


def test_landmarks_read_off_heatmaps_come_back_within_a_quarter_cell():
    from tpgan_tf.models.fsrnet.priors import from_map_coordinates, heatmap_landmarks

    # On cell centres the decoding is exact in both directions of the coordinate maps.
    cells = np.array([[[3.0, 5.0], [60.0, 0.0]]], np.float32)
    np.testing.assert_allclose(to_map_coordinates(from_map_coordinates(cells, 128, 64),
                                                  128, 64).numpy(), cells, atol=1e-6)
    rng = np.random.default_rng(0)
    pts = rng.uniform(2, 125, (2, 7, 2)).astype(np.float32)
    maps = landmark_heatmaps(pts, 128, 64, sigma=1.0)
    got = heatmap_landmarks(maps, 128).numpy()
    # arg-max cell +- a quarter cell: within 0.5 + 0.25 cells = 1.5 pixels at 128 / 64
    assert np.abs(got - pts).max() <= 1.5
    # the quarter-cell shift goes towards the true point: better than the bare arg-max
    bare = from_map_coordinates(np.round(to_map_coordinates(pts, 128, 64).numpy()), 128, 64)
    assert np.abs(got - pts).mean() < np.abs(bare.numpy() - pts).mean()
