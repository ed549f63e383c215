"""Pasting a model's output back into the photo it came from (numpy / OpenCV).

A model that works on a crop of the photo (FSRNet's face crop) gives an image in crop
coordinates; `paste_face` puts it back where the crop came from: each pixel of the target
(the photo, or the photo enlarged k times) is mapped into the crop by the inverse of the
alignment transform, the output is sampled there, and it is blended over the target with a
feathered mask, so the seam fades out instead of showing the crop's square edge. Pixels the
mask does not reach are the target's own, bit for bit.

Coordinates are 0-based pixel centres (pixel (r, c) has its centre at x = c, y = r), as in
tpgan_tf/faces/landmarks.py. A photo enlarged k times has pixel X centred on photo
x = (X + 0.5) / k - 0.5 (`enlarged_matrix`).

Mask (`feather_mask`): 1 inside the crop, falling to 0 over a border of FEATHER x the crop's
side with a smoothstep, and 0 on the outermost ring of pixels, so that bilinear sampling
outside the crop (zero there) and on its edge agree: the mask's support ends inside the crop.
"""
from __future__ import annotations

import math

import numpy as np

FEATHER = 0.125  # the blend band, as a fraction of the crop's side (16 px of a 128 crop)


def enlarged_matrix(photo_to_crop: np.ndarray, factor: float) -> np.ndarray:
    """The 2x3 map from pixels of the photo enlarged `factor` times to crop pixels, given the
    2x3 map photo -> crop: crop = M (x_photo), x_photo = (X + 0.5) / factor - 0.5."""
    m = np.asarray(photo_to_crop, np.float64)
    lin = m[:, :2] / factor
    offset = m[:, :2] @ np.full(2, 0.5 / factor - 0.5) + m[:, 2]
    return np.hstack([lin, offset[:, None]])


def feather_mask(size: int, feather: float = FEATHER) -> np.ndarray:
    """float32 [size, size] in [0, 1]: the product of a ramp per axis, smoothstep(d / band)
    with d the distance (pixels) of a pixel centre from the outermost one and band =
    max(1, feather * size); 0 on the outermost ring, 1 from `band` pixels in."""
    band = max(1.0, feather * size)
    d = np.minimum(np.arange(size), size - 1 - np.arange(size)).astype(np.float64)
    r = np.clip(d / band, 0.0, 1.0)
    ramp = r * r * (3.0 - 2.0 * r)
    return np.outer(ramp, ramp).astype(np.float32)


def _to3(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def footprint(shape, crop_size: int, target_to_crop: np.ndarray
              ) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the pixels of a target of shape (H, W, ...) that the crop can reach
    (its corners mapped into the target, 2 px of margin for the interpolation), clipped to the
    target; None if the crop lies outside it."""
    inv = np.linalg.inv(_to3(np.asarray(target_to_crop, np.float64)))[:2]
    e = crop_size - 0.5
    corners = np.array([[-0.5, -0.5], [e, -0.5], [-0.5, e], [e, e]]) @ inv[:, :2].T + inv[:, 2]
    height, width = shape[:2]
    x0 = max(int(math.floor(corners[:, 0].min())) - 2, 0)
    y0 = max(int(math.floor(corners[:, 1].min())) - 2, 0)
    x1 = min(int(math.ceil(corners[:, 0].max())) + 3, width)
    y1 = min(int(math.ceil(corners[:, 1].max())) + 3, height)
    return None if x1 <= x0 or y1 <= y0 else (x0, y0, x1, y1)


def warped_mask(shape, crop_size: int, target_to_crop: np.ndarray,
                feather: float = FEATHER) -> np.ndarray:
    """float32 [H, W]: the feathered mask of a crop_size crop as it lands on a target of
    shape (H, W, ...) (bilinear, 0 outside the crop)."""
    out = np.zeros(shape[:2], np.float32)
    box = footprint(shape, crop_size, target_to_crop)
    if box is not None:
        x0, y0, x1, y1 = box
        out[y0:y1, x0:x1] = _warp(feather_mask(crop_size, feather), target_to_crop, box,
                                  linear=True)
    return out


def _warp(image: np.ndarray, target_to_crop: np.ndarray, box, linear: bool) -> np.ndarray:
    """image (crop coordinates) sampled at the target pixels of box = (x0, y0, x1, y1)."""
    import cv2

    x0, y0, x1, y1 = box
    m = np.asarray(target_to_crop, np.float64)
    # Target pixel (u + x0, v + y0) of the box's pixel (u, v).
    local = np.hstack([m[:, :2], (m[:, :2] @ [x0, y0] + m[:, 2])[:, None]])
    if linear:
        return cv2.warpAffine(image, local, (x1 - x0, y1 - y0),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # The output is only used where the mask is > 0 (inside the crop): replicating its edge
    # keeps black from bleeding in through the cubic kernel's support.
    return cv2.warpAffine(image, local, (x1 - x0, y1 - y0),
                          flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def paste_face(target: np.ndarray, face: np.ndarray, target_to_crop: np.ndarray,
               feather: float = FEATHER) -> np.ndarray:
    """The target (uint8 [H, W, 3]) with `face` (uint8 [S, S, 3], crop coordinates) pasted
    where the crop came from: target_to_crop is the 2x3 map target pixel -> crop pixel (for
    an enlarged photo, `enlarged_matrix`). Blend: round(t + mask (face - t)), bicubic
    sampling of the face, bilinear of the mask. A new array; pixels with mask 0 are the
    target's exactly."""
    target = np.asarray(target)
    face = np.asarray(face)
    if face.ndim != 3 or face.shape[0] != face.shape[1]:
        raise ValueError(f"paste_face: the face must be a square [S, S, C] image, got "
                         f"{face.shape}")
    out = target.copy()
    size = face.shape[0]
    box = footprint(target.shape, size, target_to_crop)
    if box is None:
        return out
    x0, y0, x1, y1 = box
    mask = _warp(feather_mask(size, feather), target_to_crop, box, linear=True)[..., None]
    warped = _warp(face.astype(np.float32), target_to_crop, box, linear=False)
    base = out[y0:y1, x0:x1].astype(np.float32)
    blended = base + mask * (warped - base)
    out[y0:y1, x0:x1] = np.clip(np.rint(blended), 0, 255).astype(target.dtype)
    return out
