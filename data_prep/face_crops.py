"""Face crops for the FSRNet face records (fsrnet spec 8): one square box of the source image
and of its label map, resized to 128 x 128, with the landmarks moved into the crop. numpy and
OpenCV only (the records job's workers never import TensorFlow).

Two box rules:
  * "tight" (Helen, fsrnet spec 8.1: the shipped Helen faces are tight crops, not aligned to a
    template; the authors' crop code is unreleased): a square of side `scale` x the larger
    extent of the landmarks, centred on the centre of their bounding box. scale 1.2 is our
    choice [INF]; [CS] uses 2.0 around the landmark mean.
  * "center" (CelebA, spec 8.2: the shipped faces look like img_align_celeba with a roughly
    square central crop, resized to 128): the largest centred square, min(H, W) on a side,
    moved down by `offset` pixels (0: the exact centre) [INF].
The box is rounded to whole pixels; where it leaves the image the image is padded with black
and the labels with background (listed in the manifest's notes). The image is resized with
INTER_AREA when the box is larger than 128 (an antialiased downscale) and bicubically when it
is smaller; the label map is resized as one-hot planes (area), then arg-max, so thin parts
survive the downscale. Landmarks follow the pixel-centre convention (pixel (r, c) is centred
at x = c, y = r): x' = (x - x0 + 0.5) * 128 / side - 0.5.
"""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

FACE_SIZE = 128
TIGHT_SCALE = 1.2  # [INF], see the module doc
NUM_LABELS = 11  # Helen's 11 labels (tpgan_tf/models/fsrnet/prior_sets.py HELEN11)


@dataclasses.dataclass(frozen=True)
class Box:
    """A square crop box in source pixels: top-left corner (x0, y0) and side, integers."""

    x0: int
    y0: int
    side: int

    def padding(self, width: int, height: int) -> int:
        """How many pixels of the box lie outside a width x height image (0: none)."""
        inside_w = max(0, min(self.x0 + self.side, width) - max(self.x0, 0))
        inside_h = max(0, min(self.y0 + self.side, height) - max(self.y0, 0))
        return self.side * self.side - inside_w * inside_h


def tight_box(landmarks: np.ndarray, scale: float = TIGHT_SCALE) -> Box:
    """The "tight" box of landmarks [N, 2] (module doc)."""
    if scale <= 0:
        raise ValueError(f"crop scale must be > 0, got {scale}")
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    side = max(int(round(scale * float((hi - lo).max()))), 1)
    centre = (lo + hi) / 2.0
    # the pixel centres x0 .. x0 + side - 1 are centred on `centre`
    x0, y0 = (int(round(c - (side - 1) / 2.0)) for c in centre)
    return Box(x0, y0, side)


def center_box(width: int, height: int, offset: int = 0) -> Box:
    """The "center" box of a width x height image (module doc)."""
    side = min(width, height)
    return Box((width - side) // 2, (height - side) // 2 + int(offset), side)


def _cut(array: np.ndarray, box: Box) -> np.ndarray:
    """array[y0:y0+side, x0:x0+side] with zero padding outside (any trailing channels)."""
    h, w = array.shape[:2]
    out = np.zeros((box.side, box.side) + array.shape[2:], array.dtype)
    ys, xs = max(box.y0, 0), max(box.x0, 0)
    ye, xe = min(box.y0 + box.side, h), min(box.x0 + box.side, w)
    if ye > ys and xe > xs:
        out[ys - box.y0:ye - box.y0, xs - box.x0:xe - box.x0] = array[ys:ye, xs:xe]
    return out


def _resize(array: np.ndarray, size: int) -> np.ndarray:
    interpolation = cv2.INTER_AREA if array.shape[0] > size else cv2.INTER_CUBIC
    return cv2.resize(array, (size, size), interpolation=interpolation)


def crop_image(image: np.ndarray, box: Box, size: int = FACE_SIZE) -> np.ndarray:
    """RGB uint8 [H, W, 3] -> the box resized to [size, size, 3] uint8."""
    return _resize(_cut(image, box), size)


def crop_labels(labels: np.ndarray, box: Box, size: int = FACE_SIZE,
                num_labels: int = NUM_LABELS) -> np.ndarray:
    """uint8 label ids [H, W] -> [size, size] uint8: one-hot planes cut and area-resized, then
    arg-max (ties go to the lower label; pixels outside the image are background 0)."""
    cut = _cut(labels, box)
    planes = np.stack([_resize((cut == k).astype(np.float32), size) for k in range(num_labels)],
                      axis=-1)
    return np.argmax(planes, axis=-1).astype(np.uint8)


def crop_label_planes(planes: np.ndarray, box: Box, size: int = FACE_SIZE) -> np.ndarray:
    """Per-label probability planes [H, W, L] (e.g. Smith et al.'s LPMs, 0..255) -> [size, size]
    uint8 ids: each plane cut and area-resized, then arg-max (outside the image: label 0)."""
    cut = _cut(planes.astype(np.float32), box)
    h, w = planes.shape[:2]
    inside = _cut(np.ones((h, w), np.float32), box)
    cut[..., 0] = np.where(inside > 0, cut[..., 0], 255.0)  # padding is background
    resized = np.stack([_resize(cut[..., k], size) for k in range(cut.shape[-1])], axis=-1)
    return np.argmax(resized, axis=-1).astype(np.uint8)


def crop_landmarks(landmarks: np.ndarray, box: Box, size: int = FACE_SIZE) -> np.ndarray:
    """[N, 2] source pixel coordinates -> crop coordinates (module doc), float32."""
    scale = size / box.side
    origin = np.array([box.x0, box.y0], np.float64)
    return ((np.asarray(landmarks, np.float64) - origin + 0.5) * scale - 0.5).astype(np.float32)


def landmark_problem(landmarks, width: int, height: int, count: int | None = None) -> str | None:
    """Why landmarks [N, 2] cannot be used with a width x height image (None when fine):
    a wrong count, non-finite values, or points outside the image (-0.5 .. size - 0.5)."""
    points = np.asarray(landmarks, np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        return f"landmarks must be N x 2, got shape {points.shape}"
    if count is not None and len(points) != count:
        return f"expected {count} landmarks, got {len(points)}"
    if not np.all(np.isfinite(points)):
        return "landmarks are not all finite"
    bad = (points[:, 0] < -0.5) | (points[:, 0] > width - 0.5) | (points[:, 1] < -0.5) | (
        points[:, 1] > height - 0.5)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return (f"landmark {i} at ({points[i, 0]:.1f}, {points[i, 1]:.1f}) is outside the "
                f"{width}x{height} image ({int(bad.sum())} points outside)")
    return None
