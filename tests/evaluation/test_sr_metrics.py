"""Official FSRNet SR metrics (fsrnet spec 9) against values computed by hand."""
import numpy as np
import pytest

from tpgan_tf.evaluation import sr_metrics as M
from tpgan_tf.evaluation.metrics import gaussian_window


def test_bt601_luma_of_known_colours():
    rgb = np.array([[[0, 0, 0], [1, 1, 1], [1, 0, 0], [0.5, 0.25, 1.0]]], np.float64)[None]
    y = M.rgb_to_y(rgb)[0, 0]
    np.testing.assert_allclose(y, [16.0, 235.0, 16 + 65.481,
                                   16 + 65.481 * 0.5 + 128.553 * 0.25 + 24.966])


def test_identical_images_give_48_13_db():
    img = np.random.default_rng(0).uniform(size=(3, 8, 8, 3))
    np.testing.assert_allclose(M.y_psnr(img, img), 10 * np.log10(255.0 ** 2), rtol=1e-12)
    assert round(float(M.y_psnr(img, img)[0]), 2) == 48.13


def test_psnr_truncates_to_bytes_and_clamps_the_mse():
    hr = np.zeros((1, 2, 2, 3))  # Y = 16 everywhere
    # Y = 16 + 0.9 * 219 = 213.1 at one pixel -> byte 213 (truncated, not 213.1 or rounded).
    sr = hr.copy()
    sr[0, 0, 0] = 0.9
    mse = (213 - 16) ** 2 / 4
    np.testing.assert_allclose(M.y_psnr(sr, hr), [10 * np.log10(255 ** 2 / mse)])
    # Y 16 + 219 * 0.0045 = 16.99 truncates to 16: no error at all -> the MSE clamp, 48.13 dB.
    tiny = np.full((1, 2, 2, 3), 0.0045)
    np.testing.assert_allclose(M.y_psnr(tiny, hr), [10 * np.log10(255 ** 2)])
    # 0.0046 -> Y 17.007 -> byte 17: MSE 1 everywhere, also 48.13 (clamp boundary).
    np.testing.assert_allclose(M.y_psnr(np.full((1, 2, 2, 3), 0.0046), hr), [10 * np.log10(255 ** 2)])
    # Values outside [0, 1] are clipped first: 1.7 counts as 1 (Y 235).
    over = hr.copy()
    over[0, 1, 1] = 1.7
    np.testing.assert_allclose(M.y_psnr(over, hr), [10 * np.log10(255 ** 2 / ((235 - 16) ** 2 / 4))])


def test_psnr_is_per_image_and_mean_of():
    rng = np.random.default_rng(1)
    hr = rng.uniform(size=(4, 16, 16, 3))
    sr = np.clip(hr + rng.normal(0, 0.05, hr.shape), 0, 1)
    y = lambda a: np.floor(16 + a @ np.array([65.481, 128.553, 24.966]))  # noqa: E731
    want = [10 * np.log10(255 ** 2 / max(np.mean((y(s) - y(h)) ** 2), 1)) for s, h in zip(sr, hr)]
    got = M.y_psnr(sr, hr)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert M.mean_of(got) == pytest.approx(np.mean(want))
    assert np.isnan(M.mean_of([]))


def test_ssim_on_byte_y_by_hand():
    rng = np.random.default_rng(2)
    hr = rng.uniform(size=(11, 11, 3))  # one 11 x 11 window: SSIM is a single weighted sum
    sr = np.clip(hr + rng.normal(0, 0.1, hr.shape), 0, 1)
    a, b = M.y_bytes(sr), M.y_bytes(hr)
    w = np.outer(gaussian_window(11, 1.5), gaussian_window(11, 1.5))
    mu_a, mu_b = (w * a).sum(), (w * b).sum()
    var_a, var_b = (w * a * a).sum() - mu_a ** 2, (w * b * b).sum() - mu_b ** 2
    cov = (w * a * b).sum() - mu_a * mu_b
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    want = (2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    np.testing.assert_allclose(M.y_ssim(sr, hr), want, rtol=1e-10)
    np.testing.assert_allclose(M.y_ssim(hr[None], hr[None]), [1.0])


def test_nme_normalises_by_the_interocular_distance():
    gt = np.zeros((68, 2))
    gt[36], gt[45] = [30.0, 50.0], [90.0, 50.0]  # outer eye corners 60 px apart
    pred = gt.copy()
    pred[0] += [3.0, 4.0]  # one point 5 px off
    np.testing.assert_allclose(M.nme(pred, gt, "ibug68"), 5 / 68 / 60)
    five = np.array([[[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]]], np.float64)
    off = five + [0.0, 2.0]
    np.testing.assert_allclose(M.nme(off, five, "celeba5"), [2 / 40])
    helen = np.zeros((194, 2))
    helen[114:134], helen[134:154] = [20.0, 0.0], [70.0, 0.0]
    np.testing.assert_allclose(M.interocular_distance(helen, "helen194"), 50.0)
    gt_missing = gt.copy()
    gt_missing[0] = np.nan  # a missing ground-truth point is left out
    np.testing.assert_allclose(M.nme(pred, gt_missing, "ibug68"), 0.0)
    with pytest.raises(ValueError, match="unknown landmark scheme"):
        M.nme(pred, gt, "mpii")
    with pytest.raises(ValueError, match="needs landmarks"):
        M.nme(five, five, "ibug68")


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="one shape"):
        M.y_psnr(np.zeros((1, 4, 4, 3)), np.zeros((1, 4, 5, 3)))
    with pytest.raises(ValueError, match="RGB"):
        M.y_psnr(np.zeros((1, 4, 4)), np.zeros((1, 4, 4)))
