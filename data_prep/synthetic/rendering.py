"""Rendering of one view: orthographic z-buffered rasterisation of the radius table, shading
under one flash, camera roll, sensor noise and the part-label map (see the package docstring)."""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Sequence

import cv2
import numpy as np

from data_prep.synthetic.constants import (DEFAULT_IMAGE_SIZE, EYE_ROW_FRACTION, NOISE_SIGMA,
                                           _BACKGROUND_RGB)
from data_prep.synthetic.head_model import HeadModel, head_model, pixels_per_mm_for
from data_prep.synthetic.identities import IdentityParams


@functools.lru_cache(maxsize=8)
def _background(width: int, height: int) -> np.ndarray:
    ramp = np.linspace(1.04, 0.94, height, dtype=np.float32)[:, None, None]
    bg = np.asarray(_BACKGROUND_RGB, np.float32)[None, None, :] * ramp
    return np.broadcast_to(np.clip(bg, 0, 255).astype(np.uint8), (height, width, 3)).copy()


def _rasterise(model: HeadModel, yaw: float, cx: float, cy: float, scale: float,
               width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Z-buffered orthographic view of `model` (head axis at column cx, eye line at row cy,
    `scale` px/mm). Returns (pixel index [m] into H*W, texel index [m] into the flattened
    [n, N] tables) of every covered pixel."""
    big_n = len(model.theta)
    j = np.arange(height)
    ti = np.rint((model.y[0] - (cy - j) / scale) / model.dy).astype(np.int32)
    keep = ti >= 1  # rows above the table top show nothing
    j, ti = j[keep], np.minimum(ti[keep], len(model.y) - 1)
    phi = np.append(model.theta, model.theta[0]) + math.radians(yaw)
    r = model.radius_wrapped[ti]  # [rows, N + 1], the slices are closed curves
    xs = r * np.float32(scale) * np.sin(phi).astype(np.float32)
    xs += np.float32(cx)
    zs = r * np.cos(phi).astype(np.float32)
    edge = np.clip(np.ceil(xs), 0, width)
    # segment k covers the pixel columns c with x_k <= c < x_k+1; only front-facing segments
    # (x increasing with theta) have any, and each front arc covers a column once
    count = (edge[:, 1:] - edge[:, :-1]).ravel()
    seg = np.flatnonzero(count > 0).astype(np.int32)
    counts = count[seg].astype(np.int32)
    at = seg + seg // big_n  # the same segment's start in the [rows, N + 1] arrays
    xs, zs, edge = xs.ravel(), zs.ravel(), edge.ravel()
    x0, z0 = xs[at], zs[at]
    inv_dx = 1.0 / (xs[at + 1] - x0)
    dz = zs[at + 1] - z0
    start = edge[at].astype(np.int32) - (np.cumsum(counts, dtype=np.int32) - counts)
    rep = np.repeat(np.arange(len(seg), dtype=np.int32), counts)
    cols = np.arange(len(rep), dtype=np.int32) + start[rep]
    t = (cols.astype(np.float32) - x0[rep]) * inv_dx[rep]
    z = z0[rep] + t * dz[rep]  # float32, like the z-buffer, so the winner test is exact
    row = seg[rep] // big_n
    pix = j[row].astype(np.intp) * width + cols
    zbuf = np.full(width * height, -np.inf, np.float32)
    np.maximum.at(zbuf, pix, z)
    win = np.flatnonzero(z >= zbuf[pix])
    pix, rep_w, row_w = pix[win], rep[win], row[win]
    k = (seg[rep_w] % big_n + (t[win] >= 0.5)) % big_n
    # (an exact depth tie between two surfaces leaves a pixel twice; either texel is right)
    return pix, ti[row_w] * big_n + k


@dataclasses.dataclass
class _View:
    """One rasterised camera view, shared by all illuminations of that camera."""

    model: HeadModel
    width: int
    height: int
    pix: np.ndarray  # [m] covered pixels (flat index)
    texel: np.ndarray  # [m] their texture entries (flat index)
    landmarks: np.ndarray  # [5, 2] raw-pixel x, y, tpgan spec 1.2 order
    rotation: np.ndarray | None  # 2x3 roll matrix applied after rendering


def _make_view(params: IdentityParams, yaw: float, image_size: Sequence[int], roll: float,
               shift: Sequence[float], scale: float) -> _View:
    width, height = int(image_size[0]), int(image_size[1])
    ppm = pixels_per_mm_for((width, height))
    model = head_model(params, ppm)
    px_scale = ppm * scale
    cx = (width - 1) / 2.0 + shift[0]
    cy = EYE_ROW_FRACTION * height + shift[1]
    pix, texel = _rasterise(model, yaw, cx, cy, px_scale, width, height)
    # landmarks: rotate the 3-D points by the yaw, project orthographically
    pts = model.landmarks_3d
    psi = math.radians(yaw)
    x_cam = pts[:, 0] * math.cos(psi) + pts[:, 2] * math.sin(psi)
    lms = np.stack([cx + px_scale * x_cam, cy - px_scale * pts[:, 1]], axis=1)
    rot = None
    if roll:  # a camera roll is an image rotation; the landmarks move with it
        rot = cv2.getRotationMatrix2D((cx, cy), roll, 1.0)
        lms = np.concatenate([lms, np.ones((5, 1))], axis=1) @ rot.T
    return _View(model, width, height, pix, texel, _order_landmarks(lms), rot)


def _shade_view(view: _View, illumination: int) -> np.ndarray:
    """The view's image [H, W, 3] uint8 RGB under one flash."""
    image = _background(view.width, view.height).copy()
    lit = view.model.lit_texture(illumination).reshape(-1, 3)
    image.reshape(-1, 3)[view.pix] = np.take(lit, view.texel, axis=0)
    image = cv2.GaussianBlur(image, (3, 3), 0.6)  # optics; also softens the silhouette
    if view.rotation is not None:
        image = cv2.warpAffine(image, view.rotation, (view.width, view.height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return image


def _parts_view(view: _View) -> np.ndarray:
    """The view's part-label map [H, W] uint8 (indices into PARTS)."""
    parts = np.zeros(view.width * view.height, np.uint8)
    parts[view.pix] = view.model.parts.reshape(-1)[view.texel]
    parts = parts.reshape(view.height, view.width)
    if view.rotation is not None:
        parts = cv2.warpAffine(parts, view.rotation, (view.width, view.height),
                               flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=0)
    return parts


def render_view(identity_params: IdentityParams, yaw_degrees: float, illumination: int = 7,
                image_size: Sequence[int] = DEFAULT_IMAGE_SIZE, roll_degrees: float = 0.0,
                shift: Sequence[float] = (0.0, 0.0), scale: float = 1.0,
                noise_seed: int | None = None, return_parts: bool = False):
    """Renders one view of an identity.

    yaw_degrees: camera yaw, positive = nose toward image-right (spec 1.1).
    illumination: Multi-PIE flash index 0..19 (see DEFAULT_ILLUMINATIONS for the layout).
    image_size: (width, height). roll_degrees (counter-clockwise on screen) / shift (dx, dy
    pixels) / scale (relative to the nominal size) move the head; noise_seed adds sensor
    noise (None = none).
    Returns (image [H, W, 3] uint8 RGB, landmarks [5, 2] float64 raw-pixel x, y in spec 1.2
    order: left eye, right eye, nose tip, left mouth corner, right mouth corner, left =
    smaller x). With return_parts, also a [H, W] uint8 label map (indices into PARTS).
    """
    view = _make_view(identity_params, yaw_degrees, image_size, roll_degrees, shift, scale)
    image = _shade_view(view, illumination)
    if noise_seed is not None:
        image = _add_noise(image, noise_seed)
    if return_parts:
        return image, view.landmarks.copy(), _parts_view(view)
    return image, view.landmarks.copy()


def _order_landmarks(lms: np.ndarray) -> np.ndarray:
    """Spec 1.2 order: within each pair (eyes, mouth corners) the smaller x comes first."""
    out = lms.copy()
    for a, b in ((0, 1), (3, 4)):
        if out[b, 0] < out[a, 0] - 1e-6:
            out[[a, b]] = out[[b, a]]
    return out


@functools.lru_cache(maxsize=4)
def _noise_field(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(12345)
    return rng.normal(0, NOISE_SIGMA, (height + 64, width + 64, 3)).astype(np.int16)


def _add_noise(image: np.ndarray, seed: int) -> np.ndarray:
    """Adds a crop of a fixed noise field at a seed-chosen offset (cheap, deterministic)."""
    h, w = image.shape[:2]
    field = _noise_field(w, h)
    oy, ox = np.random.default_rng(seed).integers(0, 64, 2)
    noisy = image.astype(np.int16) + field[oy:oy + h, ox:ox + w]
    return np.clip(noisy, 0, 255).astype(np.uint8)
