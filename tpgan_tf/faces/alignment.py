"""tpgan spec 1.2 alignment (MATLAB `face_db_align_single_custom.m`) in numpy/OpenCV.

Used by the data preparation (its worker processes never import TF) and by tools on photos;
the TF twin for exported graphs is alignment_tf.py, tested against this module.

Geometry (all in 0-based pixel-centre coordinates, see tpgan_tf/faces/landmarks.py):
  e = mean of the two eyes, m = mean of the two mouth corners (raw image);
  roll  = atan((y_le - y_re) / (x_le - x_re)), 0 if both eyes have the same x   (tpgan spec 1.2 step 1)
  R     = rotation by the roll that levels the eye line                            (step 2)
  d     = (R m - R e)_y, the eye-to-mouth height after rotation;
  s     = 48 / d, or 1 if d <= 0                                                   (step 4)
  crop(p) = s R (p - e) + (64, 40)                                                 (step 5)
MATLAB rotates about the image centre onto an enlarged ("loose") canvas, resizes about the
canvas centre and then crops around the eye centre. Each of those centre shifts is a
translation, and the crop origin is defined relative to the transformed eye centre, so they all
cancel: the whole chain is the one similarity above. The loose canvas only guarantees that
nothing is cut before cropping; sampling the raw image directly with zero fill outside gives the
same result.

Choice: when the face is enlarged or kept (s >= 1) we resample ONCE (cv2.warpAffine,
INTER_CUBIC, zero border) instead of MATLAB's two bicubic resamples (imrotate, then imresize):
one interpolation blurs less. When it is shrunk (s < 1), MATLAB's imresize antialiases, and a
plain cubic warp would alias (it point-samples), so we first shrink the raw image by exactly s
with MATLAB's own antialiased bicubic kernel (Keys a = -0.5 widened by 1/s, symmetric border:
`imresize_antialiased`) and then apply the remaining rotation + translation with one cubic warp
in float32 (rounded to uint8 once, at the end). The geometry is exact in both paths: the second
warp is composed with the exact pixel mapping of the resize. We did not use cv2.INTER_AREA: it
is a box prefilter, which leaves visible aliasing (1-px stripes shrunk 3x come out as 85/170
columns instead of flat grey), whereas the widened cubic matches MATLAB.

Differences to MATLAB, all sub-pixel or cosmetic:
  * MATLAB rounds the rotated eye and mouth centres before computing s and the crop origin
    (origin error up to 0.5 px, relative scale error up to ~1/d); we keep them continuous, so the
    eye centre lands exactly on (64, 40) and the eye-to-mouth height is exactly 48 (0-based;
    (65, 41) in MATLAB's 1-based coordinates, the template's y = 41.00 of tpgan spec 1.2).
  * MATLAB's `transform` rotates about size/2 in 1-based coordinates (half a pixel from
    imrotate's real centre); we use the exact centre (the centre cancels anyway, see above).
  * Cubic kernel of the rotation/upscaling warp: OpenCV a = -0.75, MATLAB a = -0.5.
  * Order: for s < 1 we shrink then rotate, MATLAB rotates then shrinks (same geometry).
  * Landmarks are rounded once at the end (MATLAB rounds after rotation and after scaling).
  * MATLAB's quirk of taking the landmark offset from the clipped crop box (tpgan spec 1.2 step 6) is
    not reproduced: landmarks always refer to the nominal crop; `clipped` reports the case.
  * MATLAB divides by zero when d == 0; we use s = 1 for d <= 0.
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from tpgan_tf.faces.landmarks import to_index_points

CROP_SIZE = 128  # tpgan spec 1.2 img_size
EC_Y = 40  # tpgan spec 1.2 ec_y: eye-centre row in the crop (0-based; 41 1-based)
EC_MC_Y = 48  # tpgan spec 1.2 ec_mc_y: eye-centre to mouth-centre height
# tpgan spec 1.2 template (mean frontal landmarks, 1-based x, y, from `partCombiner`).
_TEMPLATE_1BASED = ((43.58, 41.00), (86.42, 41.00), (64.12, 64.75), (47.59, 88.86), (82.59, 89.11))


def template_landmarks() -> np.ndarray:
    """tpgan spec 1.2 template in 0-based pixel-centre crop coordinates (1-based values - 1), [5, 2]."""
    return np.asarray(_TEMPLATE_1BASED, dtype=np.float64) - 1.0


def face_region() -> tuple[slice, slice]:
    """(rows, cols) of the central face in a 128 x 128 aligned crop: from the template's eye
    line down to its mouth corners, between its two eye centres (cheeks, nose and mouth,
    little hair or background). Rows 40-88 and columns 43-85 (0-based, inclusive)."""
    t = template_landmarks()
    rows = slice(int(round(t[:2, 1].mean())), int(round(t[3:, 1].mean())) + 1)
    cols = slice(int(round(t[0, 0])), int(round(t[1, 0])) + 1)
    return rows, cols


@dataclasses.dataclass(frozen=True, eq=False)
class AlignedFace:
    """Result of `align_face`.

    image: uint8 [128, 128, 3] crop.
    landmarks: float64 [5, 2] (x, y), 0-based pixel centres in the crop (eye centre = (64, 40)).
    landmarks_rounded: int64 [5, 2], the `.5pt` convention = MATLAB-round(landmarks) + 1, i.e.
        MATLAB's 1-based crop coordinates, which the original Python uses as 0-based indices
        (tpgan spec 1.3). Feed these (or `read_5pt` values) to `patches.crop_parts`.
    matrix: float64 [2, 3], raw (0-based) -> crop (0-based): crop = matrix @ [x, y, 1].
    clipped: True if part of the crop lies outside the raw image (zero-filled there).
    roll_degrees: tpgan spec 1.2 step 1 angle; scale: step 4 factor s.
    """

    image: np.ndarray
    landmarks: np.ndarray
    landmarks_rounded: np.ndarray
    matrix: np.ndarray
    clipped: bool
    roll_degrees: float
    scale: float


def roll_angle(landmarks5) -> float:
    """tpgan spec 1.2 step 1: degrees of atan(eye-line slope); 0 when both eyes share the same x."""
    p = np.asarray(landmarks5, dtype=np.float64)
    dx = p[0, 0] - p[1, 0]
    if dx == 0:
        return 0.0
    return math.degrees(math.atan((p[0, 1] - p[1, 1]) / dx))


def alignment_matrix(landmarks5, crop_size: int = CROP_SIZE, ec_y: float = EC_Y,
                     ec_mc_y: float = EC_MC_Y) -> tuple[np.ndarray, float, float]:
    """(2x3 raw -> crop matrix, roll in degrees, scale) for 0-based raw landmarks [5, 2]."""
    p = np.asarray(landmarks5, dtype=np.float64)
    roll = roll_angle(p)
    t = math.radians(roll)
    # Rotation that levels the eye line, in x-right / y-down coordinates (MATLAB's
    # `transform` with angle -roll): (x, y) -> (x cos t + y sin t, -x sin t + y cos t).
    rot = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    eye = p[0:2].mean(axis=0)
    mouth = p[3:5].mean(axis=0)
    d = (rot @ (mouth - eye))[1]
    scale = ec_mc_y / d if d > 0 else 1.0  # tpgan spec 1.2 step 4 ("if negative, use 1")
    lin = scale * rot
    # Step 5: crop top = eye_y - ec_y, left = eye_x - floor(size / 2).
    offset = np.array([crop_size // 2, ec_y], dtype=np.float64) - lin @ eye
    return np.hstack([lin, offset[:, None]]), roll, scale


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"align_face expects a uint8 image, got {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3):
        raise ValueError(f"align_face expects [H, W], [H, W, 1] or [H, W, 3], got {img.shape}")
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img)


def _to3(m2x3: np.ndarray) -> np.ndarray:
    return np.vstack([m2x3, [0.0, 0.0, 1.0]])


def apply_matrix(matrix: np.ndarray, points) -> np.ndarray:
    """Map [N, 2] points through a 2x3 affine matrix."""
    p = np.asarray(points, dtype=np.float64)
    return p @ matrix[:, :2].T + matrix[:, 2]


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys cubic kernel with a = -0.5 (MATLAB imresize 'bicubic')."""
    ax = np.abs(x)
    return np.where(ax <= 1, (1.5 * ax - 2.5) * ax * ax + 1,
                    np.where(ax < 2, ((-0.5 * ax + 2.5) * ax - 4) * ax + 2, 0.0))


def _shrink_taps(n: int, scale: float, start: int = 0, stop: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Taps of MATLAB's antialiased bicubic shrink of an axis of length n by `scale` < 1.

    Output length is ceil(scale * n); output i is centred at input (i + 0.5) / scale - 0.5 and
    uses the Keys kernel widened by 1 / scale. Returns (indices [m, taps], weights [m, taps])
    for the outputs start..stop-1 only; indices outside the axis are mirrored (MATLAB's
    'symmetric' border).
    """
    m = max(1, math.ceil(scale * n))
    stop = m if stop is None else min(stop, m)
    centre = (np.arange(max(0, start), stop) + 0.5) / scale - 0.5
    taps = math.ceil(4.0 / scale) + 2  # kernel support is 4 / scale input pixels
    idx = np.floor(centre - 2.0 / scale)[:, None].astype(np.int64) + np.arange(taps)[None, :]
    weights = scale * _cubic(scale * (centre[:, None] - idx))
    weights /= weights.sum(axis=1, keepdims=True)
    idx = np.where(idx < 0, -idx - 1, idx)  # mirror: -1 -> 0, -2 -> 1, ...
    idx = np.where(idx >= n, 2 * n - 1 - idx, idx)  # n -> n - 1, n + 1 -> n - 2, ...
    idx = np.clip(idx, 0, n - 1)  # images shorter than the kernel: clamp what is left
    return idx, weights.astype(np.float32)


def _apply_taps(img: np.ndarray, idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """out[i] = sum_t weights[i, t] * img[idx[i, t]] along axis 0 (float32)."""
    out = np.zeros((idx.shape[0],) + img.shape[1:], dtype=np.float32)
    w = weights.reshape(weights.shape + (1,) * (img.ndim - 1))
    for t in range(idx.shape[1]):
        out += w[:, t] * img[idx[:, t]]
    return out


def imresize_antialiased(image: np.ndarray, scale: float,
                         window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """MATLAB `imresize(image, scale)` for scale < 1 (bicubic, antialiased), float32 [h, w, C].

    window=(row0, col0, row1, col1) computes only that part of the output (rows row0..row1-1,
    cols col0..col1-1), bit-identical to slicing the full result, reading only the input
    pixels those outputs need.
    """
    if not 0 < scale < 1:
        raise ValueError(f"imresize_antialiased only shrinks, got scale {scale}")
    img = np.asarray(image, dtype=np.float32)
    r0, c0, r1, c1 = window if window is not None else (0, 0, None, None)
    rows, row_w = _shrink_taps(img.shape[0], scale, r0, r1)
    cols, col_w = _shrink_taps(img.shape[1], scale, c0, c1)
    rlo, clo = rows.min(), cols.min()
    sub = img[rlo:rows.max() + 1, clo:cols.max() + 1]
    out = _apply_taps(sub, rows - rlo, row_w)
    return np.swapaxes(_apply_taps(np.swapaxes(out, 0, 1), cols - clo, col_w), 0, 1)


def align_face(image: np.ndarray, landmarks5, crop_size: int = CROP_SIZE, ec_y: float = EC_Y,
               ec_mc_y: float = EC_MC_Y) -> AlignedFace:
    """tpgan spec 1.2 alignment of one raw image.

    image: uint8 [H, W, 3] RGB (gray [H, W] or [H, W, 1] is replicated to 3 channels).
    landmarks5: [5, 2] (x, y) in 0-based raw pixel-centre coordinates, order of tpgan spec 1.2.
    Returns an AlignedFace (crop_size x crop_size). Pixels outside the raw image are 0.
    """
    img = _as_rgb_uint8(image)
    pts = np.asarray(landmarks5, dtype=np.float64)
    if pts.shape != (5, 2):
        raise ValueError(f"landmarks must have shape (5, 2), got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise ValueError(f"landmarks must be finite, got {pts.tolist()}")
    matrix, roll, scale = alignment_matrix(pts, crop_size, ec_y, ec_mc_y)
    h, w = img.shape[:2]
    warp = matrix
    if scale < 1.0:
        # Antialiased shrink first (see the module docstring); it maps pixel centres as
        # p_small = scale * (p + 0.5) - 0.5, which the remaining warp undoes exactly. Only the
        # part of the shrunk image that the cubic warp reads (the crop's corners mapped into
        # it, plus the 2-pixel cubic support and 1 for rounding) is computed: identical
        # pixels, about 10x less work on a 640x480 Multi-PIE image.
        c = crop_size - 1
        corners = apply_matrix(np.linalg.inv(_to3(matrix))[:2], [[0, 0], [c, 0], [0, c], [c, c]])
        small = scale * (corners + 0.5) - 0.5
        c0, r0 = np.maximum(np.floor(small.min(axis=0)).astype(int) - 3, 0)
        c1, r1 = np.minimum(np.ceil(small.max(axis=0)).astype(int) + 4,
                            [math.ceil(scale * w), math.ceil(scale * h)])
        if c1 <= c0 or r1 <= r0:  # the crop misses the image: shrink it all (zeros anyway)
            r0 = c0 = 0
            r1 = c1 = None
        src = imresize_antialiased(img, scale, (r0, c0, r1, c1))
        to_small = np.array([[scale, 0.0, 0.5 * scale - 0.5 - c0],
                             [0.0, scale, 0.5 * scale - 0.5 - r0], [0.0, 0.0, 1.0]])
        warp = (_to3(matrix) @ np.linalg.inv(to_small))[:2]
        crop = cv2.warpAffine(src, warp, (crop_size, crop_size), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        crop = np.clip(np.rint(crop), 0, 255).astype(np.uint8)
    else:
        crop = cv2.warpAffine(img, warp, (crop_size, crop_size), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    # Clipped if a crop corner (pixel centre) maps outside the raw pixel area.
    inv = np.linalg.inv(_to3(matrix))[:2]
    c = crop_size - 1
    corners = apply_matrix(inv, [[0, 0], [c, 0], [0, c], [c, c]])
    clipped = bool(np.any(corners < -0.5) or np.any(corners[:, 0] > w - 0.5)
                   or np.any(corners[:, 1] > h - 0.5))
    lm = apply_matrix(matrix, pts)
    return AlignedFace(image=crop, landmarks=lm, landmarks_rounded=to_index_points(lm),
                       matrix=matrix, clipped=clipped, roll_degrees=roll, scale=scale)
