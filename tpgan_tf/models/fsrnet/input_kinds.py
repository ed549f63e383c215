"""Which kind of image a file handed to FSRNet is (experiments/super_resolve.py --input_kind).

Three kinds reach the network differently (serving.SuperResolver; S = 128, s = S / 8 = 16):
  lr         a small face of the model's LR side s x s: upsampled in the graph (super_resolve);
  upsampled  an LR face ALREADY bicubic-upsampled to S x S, the format of the official test
             files (fsrnet spec 1): the network input itself (super_resolve_upsampled); it
             must not be shrunk and blurred a second time;
  hr         any other face crop: reduced to s x s by the spec 1 degradation first.

`auto_kind` tells them apart: s x s is lr; a square S x S image is upsampled when it is, up to
rounding and JPEG noise, a bicubic upsampling of SOME s x s image, i.e. when it is close to
its least-squares projection onto the bicubic upsamplings of s x s images:

    upsampling PSNR = PSNR(image, U pinv(U) image pinv(U)^T U^T)      (per channel, 8-bit scale)

with U the [S, s] matrix of the 1-D bicubic upsampling (tf.image.resize, the serving graph's
own), applied to rows and columns. An upsampled file keeps nothing outside the range of U, an
HR face keeps all its fine detail there. Calibration (50 synthetic faces of
data_prep/synthetic, seed 5, identities 0-24, views 0-1, antialiased bicubic x1/8 then x8 as
in training):
    HR faces                          20.8 .. 34.7 dB (JPEG q75: 20.7 .. 34.8)
    bicubic-upsampled LR              52.5 .. 60.0 dB (JPEG q75: 44.4 .. 50.8)
    other upsamplers of the same LR   Pillow bicubic 54.2 .. 58.7, OpenCV INTER_CUBIC
                                      43.0 .. 54.7, INTER_LINEAR 44.2 .. 55.5 dB
so the threshold is UPSAMPLED_PSNR_DB = 38 dB, near the middle of the gap between the highest
HR face (34.8) and the lowest upsampled file (43.0), a little lower to leave room for noisier
upsampled files. Checked by hand on the FSRNet release's test files (JPEG q75; not part of the
tests): Helen's 50 LR files 42.5 .. 47.3 dB and CelebA's 1,000 40.9 .. 49.4 dB (all
"upsampled"), their HR files 18.8 .. 26.8 and 17.7 .. 30.5 dB (all "hr").
(Nearest-neighbour enlargements, 25 .. 38 dB on the synthetic faces, count as HR faces.) The
simpler re-degradation measure PSNR(image, up(down(image))) overlaps on the synthetic faces
(HR up to 34.3 dB, upsampled JPEG files from 33.9 dB): down() blurs the LR face again.
"""
from __future__ import annotations

import functools

import numpy as np

KINDS = ("auto", "lr", "upsampled", "hr")
UPSAMPLED_PSNR_DB = 38.0  # calibrated above


@functools.lru_cache(maxsize=8)
def upsampling_projector(small: int, size: int) -> np.ndarray:
    """[size, size] float64: the orthogonal projector U pinv(U) onto the 1-D bicubic
    upsamplings of `small` samples to `size` (U as tf.image.resize bicubic, antialias)."""
    import tensorflow as tf

    basis = np.eye(small, dtype=np.float32)[:, :, None, None]  # small unit impulses, [n, n, 1, 1]
    columns = tf.image.resize(basis, (size, 1), method="bicubic", antialias=True)
    upsample = columns.numpy()[:, :, 0, 0].T.astype(np.float64)  # U: [size, small]
    return upsample @ np.linalg.pinv(upsample)


def upsampling_psnr(image: np.ndarray, small: int) -> float:
    """PSNR (dB, 8-bit scale, capped at 99) between a square uint8 image [S, S, C] and its
    projection onto the bicubic upsamplings of small x small images (module doc)."""
    image = np.asarray(image)
    size = image.shape[0]
    if image.ndim != 3 or image.shape[1] != size:
        raise ValueError(f"upsampling_psnr needs a square [S, S, C] image, got {image.shape}")
    p = upsampling_projector(small, size)
    x = np.moveaxis(image.astype(np.float64), -1, 0)  # [C, S, S]
    projected = p @ x @ p.T  # per channel; p is symmetric
    mse = float(np.mean((x - projected) ** 2))
    return 99.0 if mse < 255.0 ** 2 * 10 ** -9.9 else 10.0 * np.log10(255.0 ** 2 / mse)


def auto_kind(image: np.ndarray, small: int, size: int,
              threshold: float = UPSAMPLED_PSNR_DB) -> tuple[str, float | None]:
    """(kind, upsampling PSNR or None) of an RGB image [H, W, 3] by the module doc's rule:
    "lr" when it is small x small, "upsampled" when it is size x size with an upsampling
    PSNR >= threshold, else "hr". The PSNR is measured on size x size images only."""
    h, w = image.shape[:2]
    if (h, w) == (small, small):
        return "lr", None
    if (h, w) == (size, size):
        psnr = upsampling_psnr(image, small)
        return ("upsampled" if psnr >= threshold else "hr"), psnr
    return "hr", None
