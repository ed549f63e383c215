"""Super-resolution metrics of the FSRNet evaluation protocol (fsrnet spec 9), numpy only.

PSNR is the official Torch7 script's [OFF]: per image, RGB in [0, 1] -> the MATLAB BT.601
luma Y = 16 + 65.481 R + 128.553 G + 24.966 B (range 16..235), the Y plane TRUNCATED to
bytes (not rounded), MSE over all pixels (no border crop), MSE clamped to >= 1, PSNR =
10 log10(255^2 / MSE): at most 48.13 dB, reached by identical images. The reported number
is the mean of the per-image values. Images are clipped to [0, 1] first (the network's
linear output may leave the range; Torch's byte cast would wrap it).

SSIM is not in the official script (fsrnet spec 9): here Wang et al.'s SSIM (Gaussian 11 x 11,
sigma 1.5, K1 0.01, K2 0.03, 'valid' window, evaluation.metrics.ssim) on the same
byte-truncated Y plane, with data range 255.

NME: the mean point-to-point landmark error divided by the inter-ocular distance, the
distance between two eye points (or the centroids of two groups of points) per scheme:
  ibug68    outer eye corners, points 36 and 45 (0-based; the 300-W definition)
  celeba5   the two eye centres, points 0 and 1
  helen194  the centroids of the two eye contours, points 114-133 and 134-153 (Helen's
            order: jaw 0-40, nose 41-57, outer lip 58-85, inner lip 86-113, eyes 114-133 and
            134-153, brows 154-173 and 174-193) [INF]
Images are channels last [..., H, W, 3]; per-image results keep the leading axes.
"""
from __future__ import annotations

import numpy as np

from tpgan_tf.evaluation.metrics import ssim as _ssim

Y_OFFSET = 16.0
Y_WEIGHTS = (65.481, 128.553, 24.966)  # MATLAB rgb2ycbcr, RGB in [0, 1]
PEAK = 255.0
MIN_MSE = 1.0  # the official clamp: PSNR <= 10 log10(255^2) = 48.13 dB

INTEROCULAR_POINTS = {
    "ibug68": ((36,), (45,)),
    "celeba5": ((0,), (1,)),
    "helen194": (tuple(range(114, 134)), tuple(range(134, 154))),
}


def _images(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim < 3 or a.shape[-1] != 3:
        raise ValueError(f"{name} must be RGB images [..., H, W, 3], got shape {a.shape}")
    return a


def rgb_to_y(rgb) -> np.ndarray:
    """MATLAB BT.601 luma of RGB in [0, 1]: [..., H, W, 3] -> [..., H, W] float64 in [16, 235]
    (no clipping, no rounding)."""
    rgb = _images(rgb, "rgb")
    return Y_OFFSET + rgb @ np.asarray(Y_WEIGHTS, np.float64)


def y_bytes(rgb) -> np.ndarray:
    """The official script's Y plane: clip RGB to [0, 1], rgb_to_y, truncate to bytes.
    [..., H, W, 3] -> [..., H, W] float64 of integers in 16..235."""
    return np.floor(rgb_to_y(np.clip(_images(rgb, "rgb"), 0.0, 1.0)))


def _pair(sr, hr) -> tuple[np.ndarray, np.ndarray]:
    sr, hr = _images(sr, "sr"), _images(hr, "hr")
    if sr.shape != hr.shape:
        raise ValueError(f"sr and hr must have one shape, got {sr.shape} and {hr.shape}")
    return sr, hr


def y_psnr(sr, hr) -> np.ndarray:
    """Per-image official Y-PSNR in dB (module doc): sr, hr [..., H, W, 3] RGB in [0, 1]
    -> [...] float64, each <= 48.13."""
    sr, hr = _pair(sr, hr)
    mse = np.mean(np.square(y_bytes(sr) - y_bytes(hr)), axis=(-2, -1))
    return 10.0 * np.log10(PEAK ** 2 / np.maximum(mse, MIN_MSE))


def y_ssim(sr, hr) -> np.ndarray:
    """Per-image SSIM on the byte-truncated Y plane, data range 255 (module doc):
    sr, hr [..., H, W, 3] RGB in [0, 1] -> [...] float64."""
    sr, hr = _pair(sr, hr)
    return _ssim(y_bytes(sr)[..., None], y_bytes(hr)[..., None], data_range=PEAK)


def mean_of(values) -> float:
    """The reported number: the mean of per-image values (nan for none)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return float(np.mean(values)) if values.size else float("nan")


def interocular_distance(landmarks, scheme: str) -> np.ndarray:
    """[..., N, 2] (x, y) ground-truth landmarks -> [...] distance between the scheme's two
    eye points / eye-point centroids (module doc)."""
    if scheme not in INTEROCULAR_POINTS:
        raise ValueError(f"unknown landmark scheme {scheme!r}; choose one of {sorted(INTEROCULAR_POINTS)}")
    landmarks = np.asarray(landmarks, dtype=np.float64)
    left, right = INTEROCULAR_POINTS[scheme]
    if landmarks.ndim < 2 or landmarks.shape[-1] != 2 or landmarks.shape[-2] <= max(right + left):
        raise ValueError(f"scheme {scheme!r} needs landmarks [..., N, 2] with N > {max(right + left)}, "
                         f"got shape {landmarks.shape}")
    a = landmarks[..., list(left), :].mean(axis=-2)
    b = landmarks[..., list(right), :].mean(axis=-2)
    return np.linalg.norm(a - b, axis=-1)


def nme(predicted, ground_truth, scheme: str) -> np.ndarray:
    """Per-image normalised mean error: mean over points of |p - g| / inter-ocular distance
    of g. predicted, ground_truth [..., N, 2] (x, y), same units -> [...] float64. Points
    whose ground truth is NaN are left out of the mean."""
    p = np.asarray(predicted, dtype=np.float64)
    g = np.asarray(ground_truth, dtype=np.float64)
    if p.shape != g.shape:
        raise ValueError(f"predicted and ground_truth must have one shape, got {p.shape} and {g.shape}")
    d = interocular_distance(g, scheme)
    if np.any(d <= 0):
        raise ValueError(f"inter-ocular distance must be > 0, got {d[d <= 0]}")
    err = np.linalg.norm(p - g, axis=-1)  # [..., N], NaN where g (or p) is NaN
    return np.nanmean(err, axis=-1) / d
