"""The four facial parts of TP-GAN's local pathway: their table, patch windows, cropping and
mirroring (tpgan spec 1.4, 2.3), in numpy. The TF twin is parts_tf.py (tested against this).

One table shared by data preparation (patch cropping), the generator (fusion on the template
canvas) and the losses (part L1), so the three cannot disagree.

Landmarks for windows are in the `.5pt` convention (tpgan_tf/faces/landmarks.py): the integers
of a `*_trans.5pt` file, or `AlignedFace.landmarks_rounded`. The original uses them directly as
0-based array indices, and so do we, so the windows are exactly the original's. Do not pass
0-based float landmarks unconverted: every window would move one pixel up/left.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from tpgan_tf.faces import landmarks as landmarks_lib
from tpgan_tf.faces.landmarks import round_half_away

IMAGE_SIZE = 128  # tpgan spec 1.1: every aligned face is 128 x 128
# tpgan spec 1.4: the pose-independent nose rule o = 20 (a centred window), used for every
# frontal / ground-truth patch and for images whose camera is unknown (photos).
POSE_INDEPENDENT_NOSE_OFFSET = 20


@dataclasses.dataclass(frozen=True)
class Part:
    """A facial part: patch size (h, w) and its fixed place on the 128 x 128 fusion canvas."""

    name: str
    height: int
    width: int
    # tpgan spec 2.3: template centre (row, col), 1-based, from `partCombiner`.
    centre_row: int
    centre_col: int

    @property
    def top(self) -> int:
        """First canvas row (0-based) covered: pad_top = centre_row - h/2 - 1 (tpgan spec 2.3)."""
        return self.centre_row - self.height // 2 - 1

    @property
    def left(self) -> int:
        """First canvas column (0-based) covered: pad_left = centre_col - w/2 - 1 (tpgan spec 2.3)."""
        return self.centre_col - self.width // 2 - 1

    @property
    def paddings(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)) zero padding that places the patch on the canvas."""
        return ((self.top, IMAGE_SIZE - self.top - self.height),
                (self.left, IMAGE_SIZE - self.left - self.width))


# tpgan spec 1.4 sizes and 2.3 template centres. Order matters: it is the order of the
# original's four part nets and of every per-part tensor in this project.
EYE_LEFT = Part("eye_left", 40, 40, 41, 44)
EYE_RIGHT = Part("eye_right", 40, 40, 41, 86)
NOSE = Part("nose", 32, 40, 65, 64)
MOUTH = Part("mouth", 32, 48, 89, 65)
PARTS = (EYE_LEFT, EYE_RIGHT, NOSE, MOUTH)
PART_NAMES = tuple(p.name for p in PARTS)
PART_BY_NAME = {p.name: p for p in PARTS}


# ---------------------------------------------------------------- windows and patches

def index_landmarks(landmarks5) -> np.ndarray:
    """[5, 2] -> int64 indices: integers unchanged, floats MATLAB-rounded (half away from 0)."""
    p = np.asarray(landmarks5)
    if p.shape != (5, 2):
        raise ValueError(f"landmarks must have shape (5, 2), got {p.shape}")
    if np.issubdtype(p.dtype, np.integer):
        return p.astype(np.int64)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"landmarks must be finite, got {p.tolist()}")
    return round_half_away(p)


def part_windows(landmarks5, nose_offset: int) -> dict[str, tuple[int, int, int, int]]:
    """tpgan spec 1.4 windows as {part: (top, left, height, width)}, half-open, 0-based indices.

    eyes : rows [y - 20, y + 20), cols [x - 20, x + 20) of points 0 / 1
    mouth: rows [my - 16, my + 16), cols [mx - 24, mx + 24), (mx, my) = floor of the corner mean
    nose : rows [y2 - 21, y2 + 11), cols [x2 - o + 1, x2 - o + 41)  (tip at patch column o - 1)
    """
    p = index_landmarks(landmarks5)
    (x0, y0), (x1, y1), (x2, y2), (x3, y3), (x4, y4) = p.tolist()
    sizes = {n: (PART_BY_NAME[n].height, PART_BY_NAME[n].width) for n in PART_NAMES}
    eh, ew = sizes["eye_left"]
    nh, nw = sizes["nose"]
    mh, mw = sizes["mouth"]
    my, mx = (y3 + y4) // 2, (x3 + x4) // 2  # Python // floors, as the original's int // int
    top_left = {
        "eye_left": (y0 - eh // 2, x0 - ew // 2),
        "eye_right": (y1 - eh // 2, x1 - ew // 2),
        # tpgan spec 1.4: bottom edge y2 + 11 (exclusive), i.e. 10 px below the tip.
        "nose": (y2 + 11 - nh, x2 - nose_offset + 1),
        "mouth": (my - mh // 2, mx - mw // 2),
    }
    return {n: top_left[n] + sizes[n] for n in PART_NAMES}


def crop_window(image: np.ndarray, top: int, left: int, height: int, width: int
                ) -> tuple[np.ndarray, bool]:
    """image[top:top+height, left:left+width] with zeros where it leaves the image.

    Returns (patch of shape (height, width) + image.shape[2:], padded). The window is never
    shifted; the original had no bounds check and crashed instead (tpgan spec 1.4).
    """
    h, w = image.shape[:2]
    patch = np.zeros((height, width) + image.shape[2:], dtype=image.dtype)
    r0, r1 = max(top, 0), min(top + height, h)
    c0, c1 = max(left, 0), min(left + width, w)
    if r0 < r1 and c0 < c1:
        patch[r0 - top:r1 - top, c0 - left:c1 - left] = image[r0:r1, c0:c1]
    padded = top < 0 or left < 0 or top + height > h or left + width > w
    return patch, padded


def crop_parts(image128: np.ndarray, landmarks5, nose_offset: int
               ) -> tuple[dict[str, np.ndarray], dict[str, bool]]:
    """Cut the four tpgan spec 1.4 patches from an aligned [128, 128, C] image (any dtype).

    landmarks5: [5, 2] in the `.5pt` convention (see the module docstring); floats are rounded
    half away from zero. nose_offset: the camera's table entry for inputs (data_prep.cameras),
    20 for ground truth. Returns ({part: patch [h, w, C]}, {part: padded}) keyed by
    PART_NAMES; a window leaving the image is zero-padded and flagged, not moved.
    """
    img = np.asarray(image128)
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an [H, W] or [H, W, C] image, got shape {img.shape}")
    patches, padded = {}, {}
    for name, (top, left, h, w) in part_windows(landmarks5, nose_offset).items():
        patches[name], padded[name] = crop_window(img, top, left, h, w)
    return patches, padded


# ---------------------------------------------------------------- mirroring (tpgan spec 1.1, 1.4)

def mirror_image(image: np.ndarray) -> np.ndarray:
    """Left-right flip of an [H, W(, C)] image (a copy)."""
    return np.ascontiguousarray(np.asarray(image)[:, ::-1])


def mirror_patches(patches: Mapping[str, np.ndarray],
                   padded: Mapping[str, bool] | None = None):
    """tpgan spec 1.4 patch mirroring: flip every patch; the new left eye is the flipped right eye.

    Returns the new patch dict, or (patches, padded) with the padded flags swapped alike when
    `padded` is given.
    """
    swap = {"eye_left": "eye_right", "eye_right": "eye_left"}
    out = {n: np.ascontiguousarray(np.asarray(patches[swap.get(n, n)])[:, ::-1])
           for n in PART_NAMES}
    if padded is None:
        return out
    return out, {n: padded[swap.get(n, n)] for n in PART_NAMES}


def mirror_sample(image: np.ndarray, landmarks, patches: Mapping[str, np.ndarray],
                  padded: Mapping[str, bool], one_based: bool = False):
    """Mirror a whole sample (tpgan spec 1.1 mirror-to-one-side, 1.4 patches).

    Returns (image, landmarks, patches, padded), each the mirrored counterpart; `one_based`
    selects the landmark convention (True for `.5pt` values, see `mirror_landmarks`).
    """
    width = np.asarray(image).shape[1]
    new_patches, new_padded = mirror_patches(patches, padded)
    return (mirror_image(image), landmarks_lib.mirror_landmarks(landmarks, width, one_based),
            new_patches, new_padded)
