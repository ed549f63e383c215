"""Image-quality and identification metrics (tpgan spec 7.1, drgan spec 5.1), in plain numpy.

Every function is pure (no state, no TensorFlow) and takes float arrays; images are channels
last, [..., H, W, C], with the leading axes a batch. Per-image results keep the leading axes.
"""
from __future__ import annotations

import numpy as np

# Wang et al. 2004 SSIM constants (also tf.image.ssim's defaults).
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _check_pair(a: np.ndarray, b: np.ndarray, min_ndim: int = 1) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the two arrays must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim < min_ndim:
        raise ValueError(f"expected at least {min_ndim} dimensions, got shape {a.shape}")
    return a, b


def l1_mean(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference over every element. a, b: any equal shapes -> float."""
    a, b = _check_pair(a, b)
    return float(np.mean(np.abs(a - b)))


def l1_per_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image mean absolute difference. a, b: [..., H, W, C] -> [...] float64."""
    a, b = _check_pair(a, b, 3)
    return np.mean(np.abs(a - b), axis=(-3, -2, -1))


def region_colour_error(a: np.ndarray, b: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """Per-image error of the mean colour of a region: the mean over channels of |mean of a's
    region - mean of b's region| (a skin tone that drifts shows here, a shifted or blurred
    face hardly). a, b: [..., H, W, C] -> [...] float64."""
    a, b = _check_pair(a, b, 3)
    mean_a = np.mean(a[..., rows, cols, :], axis=(-3, -2))
    mean_b = np.mean(b[..., rows, cols, :], axis=(-3, -2))
    return np.mean(np.abs(mean_a - mean_b), axis=-1)


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Per-image peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE).

    a, b: [..., H, W, C] -> [...] float64; +inf where the two images are identical.
    """
    a, b = _check_pair(a, b, 3)
    if data_range <= 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    mse = np.mean(np.square(a - b), axis=(-3, -2, -1))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range ** 2 / mse)  # mse 0 -> +inf


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """[size] normalised 1-D Gaussian taps (the 2-D SSIM window is its outer product)."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-0.5 * np.square(x / sigma))
    return g / g.sum()


def _filter_valid(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable 'valid' correlation of [..., H, W, C] with taps x taps -> [..., H-k+1, W-k+1, C].

    Written as k shifted adds per axis: no big intermediate windows array.
    """
    k = len(taps)
    h, w = x.shape[-3], x.shape[-2]
    rows = sum(taps[i] * x[..., i:h - k + 1 + i, :, :] for i in range(k))
    return sum(taps[i] * rows[..., :, i:w - k + 1 + i, :] for i in range(k))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0, window: int = SSIM_WINDOW,
         sigma: float = SSIM_SIGMA, k1: float = SSIM_K1, k2: float = SSIM_K2) -> np.ndarray:
    """Per-image SSIM (Wang et al. 2004), computed per channel and averaged over channels.

    Gaussian window `window` x `window` with std `sigma`, applied 'valid' (no padding; the
    window shrinks to the image if the image is smaller), C1 = (k1 L)^2, C2 = (k2 L)^2 with
    L = data_range. The SSIM map is averaged over space and channels. This is the definition
    of tf.image.ssim (same defaults), so RGB results match it.
    a, b: [..., H, W, C] -> [...] float64; exactly 1 for identical images.
    """
    a, b = _check_pair(a, b, 3)
    window = min(window, a.shape[-3], a.shape[-2])
    taps = gaussian_window(window, sigma)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    mu_a, mu_b = _filter_valid(a, taps), _filter_valid(b, taps)
    mu_ab, mu_aa_bb = mu_a * mu_b, np.square(mu_a) + np.square(mu_b)
    cov_ab = _filter_valid(a * b, taps) - mu_ab  # sigma_ab
    var_sum = _filter_valid(np.square(a) + np.square(b), taps) - mu_aa_bb  # sigma_a^2 + sigma_b^2
    luminance = (2.0 * mu_ab + c1) / (mu_aa_bb + c1)
    contrast_structure = (2.0 * cov_ab + c2) / (var_sum + c2)
    return np.mean(luminance * contrast_structure, axis=(-3, -2, -1))


def cosine_similarity_matrix(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Cosine similarity of every row of a with every row of b.

    a: [P, D], b: [G, D] -> [P, G] float64, entry (i, j) = <a_i, b_j> / (|a_i| |b_j|).
    A zero row has similarity 0 with everything (its norm is clamped to eps).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need [P, D] and [G, D] features, got {a.shape} and {b.shape}")
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), eps)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), eps)
    return a @ b.T


def rank1_identification(probe_features: np.ndarray, probe_labels: np.ndarray,
                         gallery_features: np.ndarray, gallery_labels: np.ndarray
                         ) -> tuple[float, np.ndarray]:
    """Rank-1 identification by cosine similarity (tpgan spec 7.1, drgan spec 5.1).

    probe_features [P, D], probe_labels [P], gallery_features [G, D], gallery_labels [G].
    Each probe is assigned the label of its most similar gallery entry; ties go to the
    gallery entry that comes first in the given order (np.argmax). The gallery may hold several
    entries per label. Returns (accuracy in [0, 1] - nan when P = 0, correct [P] bool).
    """
    probe_labels = np.asarray(probe_labels).reshape(-1)
    gallery_labels = np.asarray(gallery_labels).reshape(-1)
    if len(probe_labels) != len(probe_features) or len(gallery_labels) != len(gallery_features):
        raise ValueError(f"features and labels disagree: probes {np.shape(probe_features)} vs "
                         f"{probe_labels.shape}, gallery {np.shape(gallery_features)} vs "
                         f"{gallery_labels.shape}")
    if len(gallery_labels) == 0:
        raise ValueError("the gallery is empty")
    if len(probe_labels) == 0:
        return float("nan"), np.zeros([0], dtype=bool)
    sims = cosine_similarity_matrix(probe_features, gallery_features)
    predicted = gallery_labels[np.argmax(sims, axis=1)]
    correct = predicted == probe_labels
    return float(np.mean(correct)), correct


def mean_by_abs_yaw(yaw: np.ndarray, values: np.ndarray) -> dict[int, dict]:
    """Groups per-example values by |yaw| (both yaw signs pooled, tpgan spec 7.1).

    yaw [N] (degrees, signed), values [N] (numbers or bools) ->
    {|yaw|: {"mean": float, "count": int}} sorted by |yaw|. A group containing +inf has mean inf.
    """
    yaw = np.abs(np.asarray(yaw).reshape(-1)).astype(int)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if yaw.shape != values.shape:
        raise ValueError(f"yaw {yaw.shape} and values {values.shape} must have the same length")
    out = {}
    for pose in np.unique(yaw):
        group = values[yaw == pose]
        out[int(pose)] = {"mean": float(np.mean(group)), "count": int(group.size)}
    return out
