"""Spec 1.4 patch cropping (`GetFeatureParts`) and the mirroring of negative-yaw samples.

Landmarks here are in the `.5pt` convention (data_prep/landmarks.py): the integers of a
`*_trans.5pt` file, or `AlignedFace.landmarks_rounded`. The original uses them directly as
0-based array indices, and so do we, so the windows are exactly the original's. Do not pass
`AlignedFace.landmarks` (0-based floats): it would shift every window by one pixel up/left.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from data_prep import cameras
from data_prep.landmarks import round_half_away
from tpgan_tf.parts import IMAGE_SIZE, PART_BY_NAME, PART_NAMES

GT_NOSE_OFFSET = cameras.POSE_INDEPENDENT_NOSE_OFFSET  # spec 1.4: every frontal / GT patch


def nose_offset_for(camera: str | None, ground_truth: bool = False) -> int:
    """Nose column offset `o` of spec 1.4 for a camera ("051" or "05_1").

    Ground-truth (frontal) patches, unknown cameras and None (in-the-wild photos) use the
    pose-independent rule o = 20.
    """
    if ground_truth or camera is None:
        return GT_NOSE_OFFSET
    cam = cameras.BY_CODE.get(camera) or cameras.BY_FOLDER.get(camera)
    return cam.nose_offset if cam is not None else cameras.POSE_INDEPENDENT_NOSE_OFFSET


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
    """Spec 1.4 windows as {part: (top, left, height, width)}, half-open, 0-based indices.

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
        # spec 1.4: bottom edge y2 + 11 (exclusive), i.e. 10 px below the tip.
        "nose": (y2 + 11 - nh, x2 - nose_offset + 1),
        "mouth": (my - mh // 2, mx - mw // 2),
    }
    return {n: top_left[n] + sizes[n] for n in PART_NAMES}


def crop_window(image: np.ndarray, top: int, left: int, height: int, width: int
                ) -> tuple[np.ndarray, bool]:
    """image[top:top+height, left:left+width] with zeros where it leaves the image.

    Returns (patch of shape (height, width) + image.shape[2:], padded). The window is never
    shifted; the original had no bounds check and crashed instead (spec 1.4).
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
    """Cut the four spec 1.4 patches from an aligned [128, 128, C] image (any dtype).

    landmarks5: [5, 2] in the `.5pt` convention (see the module docstring); floats are rounded
    half away from zero. nose_offset: `nose_offset_for(camera)` for inputs, 20 for ground truth.
    Returns ({part: patch [h, w, C]}, {part: padded}) keyed by tpgan_tf.parts.PART_NAMES; a
    window leaving the image is zero-padded and flagged, not moved.
    """
    img = np.asarray(image128)
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an [H, W] or [H, W, C] image, got shape {img.shape}")
    patches, padded = {}, {}
    for name, (top, left, h, w) in part_windows(landmarks5, nose_offset).items():
        patches[name], padded[name] = crop_window(img, top, left, h, w)
    return patches, padded


# ---------------------------------------------------------------- mirroring (spec 1.1, 1.4)

_SWAP = [1, 0, 2, 4, 3]  # left eye <-> right eye, left mouth <-> right mouth


def mirror_image(image: np.ndarray) -> np.ndarray:
    """Left-right flip of an [H, W(, C)] image (a copy)."""
    return np.ascontiguousarray(np.asarray(image)[:, ::-1])


def mirror_landmarks(points, width: int = IMAGE_SIZE, one_based: bool = False) -> np.ndarray:
    """Landmarks of the left-right flipped image, re-ordered so "left" is image-left again.

    0-based pixel centres: x -> width - 1 - x (127 - x). 1-based / `.5pt` values:
    x -> width + 1 - x (129 - x). The spec's (and the original's) x -> 128 - x is the mirror
    only for edge-based continuous coordinates (pixel i spanning [i, i+1)); the original applied
    it to `.5pt` values it uses as 0-based indices, so its mirrored points are one pixel off.
    They only fed the unused landmark head (spec 2.5); patches are flipped arrays, unaffected.
    """
    p = np.array(points, copy=True)
    if p.shape != (5, 2):
        raise ValueError(f"landmarks must have shape (5, 2), got {p.shape}")
    p[:, 0] = (width + 1 if one_based else width - 1) - p[:, 0]
    return p[_SWAP]


def mirror_patches(patches: Mapping[str, np.ndarray],
                   padded: Mapping[str, bool] | None = None):
    """Spec 1.4 patch mirroring: flip every patch; the new left eye is the flipped right eye.

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
    """Mirror a whole sample (spec 1.1 mirror-to-one-side, 1.4 patches).

    Returns (image, landmarks, patches, padded), each the mirrored counterpart; `one_based`
    selects the landmark convention (True for `.5pt` values, see `mirror_landmarks`).
    """
    width = np.asarray(image).shape[1]
    new_patches, new_padded = mirror_patches(patches, padded)
    return (mirror_image(image), mirror_landmarks(landmarks, width, one_based),
            new_patches, new_padded)
