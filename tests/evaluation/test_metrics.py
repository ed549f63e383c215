"""tpgan_tf/evaluation/metrics.py against hand-computed values, numpy and tf.image.ssim."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.evaluation import metrics


def _images(seed, shape=(3, 40, 36, 3)):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


# ----------------------------------------------------------------------------- L1 / PSNR
def test_l1_known_values():
    a = np.zeros((2, 4, 4, 3))
    b = np.zeros((2, 4, 4, 3))
    b[0] = 0.25  # image 0 differs by 0.25 everywhere
    b[1, 0, 0, 0] = 0.96  # image 1 differs by 0.96 in one of 48 entries
    assert metrics.l1_mean(a, b) == pytest.approx((0.25 * 48 + 0.96) / 96)
    np.testing.assert_allclose(metrics.l1_per_image(a, b), [0.25, 0.02])
    with pytest.raises(ValueError, match="same shape"):
        metrics.l1_mean(a, b[:1])


def test_region_colour_error_by_hand():
    a = np.zeros([2, 4, 4, 3])
    b = np.zeros([2, 4, 4, 3])
    a[0, 1:3, 1:3] = [0.4, 0.2, 0.0]  # the region of image 0: one colour
    b[0, 1:3, 1:3, 0] = [[0.1, 0.3], [0.1, 0.3]]  # red averages 0.2 there
    a[0, 0, 0] = 1.0  # outside the region: ignored
    a[1, 1:3, 1:3, 2] = 0.3
    err = metrics.region_colour_error(a, b, slice(1, 3), slice(1, 3))
    # image 0: |0.4 - 0.2|, |0.2 - 0|, |0 - 0| -> mean 0.4 / 3; image 1: 0.3 / 3
    np.testing.assert_allclose(err, [0.4 / 3, 0.1], rtol=1e-12)
    # a texture with the right mean colour has no colour error, though its L1 is large
    c = b.copy()
    c[1, 1:3, 1:3, 1] = [[0.0, 0.2], [0.2, 0.0]]
    d = b.copy()
    d[1, 1:3, 1:3, 1] = 0.1
    assert metrics.region_colour_error(c, d, slice(1, 3), slice(1, 3))[1] == pytest.approx(0)
    assert metrics.l1_per_image(c, d)[1] > 0


def test_psnr_known_values_and_identical_is_inf():
    a = _images(0, (4, 16, 16, 3))
    b = a + 0.1  # constant error 0.1 on [0, 1]: MSE 0.01 -> 20 dB
    np.testing.assert_allclose(metrics.psnr(a, b, 1.0), [20.0] * 4, atol=1e-4)
    # the same error on the 0..255 scale
    np.testing.assert_allclose(metrics.psnr(a * 255, b * 255, 255.0), [20.0] * 4, atol=1e-4)
    # error 0.01 -> 40 dB; per image, not pooled
    c = a.copy()
    c[1] += 0.01
    got = metrics.psnr(a, c, 1.0)
    assert np.isinf(got[0]) and got[0] > 0 and np.isinf(got[2:]).all()
    assert got[1] == pytest.approx(40.0, abs=1e-3)
    with pytest.raises(ValueError, match="data_range"):
        metrics.psnr(a, b, 0.0)


# ----------------------------------------------------------------------------- SSIM
def test_ssim_matches_tf_image_ssim_on_random_images():
    a, b = _images(1), _images(2)
    c = np.clip(a + np.random.default_rng(3).normal(0, 0.05, a.shape), 0, 1).astype(np.float32)
    for x, y in ((a, b), (a, c)):
        want = tf.image.ssim(tf.constant(x), tf.constant(y), max_val=1.0).numpy()
        np.testing.assert_allclose(metrics.ssim(x, y, 1.0), want, atol=1e-4)
    # a 128x128 RGB face-sized batch and a data range other than 1
    x, y = _images(4, (2, 128, 128, 3)), _images(5, (2, 128, 128, 3))
    y = 0.7 * x + 0.3 * y
    want = tf.image.ssim(tf.constant(x * 255), tf.constant(y * 255), max_val=255.0).numpy()
    np.testing.assert_allclose(metrics.ssim(x * 255, y * 255, 255.0), want, atol=1e-4)
    assert 0.2 < want.min() < 0.99  # a real, non-trivial value is being compared


def test_ssim_identical_is_one_and_constant_images_by_hand():
    a = _images(6)
    np.testing.assert_allclose(metrics.ssim(a, a), 1.0, atol=1e-12)
    # constant images: no variance, SSIM = luminance term (2 m1 m2 + C1) / (m1^2 + m2^2 + C1)
    x, y = np.full((1, 20, 20, 3), 0.5), np.full((1, 20, 20, 3), 0.6)
    c1 = (0.01 * 1.0) ** 2
    want = (2 * 0.5 * 0.6 + c1) / (0.25 + 0.36 + c1)
    np.testing.assert_allclose(metrics.ssim(x, y), [want], rtol=1e-12)
    assert want == pytest.approx(0.98361, abs=1e-5)


def test_gaussian_window():
    g = metrics.gaussian_window(11, 1.5)
    assert g.shape == (11,) and g.sum() == pytest.approx(1.0)
    assert g[5] == g.max() and g[0] == pytest.approx(g[10])
    assert g[4] / g[5] == pytest.approx(np.exp(-0.5 / 1.5 ** 2))


# ----------------------------------------------------------------------------- identification
def test_cosine_similarity_matrix_against_numpy_loop():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(5, 8)), rng.normal(size=(3, 8))
    want = np.array([[np.dot(p, g) / np.linalg.norm(p) / np.linalg.norm(g) for g in b]
                     for p in a])
    np.testing.assert_allclose(metrics.cosine_similarity_matrix(a, b), want, rtol=1e-12)
    assert metrics.cosine_similarity_matrix([[0.0, 0.0]], [[1.0, 2.0]])[0, 0] == 0.0
    with pytest.raises(ValueError, match=r"\[P, D\]"):
        metrics.cosine_similarity_matrix(a, b[:, :4])


def test_rank1_on_hand_made_features():
    gallery = np.eye(3)  # subject 10 -> e1, 20 -> e2, 30 -> e3
    gallery_labels = np.array([10, 20, 30])
    probes = np.array([[0.9, 0.1, 0.0],  # nearest 10, label 10: correct
                       [0.1, 1.0, 0.0],  # nearest 20, label 30: wrong
                       [0.0, 0.2, 5.0],  # nearest 30 (scale does not matter), label 30: correct
                       [-1.0, 0.0, 0.1]])  # nearest 30 (the only positive cosine), label 10: wrong
    labels = np.array([10, 30, 30, 10])
    acc, correct = metrics.rank1_identification(probes, labels, gallery, gallery_labels)
    assert acc == 0.5
    np.testing.assert_array_equal(correct, [True, False, True, False])


def test_rank1_tie_goes_to_first_gallery_entry():
    probe, label = np.array([[1.0, 1.0, 0.0]]), np.array([20])  # equally close to 10 and 20
    acc, _ = metrics.rank1_identification(probe, label, np.eye(3), np.array([10, 20, 30]))
    assert acc == 0.0  # tie -> gallery entry 0 (label 10): wrong
    swapped = np.eye(3)[[1, 0, 2]]
    acc, _ = metrics.rank1_identification(probe, label, swapped, np.array([20, 10, 30]))
    assert acc == 1.0  # same tie, label 20 first: right
    acc, correct = metrics.rank1_identification(np.zeros((0, 3)), [], np.eye(3), [1, 2, 3])
    assert np.isnan(acc) and correct.shape == (0,)
    with pytest.raises(ValueError, match="disagree"):
        metrics.rank1_identification(probe, [1, 2], np.eye(3), [1, 2, 3])


def test_mean_by_abs_yaw_pools_both_signs():
    yaw = np.array([-30, 30, 0, 15, -15, -15])
    ok = np.array([True, False, True, True, True, False])
    got = metrics.mean_by_abs_yaw(yaw, ok)
    assert list(got) == [0, 15, 30]
    assert got[0] == {"mean": 1.0, "count": 1}
    assert got[15]["count"] == 3 and got[15]["mean"] == pytest.approx(2 / 3)
    assert got[30] == {"mean": 0.5, "count": 2}
    assert metrics.mean_by_abs_yaw([0, 0], [np.inf, 20.0])[0]["mean"] == np.inf
