"""Synthetic multi-view faces written in the raw Multi-PIE layout.

Multi-PIE is licensed, so the demo and the tests use faces rendered here, which then go
through the same code path as the real data (alignment, spec 1.2; patches, spec 1.4).

Model. Each identity is one closed 3-D surface (head, ears, hair volume, neck, shoulders)
that is star-shaped about the vertical axis: in cylindrical coordinates it is a radius
table R(theta, y). theta = 0 is the nose direction, y is the height in mm with 0 on the eye
line. The head frame has x toward image-right and z toward the camera at yaw 0. Appearance
(skin, eyes, brows, lips, hair, beard, moles, clothes) lives in the same (theta, y) texture
coordinates, so shape and appearance are fixed per identity and only the view changes.

Rendering. The cameras are orthographic and, like the 13 Multi-PIE cameras used here
(spec 6.2), differ only in yaw, so each image row sees one horizontal slice of the surface.
A slice is a closed curve; its front-facing segments are rasterised column by column and
z-buffered (the nose hides the far cheek, the far eye vanishes at 90 degrees). Lambertian
shading with ambient light is baked into the texture once per (identity, illumination),
because a Lambertian surface looks the same from every camera. Camera roll is an image
rotation, applied afterwards with the landmarks moved by the same matrix.

Sign convention (spec 1.1): a positive-yaw camera sees the nose pointing to image-right.

Layout written by `generate` (spec 6.1):
    <out>/data/session0S/multiview/SSS/RR/CC_C/SSS_SS_RR_CCC_II.png
    <out>/landmarks.csv   header `path,x0,y0,...,x4,y4`, points in spec 1.2 order
"""
from __future__ import annotations

import dataclasses
import functools
import math
import multiprocessing
import os
import sys
import time
from typing import Iterable, Sequence

import cv2
import numpy as np

from data_prep import cameras as cams
from data_prep.landmarks import CSV_HEADER
from data_prep.multipie import ImageKey

# ----------------------------------------------------------------------------- constants
DEFAULT_IMAGE_SIZE = (640, 480)  # (width, height) of raw Multi-PIE images
# Spec 1.2 rescales the eye-centre to mouth-centre distance to 48 px. Assumed (not measured
# on Multi-PIE): a raw 640x480 frontal face has it at roughly 60-70 px, so alignment shrinks
# the image a little. 0.9 px/mm with a 60-72 mm eye-mouth distance gives 54-65 px.
PIXELS_PER_MM_AT_480 = 0.9
EYE_ROW_FRACTION = 0.42  # eye line at 42% of the image height, shoulders at the bottom
# Synthetic flash layout (our convention, fixed function of the index): 00 and 19 have no
# flash (room light only, as in Multi-PIE); 01..13 sit on a horizontal arc from -90 deg
# (light from image-left of the frontal view) to +90 deg in 15 deg steps, so 07 is frontal;
# 14..18 sit higher up at -60..+60 deg.
DEFAULT_ILLUMINATIONS = (3, 7, 11)  # left-lit (-60), frontal (0), right-lit (+60)
NO_FLASH = (0, 19)
LANDMARKS_FILE = "landmarks.csv"
RECORDING = 1  # neutral expression (spec 6.1)
# Per (subject, session, camera) jitter, shared by its illuminations: Multi-PIE takes the
# 20 flashes of one camera within a second, and its 5-point file is shared by them (spec 1.3).
JITTER_SHIFT = 0.0125  # +- fraction of the image size (8 px at 640x480)
JITTER_ROLL_DEG = 3.0
JITTER_YAW_DEG = 2.0
JITTER_SCALE = 0.02
NOISE_SIGMA = 2.0  # sensor noise, grey levels

# Part labels of the optional label map returned by `render_view(..., return_parts=True)`.
# "eye_neg" is the eye at theta < 0 (image-left in the frontal view), "eye_pos" the other one.
PARTS = ("background", "skin", "hair", "brow", "eye_neg", "eye_pos", "lips", "clothes")
PART_ID = {name: i for i, name in enumerate(PARTS)}

_BACKGROUND_RGB = (122, 122, 120)  # plain grey studio background
_SKULL_WIDEST_Y = 40.0  # mm above the eye line; the skull above it is a rounded cap


# ----------------------------------------------------------------------------- identities
@dataclasses.dataclass(frozen=True)
class IdentityParams:
    """Everything that defines one synthetic person (lengths in mm, colours RGB 0..255).

    Frozen and hashable so the expensive surface tables can be cached per identity.
    """

    # --- shape
    head_half_width: float
    head_front: float  # forehead depth in front of the axis at the widest level
    head_back: float
    crown_height: float  # top of the skull above the eye line
    face_front: float  # depth of the face plane at the eye line (before features)
    face_flatness: float  # superellipse exponent of the front half (2 = ellipse)
    jaw_half_width: float
    chin_y: float  # (negative) height of the chin
    chin_projection: float
    neck_half_width: float
    shoulder_half_width: float
    brow_ridge: float
    eye_half_distance: float  # half the inter-pupil distance
    eye_socket_depth: float
    nose_length: float  # drop from the nasion to the tip
    nose_height: float  # protrusion of the tip
    nose_half_width: float  # at the alae
    mouth_y: float  # (negative) height of the mouth line
    mouth_half_width: float
    lip_fullness: float
    cheek_fullness: float
    ear_protrusion: float
    # --- appearance
    skin_rgb: tuple
    hair_rgb: tuple
    brow_rgb: tuple
    iris_rgb: tuple
    lip_rgb: tuple
    clothes_rgb: tuple
    hairline_y: float
    temple_recession: float
    bald: float  # 0 = full hair, 1 = no hair on the top
    hair_thickness: float
    nape_y: float  # (negative) lowest point of the hair at the back
    brow_thickness: float
    brow_arch: float
    brow_y: float
    eye_half_length: float
    eye_opening: float
    iris_radius: float
    beard: float  # 0 = clean shaven .. 1 = full beard (opacity)
    moles: tuple  # ((u, v, radius), ...) in face coordinates (mm)
    texture_seed: int


_SKIN_TONES = np.array([(250, 222, 200), (238, 196, 170), (222, 172, 140), (196, 140, 104),
                        (160, 108, 76), (118, 78, 54), (84, 56, 40)], np.float64)
_HAIR_COLOURS = np.array([(28, 22, 20), (52, 36, 26), (92, 62, 40), (140, 100, 62),
                          (200, 165, 110), (146, 66, 36), (140, 138, 134), (206, 204, 198)],
                         np.float64)
_HAIR_WEIGHTS = np.array([0.28, 0.22, 0.15, 0.1, 0.08, 0.05, 0.07, 0.05])
_IRIS_COLOURS = np.array([(58, 34, 20), (96, 60, 30), (118, 96, 52), (78, 108, 70),
                          (74, 112, 160), (112, 124, 136)], np.float64)


def _rgb(values) -> tuple:
    return tuple(float(round(c, 1)) for c in np.clip(values, 0, 255))


def sample_identity(rng: np.random.Generator) -> IdentityParams:
    """Draws one random identity from `rng` (a numpy Generator); same rng state -> same person."""
    u = rng.uniform
    tone = u(0, len(_SKIN_TONES) - 1)
    lo = int(tone)
    skin = _SKIN_TONES[lo] + (tone - lo) * (_SKIN_TONES[min(lo + 1, 6)] - _SKIN_TONES[lo])
    skin = skin * u(0.95, 1.05, 3)
    hair = _HAIR_COLOURS[rng.choice(len(_HAIR_COLOURS), p=_HAIR_WEIGHTS)]
    hair = hair * u(0.85, 1.15) * u(0.96, 1.04, 3)  # vary brightness more than hue
    brow = hair * u(0.55, 0.85) if hair.mean() < 170 else hair * u(0.45, 0.65)
    iris = _IRIS_COLOURS[rng.integers(len(_IRIS_COLOURS))] * u(0.85, 1.15) * u(0.95, 1.05, 3)
    lip = skin * np.array([0.86, 0.58, 0.58]) * u(0.9, 1.05) + np.array([18, 0, 6])
    clothes = rng.uniform(20, 230, 3)
    bald = float(u(0.6, 1.0)) if rng.random() < 0.15 else 0.0
    beard = float(u(0.15, 0.9)) if rng.random() < 0.3 else 0.0
    moles = tuple((float(u(-55, 55)), float(u(-100, 40)), float(u(0.6, 1.5)))
                  for _ in range(rng.choice(3, p=[0.5, 0.35, 0.15])))
    head_half_width = u(68, 82)
    mouth_y = -u(60, 72)
    return IdentityParams(
        head_half_width=head_half_width, head_front=u(88, 97), head_back=u(96, 108),
        crown_height=u(112, 130), face_front=u(82, 92), face_flatness=u(2.3, 2.9),
        jaw_half_width=u(50, 68), chin_y=mouth_y - u(40, 48), chin_projection=u(-4, 6),
        neck_half_width=u(48, 56), shoulder_half_width=u(170, 205), brow_ridge=u(2, 6),
        eye_half_distance=u(29, 35), eye_socket_depth=u(7, 11), nose_length=u(32, 42),
        nose_height=u(15, 28), nose_half_width=u(13, 21), mouth_y=mouth_y,
        mouth_half_width=u(20, 27), lip_fullness=u(3, 7), cheek_fullness=u(2, 7),
        ear_protrusion=u(10, 18),
        skin_rgb=_rgb(skin), hair_rgb=_rgb(hair), brow_rgb=_rgb(brow), iris_rgb=_rgb(iris),
        lip_rgb=_rgb(lip), clothes_rgb=_rgb(clothes),
        hairline_y=u(52, 78), temple_recession=u(0, 18), bald=bald,
        hair_thickness=u(3, 14) * (1 - 0.7 * bald), nape_y=-u(70, 105) if rng.random() < 0.3
        else -u(45, 70),
        brow_thickness=u(2.5, 5), brow_arch=u(1, 5), brow_y=u(13, 18),
        eye_half_length=u(12.5, 15), eye_opening=u(4.2, 5.6), iris_radius=u(5.2, 6.0),
        beard=beard, moles=moles, texture_seed=int(rng.integers(2**31)))


def session_variant(params: IdentityParams, rng: np.random.Generator) -> IdentityParams:
    """The same person on another day: same shape, slightly different skin, hair and beard."""
    skin = np.asarray(params.skin_rgb) * rng.uniform(0.96, 1.04)
    return dataclasses.replace(
        params, skin_rgb=_rgb(skin),
        lip_rgb=_rgb(np.asarray(params.lip_rgb) * rng.uniform(0.96, 1.04)),
        hair_thickness=float(max(1.0, params.hair_thickness + rng.uniform(-2, 2))),
        beard=float(np.clip(params.beard + rng.uniform(-0.1, 0.15), 0, 1)) if params.beard
        else (float(rng.uniform(0.1, 0.25)) if rng.random() < 0.2 else 0.0),
        clothes_rgb=_rgb(rng.uniform(20, 230, 3)))


# ----------------------------------------------------------------------------- geometry
def _smooth_profile(y_fine: np.ndarray, values: np.ndarray, sigma_mm: float) -> np.ndarray:
    """Gaussian-smooths a profile sampled on the uniform grid `y_fine` (edges held constant)."""
    step = y_fine[1] - y_fine[0]
    half = int(3 * sigma_mm / step)
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * step / sigma_mm) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, half, mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def _profiles(knots: np.ndarray, y: np.ndarray, dome: tuple[float, float] | None = None
              ) -> np.ndarray:
    """Smooth cross-section profiles at heights `y` [n] -> [5, n]: half-width A, front depth
    Cf, back depth Cb, superellipse exponents of the front and back halves.

    knots: [k, 6] rows (y, A, Cf, Cb, p_front, p_back), ascending y, linearly interpolated
    and then Gaussian-smoothed. dome=(y_w, top) replaces everything above y_w by a rounded
    cap that closes at `top` (the skull).
    """
    fine = np.arange(-420.0, 200.0, 0.5)
    prof = np.stack([np.interp(fine, knots[:, 0], knots[:, i], left=0.0, right=0.0)
                     for i in range(1, 6)])
    if dome is not None:
        y_w, top = dome
        cap = fine > y_w
        t = np.clip((fine[cap] - y_w) / (top - y_w), 0, 1)
        q = (1 - t ** 2.4) ** (1 / 2.4)  # rounder than an ellipse, like a skull
        prof[:3, cap] = knots[-1, 1:4, None] * q
        prof[3:, cap] = knots[-1, 4:, None]
    out = np.empty((5, len(y)))
    for i in range(5):
        smooth = _smooth_profile(fine, prof[i], 4.0 if i < 3 else 8.0)
        if dome is not None:  # the cap is smooth already; blurring it would leave a spike
            smooth = np.where(fine > dome[0] + 10, prof[i], smooth)
        out[i] = np.interp(y, fine, smooth)
    out[3:] = np.maximum(out[3:], 1.5)
    return out


def _head_knots(p: IdentityParams) -> np.ndarray:
    """Profile knots of the head alone: closed under the chin, the skull cap added later."""
    jaw, ff, hw, cp = p.jaw_half_width, p.face_front, p.head_half_width, p.chin_projection
    return np.array([  # y, A, Cf, Cb, p_front, p_back
        (p.chin_y - 12, 6, ff - 30 + cp, 4, 2.0, 2.0),
        (p.chin_y - 4, 26, ff - 12 + cp, 18, 2.1, 2.0),
        (p.chin_y + 14, 0.8 * jaw, ff - 7 + 0.7 * cp, 30, 2.1, 2.0),
        (p.chin_y + 30, jaw, ff - 4 + 0.3 * cp, 45, 2.0, 2.0),
        (p.mouth_y, jaw + 6, ff, 62, 2.2, 2.0),
        (-35, hw - 5, ff + 1, p.head_back - 20, p.face_flatness, 2.1),
        (0, hw - 3, ff, p.head_back - 5, p.face_flatness, 2.2),
        (_SKULL_WIDEST_Y, hw, p.head_front, p.head_back, 2.4, 2.2),
    ])


def _body_knots(p: IdentityParams) -> np.ndarray:
    """Profile knots of the neck and shoulders (the neck top is hidden inside the head)."""
    neck, sh = p.neck_half_width, p.shoulder_half_width
    return np.array([
        (-420, sh, 105, 95, 2.3, 2.3),
        (-250, sh, 105, 95, 2.3, 2.3),
        (-222, 0.85 * sh, 94, 86, 2.2, 2.2),
        (-192, neck + 30, 64, 68, 2.1, 2.1),
        (-172, neck + 4, 48, 64, 2.0, 2.0),
        (-40, neck, 45, 62, 2.0, 2.0),
        (10, 0.5 * neck, 20, 30, 2.0, 2.0),
        (20, 0, 0, 0, 2.0, 2.0),
    ])


def _section_radius(theta: np.ndarray, prof: np.ndarray) -> np.ndarray:
    """Radius table [n, N] float32 of the cross-sections `prof` [5, n] at angles `theta` [N]
    (theta ascending from -pi: the front half |theta| <= pi/2 uses Cf and p_front)."""
    front = np.abs(theta) <= math.pi / 2
    lo, hi = np.flatnonzero(front)[[0, -1]]
    out = np.empty((prof.shape[1], len(theta)), np.float32)
    a = prof[0][:, None]
    out[:, lo:hi + 1] = _superellipse_radius(theta[lo:hi + 1], a, prof[1][:, None],
                                             prof[3][:, None])
    for part in (slice(0, lo), slice(hi + 1, None)):
        out[:, part] = _superellipse_radius(theta[part], a, prof[2][:, None], prof[4][:, None])
    return out


def _smooth_max(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Soft union of two radii: max(a, b) with a rounded seam of about k mm."""
    seam = k * np.log1p(np.exp(-np.abs(a - b) / k))
    # no seam where either part is absent (above the head, below the chin)
    return np.maximum(a, b) + seam * np.clip(np.minimum(a, b) / k, 0, 1)


def _superellipse_radius(theta: np.ndarray, a: np.ndarray, c: np.ndarray,
                         power: np.ndarray) -> np.ndarray:
    """Radius of |x/a|^p + |z/c|^p = 1 (x = r sin theta, z = r cos theta) for theta [N] and
    per-row a, c, p [n] -> [n, N] float32; written with exp/log, which numpy vectorises."""
    f32 = np.float32
    log_s = np.log(np.maximum(np.abs(np.sin(theta)), 1e-12)).astype(f32)[None, :]
    log_c = np.log(np.maximum(np.abs(np.cos(theta)), 1e-12)).astype(f32)[None, :]
    pw = power.astype(f32)
    total = np.exp(pw * (log_s - np.log(np.maximum(a, 1e-3)).astype(f32)))
    total += np.exp(pw * (log_c - np.log(np.maximum(c, 1e-3)).astype(f32)))
    return np.exp(np.log(total + f32(1e-30)) * (f32(-1) / pw))


def _gauss(u, v, u0, v0, su, sv):
    return np.exp(-0.5 * (((u - u0) / su) ** 2 + ((v - v0) / sv) ** 2))


def _nose_tip_y(p: IdentityParams) -> float:
    return -p.nose_length


def _face_relief(p: IdentityParams, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Radial displacement (mm) of the facial features at face coordinates u (mm to the
    right along the face, u = theta * face_front) and v (= y), arrays of any equal shape."""
    au = np.abs(u)
    e = p.eye_half_distance
    d = p.brow_ridge * np.exp(-0.5 * ((v - 13) / 7) ** 2) * np.exp(
        -0.5 * (np.maximum(au - 40, 0) / 10) ** 2) * (1 - 0.4 * np.exp(-0.5 * (u / 8) ** 2))
    d = d - p.eye_socket_depth * _gauss(au, v, e, -1, 15, 10)
    d = d + 7.0 * _gauss(au, v, e, 0, 8, 5.5)  # eyeball and lids
    d = d - 3.0 * _gauss(u, v, 0, 9, 8, 6)  # nasion
    # nose: a dorsum rising from the nasion to a rounded tip, cut off underneath
    v_n, v_t = 7.0, _nose_tip_y(p)
    frac = np.clip((v_n - v) / (v_n - v_t), 0, None)
    dorsum = 4.0 + (p.nose_height - 4.0) * np.minimum(frac, 1.15) ** 1.1
    dorsum = np.where(v > v_n, 4.0 * np.exp(-((v - v_n) / 6) ** 2), dorsum)
    base = 1 / (1 + np.exp(-(v - (v_t - 3.5)) / 2.0))
    width = 7.0 + (p.nose_half_width - 7.0) * np.clip(frac, 0, 1) ** 1.5
    across = np.clip(1 - (u / width) ** 2, 0, None) ** 1.5
    d = d + dorsum * base * across
    d = d + 6.0 * _gauss(au, v, 0.8 * p.nose_half_width, v_t - 2, 5, 5)  # alae
    d = d + p.cheek_fullness * _gauss(au, v, 42, -28, 16, 14)
    # lips: upper and lower bulges, a groove on the mouth line, the chin
    ym, mw = p.mouth_y, p.mouth_half_width
    along = np.exp(-0.5 * (u / (0.8 * mw)) ** 4)
    d = d + p.lip_fullness * along * (np.exp(-0.5 * ((v - ym - 4.5) / 3.5) ** 2)
                                      + 0.9 * np.exp(-0.5 * ((v - ym + 5) / 3.8) ** 2))
    d = d + 2.0 * np.exp(-0.5 * (u / 5) ** 2) * np.exp(-0.5 * ((v - v_t + 14) / 6) ** 2)
    d = d - 2.5 * np.exp(-0.5 * (u / (0.95 * mw)) ** 6) * np.exp(-0.5 * ((v - ym) / 1.2) ** 2)
    d = d - 3.0 * _gauss(u, v, 0, ym - 17, 20, 5)
    d = d + 5.0 * _gauss(u, v, 0, p.chin_y + 12, 17, 10)
    return d


def _ear_relief(p: IdentityParams, theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Radial displacement of the two ears (behind the mid-plane, between brow and nose base)."""
    dt = (np.abs(theta) - math.radians(96)) / 0.16
    dv = (y + 14) / 30
    r2 = dt ** 2 + dv ** 2
    shell = 1 / (1 + np.exp((r2 - 1) * 8))
    return p.ear_protrusion * shell * (1 - 0.35 * np.exp(-r2 / 0.25))


def _hair_mask(p: IdentityParams, theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Hair coverage in [0, 1] on the (theta [N], y [n]) grid -> [n, N]."""
    deg = np.degrees(np.abs(theta))
    hl, rec = p.hairline_y, p.temple_recession
    knots_deg = [0, 25, 55, 70, 77, 82, 86, 106, 125, 180]
    knots_y = [hl, hl - 2 + 0.5 * rec, hl - 12 + rec, 25, -12, -12, 24, 24,
               0.5 * p.nape_y, p.nape_y]
    line = np.interp(deg, knots_deg, knots_y)
    mask = 1 / (1 + np.exp(-(y[:, None] - line[None, :]) / 1.5))
    if p.bald > 0:  # bald on top, a horseshoe of hair left on the sides and back
        top = 1 / (1 + np.exp(-(y[:, None] - (40 + 15 * np.cos(np.radians(deg))[None]) ) / 3))
        back = np.clip((deg - 100) / 40, 0, 1)[None, :]
        mask = mask * (1 - p.bald * top * (1 - back))
    return mask


def _face_window(theta: np.ndarray, y: np.ndarray, limit_deg: float, y_lo: float,
                 y_hi: float) -> tuple[slice, slice]:
    """Row and column slices of the (y, theta) table covering |theta| < limit and y_lo..y_hi."""
    cols = np.flatnonzero(np.abs(theta) < math.radians(limit_deg))
    rows = np.flatnonzero((y >= y_lo) & (y <= y_hi))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


# ----------------------------------------------------------------------------- appearance
def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int],
                  cells: tuple[int, int]) -> np.ndarray:
    """Band-limited noise in about [-1, 1] of `shape` (rows, cols) from a coarse random grid."""
    coarse = rng.uniform(-1, 1, cells).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _blend(rgb: np.ndarray, colour, alpha: np.ndarray) -> None:
    """In place: rgb [h, w, 3] <- rgb + (colour - rgb) * alpha ([h, w], clipped to 0..1)."""
    a = np.clip(alpha, 0, 1).astype(np.float32)[..., None]
    rgb += (np.asarray(colour, np.float32) - rgb) * a


class _Canvas:
    """The face window of the texture: colour [h, w, 3] and labels [h, w] views, with the
    face coordinates u [w] (mm along the face, + toward image-right) and v [h] (= y)."""

    def __init__(self, rgb: np.ndarray, parts: np.ndarray, noise: np.ndarray, u: np.ndarray,
                 v: np.ndarray):
        self.rgb, self.parts, self.noise = rgb, parts, noise
        self.u, self.v = u.astype(np.float32), v.astype(np.float32)

    def box(self, u_max: float, v_lo: float, v_hi: float):
        """Views of the part with |u| <= u_max and v_lo <= v <= v_hi: (rgb, parts, u [1, w],
        v [h, 1], noise); a feature only touches its own box, which keeps texturing fast."""
        cols = np.flatnonzero(np.abs(self.u) <= u_max)
        rows = np.flatnonzero((self.v >= v_lo) & (self.v <= v_hi))
        rs = slice(rows[0], rows[-1] + 1) if len(rows) else slice(0, 0)
        cs = slice(cols[0], cols[-1] + 1) if len(cols) else slice(0, 0)
        return (self.rgb[rs, cs], self.parts[rs, cs], self.u[None, cs], self.v[rs, None],
                self.noise[rs, cs])


def _paint_skin_tones(p: IdentityParams, cv: _Canvas) -> None:
    """Blush on the cheeks, a redder nose tip, lid creases, nostrils, moles."""
    skin = np.asarray(p.skin_rgb, np.float32)
    e, v_t = p.eye_half_distance, _nose_tip_y(p)
    rgb, _, u, v, _ = cv.box(75, -65, 0)
    _blend(rgb, skin * np.float32([1.0, 0.82, 0.8]),
           0.35 * _gauss(np.abs(u), v, 42, -30, 14, 12) + 0.25 * _gauss(u, v, 0, v_t, 7, 6))
    rgb, _, u, v, _ = cv.box(e + 25, 0, 14)
    _blend(rgb, skin * 0.8, 0.5 * _gauss(np.abs(u), v, e, 6.5, 12, 2.5))
    rgb, _, u, v, _ = cv.box(14, v_t - 14, v_t)
    _blend(rgb, skin * 0.35, 0.6 * _gauss(np.abs(u), v, 6, v_t - 6, 3, 2))
    for mu, mv, mr in p.moles:
        rgb, parts, u, v, _ = cv.box(abs(mu) + 3 * mr, mv - 3 * mr, mv + 3 * mr)
        spot = (_gauss(u, v, mu, mv, mr, mr) > 0.5) & (parts == PART_ID["skin"])
        rgb[spot] = skin * np.float32([0.45, 0.35, 0.3])


def _paint_beard(p: IdentityParams, cv: _Canvas) -> None:
    """Beard or stubble: hair colour below the nose, around the mouth and on the jaw."""
    v_t = _nose_tip_y(p)
    rgb, _, u, v, noise = cv.box(80, p.chin_y - 45, v_t)
    region = (1 / (1 + np.exp((v - (v_t - 8)) / 2))) * (1 / (1 + np.exp(-(v - p.chin_y + 25) / 4)))
    region = region * (1 / (1 + np.exp((np.abs(u) - 62) / 4)))
    _blend(rgb, np.asarray(p.hair_rgb) * 0.8, p.beard * region * (0.8 + 0.2 * noise))


def _paint_lips(p: IdentityParams, cv: _Canvas) -> None:
    ym, mw = p.mouth_y, p.mouth_half_width
    rgb, parts, u, v, _ = cv.box(mw + 2, ym - 14, ym + 12)
    taper = np.clip(1 - (u / mw) ** 2, 0, None) ** 0.5
    bow = 1.0 - 0.8 * np.exp(-0.5 * (u / 3) ** 2)  # Cupid's bow
    upper = (v >= ym) & (v < ym + (5.5 + 0.45 * p.lip_fullness) * taper * (0.85 + 0.15 * bow))
    lower = (v < ym) & (v > ym - (6.5 + 0.55 * p.lip_fullness) * taper)
    lips = upper | lower
    rgb[lips] = np.asarray(p.lip_rgb, np.float32)
    _blend(rgb, np.asarray(p.lip_rgb) * 0.4,
           0.8 * np.exp(-0.5 * ((v - ym) / 0.7) ** 2) * (np.abs(u) < mw + 1))
    parts[lips] = PART_ID["lips"]


def _paint_brows(p: IdentityParams, cv: _Canvas) -> None:
    """An arch above each eye, thinner toward the temple."""
    e = p.eye_half_distance
    lo = p.brow_y - 2 * p.brow_thickness - 2
    rgb, parts, u, v, _ = cv.box(e + 22, lo, p.brow_y + p.brow_arch + 2 * p.brow_thickness)
    du = np.abs(u) - e
    arch = p.brow_y + p.brow_arch * (1 - ((du - 3) / 17) ** 2)
    thick = p.brow_thickness * (1 - 0.45 * np.clip((du + 14) / 34, 0, 1))
    brow = np.exp(-((v - arch) / thick) ** 4) * (1 / (1 + np.exp((np.abs(du - 3) - 17) / 1.2)))
    brow = brow * (0.85 + 0.15 * np.sin(u * 2.3 + v * 0.7))  # hairs
    _blend(rgb, p.brow_rgb, 0.92 * brow)
    parts[brow > 0.5] = PART_ID["brow"]


def _paint_eyes(p: IdentityParams, cv: _Canvas) -> None:
    """Almond of sclera, iris with a darker rim, pupil, lash line on the upper lid."""
    e = p.eye_half_distance
    rgb, parts, u, v, _ = cv.box(e + p.eye_half_length + 1, -p.eye_opening - 2, p.eye_opening + 2)
    du = np.abs(u) - e
    lid = p.eye_opening * np.clip(1 - (du / p.eye_half_length) ** 2, 0, None) ** 0.7
    inside = (np.abs(v + 0.3) < lid) & (np.abs(du) < p.eye_half_length)
    r = np.sqrt(du ** 2 + v ** 2)
    iris = np.asarray(p.iris_rgb, np.float32) * (1 - 0.45 * (r / p.iris_radius) ** 4)[..., None]
    eye = np.where((r < p.iris_radius)[..., None], iris, np.float32([212, 204, 196]))
    eye = np.where((r < 0.38 * p.iris_radius)[..., None], np.float32([14, 12, 12]), eye)
    rgb[inside] = eye[inside]
    lash = (np.abs(v + 0.3 - lid) < 0.9) & (np.abs(du) < p.eye_half_length) & (v > -0.3)
    rgb[lash] = np.float32([36, 28, 26])
    parts[inside & (u < 0)] = PART_ID["eye_neg"]
    parts[inside & (u > 0)] = PART_ID["eye_pos"]


def _albedo(p: IdentityParams, theta: np.ndarray, y: np.ndarray,
            hair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surface colour [n, N, 3] float32 (0..255) and part labels [n, N] uint8 on the table."""
    rng = np.random.default_rng(p.texture_seed)
    n, big_n = len(y), len(theta)
    blotch = _smooth_noise(rng, (n, big_n), (max(n // 40, 4), 24))
    rgb = (1 + 0.04 * blotch)[..., None] * np.asarray(p.skin_rgb, np.float32)
    parts = np.full((n, big_n), PART_ID["skin"], np.uint8)
    # clothes below a collar line (lower in front)
    collar = -160 - 20 * np.clip(np.cos(theta), 0, None) ** 2
    low = slice(np.flatnonzero(y < collar.max())[0], None)
    below = y[low, None] < collar[None, :]
    weave = _smooth_noise(rng, below.shape, (max(below.shape[0] // 6, 4), big_n // 6))
    clothes = np.asarray(p.clothes_rgb, np.float32) * (1 + 0.05 * weave)[..., None]
    rgb[low][below] = clothes[below]
    parts[low][below] = PART_ID["clothes"]
    # hair: strands run along y, so the noise is coarse in y and fine in theta
    strands = _smooth_noise(rng, (n, big_n), (max(n // 25, 4), big_n // 3))
    top = slice(0, np.flatnonzero(hair.max(axis=1) > 1e-3)[-1] + 1)  # rows with hair
    hair_rgb = (1 + 0.18 * strands[top])[..., None] * np.asarray(p.hair_rgb, np.float32)
    rgb[top] += (hair_rgb - rgb[top]) * hair[top, :, None]
    covered = hair > 0.5
    covered[low] &= ~below
    parts[covered] = PART_ID["hair"]
    # the face: features painted in face coordinates, then hair put back on top
    rows, cols = _face_window(theta, y, 80, p.chin_y - 45, p.hairline_y + 5)
    canvas = _Canvas(rgb[rows, cols], parts[rows, cols], blotch[rows, cols],
                     theta[cols] * p.face_front, y[rows])
    keep = canvas.parts == PART_ID["hair"]
    saved = canvas.rgb[keep]
    _paint_skin_tones(p, canvas)
    if p.beard > 0:
        _paint_beard(p, canvas)
    _paint_lips(p, canvas)
    _paint_brows(p, canvas)
    _paint_eyes(p, canvas)
    canvas.rgb[keep], canvas.parts[keep] = saved, PART_ID["hair"]
    return rgb, parts


# ----------------------------------------------------------------------------- model
def _theta_samples(pixels_per_mm: float) -> int:
    """Samples around the body: a power of two giving about 0.6 px per sample at 130 mm."""
    return int(np.clip(2 ** math.ceil(math.log2(700 * pixels_per_mm)), 128, 2048))


def _illumination_light(index: int) -> tuple[np.ndarray | None, float]:
    """Unit direction toward the flash (head frame) and its strength; None for no flash."""
    if not 0 <= index < cams.NUM_ILLUMINATIONS:
        raise ValueError(f"illumination {index} is not a Multi-PIE flash index (00..19)")
    if index in NO_FLASH:
        return None, 0.0
    if index <= 13:
        az, el = (index - 7) * 15.0, 8.0
    else:
        az, el = (index - 16) * 30.0, 35.0
    az, el = math.radians(az), math.radians(el)
    return np.array([math.cos(el) * math.sin(az), math.sin(el),
                     math.cos(el) * math.cos(az)], np.float32), 0.85


class HeadModel:
    """Surface and texture tables of one identity, sampled for one pixel scale.

    Attributes: theta [N] (rad, -pi..pi), y [n] (mm, descending), radius [n, N],
    normals [n, N, 3] (head frame), albedo [n, N, 3] float32, parts [n, N] uint8.
    """

    def __init__(self, params: IdentityParams, pixels_per_mm: float):
        p = self.params = params
        self.pixels_per_mm = pixels_per_mm
        big_n = _theta_samples(pixels_per_mm)
        self.theta = (-math.pi + 2 * math.pi * np.arange(big_n) / big_n).astype(np.float64)
        self.dy = 0.5 / pixels_per_mm  # half a pixel per table row
        # rows on multiples of dy (y = 0, the eye line, is a row), from above the head down
        # to below any image's bottom edge; the lowest row repeats further down
        k_top = math.ceil((p.crown_height + p.hair_thickness + 8) / self.dy)
        self.y = self.dy * (k_top - np.arange(k_top + math.ceil(330 / self.dy) + 1))
        self.hair = _hair_mask(p, self.theta, self.y).astype(np.float32)
        self.radius = self._radius_table()
        self.radius_wrapped = np.concatenate([self.radius, self.radius[:, :1]], axis=1)
        self.normals = self._normal_table()
        self.albedo, self.parts = _albedo(p, self.theta, self.y, self.hair)
        self._lit: dict[int, np.ndarray] = {}

    def _radius_table(self) -> np.ndarray:
        """R(theta, y) [n, N] float32: head and body joined, facial relief, ears, hair."""
        p, theta, y = self.params, self.theta, self.y
        top = p.crown_height + p.hair_thickness * (1 - p.bald)
        # y descends, so the head is a prefix of the rows and the body a suffix; they
        # overlap (and are joined smoothly) from the neck top down to under the chin
        h_end = int(np.searchsorted(-y, -(p.chin_y - 14)))
        b_start = int(np.searchsorted(-y, -22.0))
        r = np.zeros((len(y), len(theta)), np.float32)
        r[:h_end] = _section_radius(
            theta, _profiles(_head_knots(p), y[:h_end], (_SKULL_WIDEST_Y, top)))
        body = _section_radius(theta, _profiles(_body_knots(p), y[b_start:]))
        r[b_start:h_end] = _smooth_max(r[b_start:h_end], body[:h_end - b_start], 4.0)
        r[h_end:] = body[h_end - b_start:]
        rows, cols = _face_window(theta, y, 85, p.chin_y - 30, 60)
        u = theta[cols][None, :] * p.face_front
        r[rows, cols] += _face_relief(p, u, y[rows][:, None])
        rows, cols = slice(None), np.abs(np.abs(theta) - math.radians(96)) < 0.5
        ear_rows = (y > -70) & (y < 40)
        r[np.ix_(ear_rows, cols)] += _ear_relief(p, theta[cols][None, :], y[ear_rows][:, None])
        # hair volume, fading out toward the crown, where the skull cap already includes it
        r += p.hair_thickness * self.hair * np.clip((top - y[:, None]) / 40, 0, 1)
        r[0] = 0.0  # the top row is above the head: nothing to draw
        return np.maximum(r, 0).astype(np.float32)

    def _normal_table(self) -> np.ndarray:
        """Outward unit normals [n, N, 3] float32 (head frame) from the gradient of
        r - R(theta, y) in cylindrical form: e_r - (R_theta / R) e_theta - R_y e_y."""
        r = self.radius
        d_theta = 2 * math.pi / len(self.theta)
        r_t = (np.roll(r, -1, axis=1) - np.roll(r, 1, axis=1)) / np.float32(2 * d_theta)
        r_y = np.empty_like(r)  # rows go down in y
        r_y[1:-1] = (r[:-2] - r[2:]) / np.float32(2 * self.dy)
        r_y[0], r_y[-1] = r_y[1], r_y[-2]
        s = np.sin(self.theta).astype(np.float32)[None, :]
        c = np.cos(self.theta).astype(np.float32)[None, :]
        k = r_t / np.maximum(r, np.float32(1.0))
        n = np.empty(r.shape + (3,), np.float32)
        n[..., 0] = s - k * c
        n[..., 1] = -r_y
        n[..., 2] = c + k * s
        n /= np.sqrt(np.einsum("...i,...i->...", n, n))[..., None]
        return n

    def lit_texture(self, illumination: int) -> np.ndarray:
        """Albedo times Lambertian + ambient shading for one flash, [n, N, 3] uint8 (cached)."""
        if illumination not in self._lit:
            light, strength = _illumination_light(illumination)
            n = self.normals
            # room light: soft, mostly from above and the front, also in the flash images
            shade = 0.27 + 0.08 * n[..., 1] + 0.05 * n[..., 2]
            if light is not None:
                shade = shade + strength * np.maximum(n @ light, 0)
            lit = self.albedo * shade[..., None]
            self._lit[illumination] = np.clip(lit + 0.5, 0, 255).astype(np.uint8)
        return self._lit[illumination]

    def surface_point(self, theta: float, y: float) -> np.ndarray:
        """Head-frame 3-D point (x, y, z) of the surface at (theta, y), interpolated."""
        ti = (theta + math.pi) / (2 * math.pi) * len(self.theta)
        yi = (self.y[0] - y) / self.dy
        t0, y0 = int(math.floor(ti)), int(math.floor(yi))
        ft, fy = ti - t0, yi - y0
        n = len(self.theta)
        cols = [t0 % n, (t0 + 1) % n]
        quad = self.radius[y0:y0 + 2][:, cols].astype(np.float64)  # 2 x 2 neighbours
        r = (1 - fy) * ((1 - ft) * quad[0, 0] + ft * quad[0, 1]) + fy * (
            (1 - ft) * quad[1, 0] + ft * quad[1, 1])
        return np.array([r * math.sin(theta), y, r * math.cos(theta)])

    @functools.cached_property
    def landmarks_3d(self) -> np.ndarray:
        """[5, 3] head-frame points: eye centres (theta < 0 first), nose tip, mouth corners."""
        p = self.params
        te = p.eye_half_distance / p.face_front
        tm = p.mouth_half_width / p.face_front
        centre = len(self.theta) // 2  # theta = 0 exactly
        rows = np.flatnonzero((self.y < 0) & (self.y > p.mouth_y))
        profile = self.radius[rows, centre].astype(np.float64)
        i = int(np.clip(np.argmax(profile), 1, len(rows) - 2))
        # the most protruding point of the midline, refined between rows by a parabola
        a, b, c = profile[i - 1:i + 2]
        step = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        tip_y = float(self.y[rows[i]] - step * self.dy)
        return np.stack([self.surface_point(-te, 0.0), self.surface_point(te, 0.0),
                         self.surface_point(0.0, tip_y), self.surface_point(-tm, p.mouth_y),
                         self.surface_point(tm, p.mouth_y)])


@functools.lru_cache(maxsize=4)
def head_model(params: IdentityParams, pixels_per_mm: float) -> HeadModel:
    """The (cached) tables of `params` at `pixels_per_mm`."""
    return HeadModel(params, pixels_per_mm)


def pixels_per_mm_for(image_size: Sequence[int]) -> float:
    """Nominal scale for an image of (width, height): 0.9 px/mm at 640x480, proportional."""
    w, h = image_size
    return PIXELS_PER_MM_AT_480 * min(h / 480.0, w / 640.0)


# ----------------------------------------------------------------------------- rendering
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
    landmarks: np.ndarray  # [5, 2] raw-pixel x, y, spec 1.2 order
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


# ----------------------------------------------------------------------------- layout
def image_relpath(subject: int, session: int, recording: int, camera: str,
                  illumination: int) -> str:
    """Raw Multi-PIE path (spec 6.1), '/'-separated, relative to the output directory:
    data/session01/multiview/001/01/05_1/001_01_01_051_07.png."""
    folder = cams.camera_from_code(camera).folder
    return ImageKey(subject, session, recording, folder, illumination).relative_path()


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _seeded_rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(k) for k in keys]))


def identity_for(seed: int, subject: int, session: int = 1) -> IdentityParams:
    """The identity `generate` uses for (seed, subject, session); sessions > 1 are variants."""
    params = sample_identity(_seeded_rng(seed, subject))
    if session > 1:
        params = session_variant(params, _seeded_rng(seed, subject, session, 7919))
    return params


def camera_jitter(seed: int, subject: int, session: int, camera: str,
                  image_size: Sequence[int] = DEFAULT_IMAGE_SIZE) -> dict:
    """The head pose jitter `generate` uses for one (subject, session, camera), shared by all
    its illuminations: {yaw_degrees, roll_degrees, shift, scale}, keyword arguments of
    `render_view`. The yaw is the camera's (spec 6.2) plus a small random head turn."""
    cam = cams.camera_from_code(camera)
    jr = _seeded_rng(seed, subject, session, int(cam.code))
    w, h = image_size
    return {"yaw_degrees": cam.yaw + jr.uniform(-JITTER_YAW_DEG, JITTER_YAW_DEG),
            "roll_degrees": jr.uniform(-JITTER_ROLL_DEG, JITTER_ROLL_DEG),
            "shift": (jr.uniform(-1, 1) * JITTER_SHIFT * w, jr.uniform(-1, 1) * JITTER_SHIFT * h),
            "scale": 1 + jr.uniform(-JITTER_SCALE, JITTER_SCALE)}


def _render_subject(task: tuple) -> list[tuple[str, np.ndarray]]:
    """Renders and writes every image of one (subject, session); returns (relpath, landmarks)."""
    out_dir, subject, session, seed, size, illuminations, camera_folders = task
    params = identity_for(seed, subject, session)
    rows = []
    for cam in (cams.BY_FOLDER[f] for f in camera_folders):
        jit = camera_jitter(seed, subject, session, cam.folder, size)
        view = _make_view(params, jit["yaw_degrees"], size, jit["roll_degrees"], jit["shift"],
                          jit["scale"])
        folder = os.path.join(out_dir, os.path.dirname(
            image_relpath(subject, session, RECORDING, cam.folder, 0)))
        os.makedirs(folder, exist_ok=True)
        for illum in illuminations:
            rel = image_relpath(subject, session, RECORDING, cam.folder, illum)
            image = _shade_view(view, illum)
            ok, png = cv2.imencode(".png", image[..., ::-1])  # cv2 expects BGR
            if not ok:
                raise RuntimeError(f"{rel}: PNG encoding failed")
            _write_atomic(os.path.join(out_dir, rel), png.tobytes())
            rows.append((rel, view.landmarks))
    head_model.cache_clear()  # one identity at a time: keep the worker's memory flat
    return rows


def _worker_init() -> None:
    cv2.setNumThreads(1)  # the pool gives the parallelism


def _check_args(num_subjects: int, illuminations: Iterable[int], sessions: int,
                image_size: Sequence[int], camera_folders: Iterable[str]) -> None:
    if not 1 <= num_subjects <= 999:
        raise ValueError(f"num_subjects={num_subjects}: must be 1..999 (3-digit subject ids)")
    if not 1 <= sessions <= 9:
        raise ValueError(f"sessions={sessions}: must be 1..9 (folder session0S)")
    for i in illuminations:
        if not 0 <= int(i) < cams.NUM_ILLUMINATIONS:
            raise ValueError(f"illumination {i}: not a Multi-PIE flash index (00..19)")
    w, h = image_size
    if w < 64 or h < 48:
        raise ValueError(f"image size {w}x{h}: must be at least 64x48")
    for f in camera_folders:
        cams.camera_from_code(f)


def generate(output_dir: str, num_subjects: int,
             illuminations: Sequence[int] = DEFAULT_ILLUMINATIONS, sessions: int = 1,
             image_size: Sequence[int] = DEFAULT_IMAGE_SIZE, seed: int = 0,
             workers: int | None = None, cameras: Sequence[str] | None = None,
             progress: bool = True) -> dict:
    """Writes num_subjects x sessions x cameras x illuminations images in the raw Multi-PIE
    layout under output_dir, plus output_dir/landmarks.csv. Deterministic by seed (and
    independent of `workers`). cameras: folder ids such as '05_1' (default: all 13).
    Returns a summary dict (images, subjects, sessions, seconds, images_per_second, ...).
    """
    start = time.perf_counter()
    illuminations = tuple(sorted({int(i) for i in illuminations}))
    camera_folders = tuple(c.folder for c in cams.CAMERAS) if cameras is None else tuple(
        cams.camera_from_code(c).folder for c in cameras)
    size = (int(image_size[0]), int(image_size[1]))
    _check_args(num_subjects, illuminations, sessions, size, camera_folders)
    os.makedirs(output_dir, exist_ok=True)
    tasks = [(output_dir, subj, sess, seed, size, illuminations, camera_folders)
             for subj in range(1, num_subjects + 1) for sess in range(1, sessions + 1)]
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    per_task = len(camera_folders) * len(illuminations)
    rows: list = []
    bar = _progress_bar(len(tasks) * per_task, progress)
    if workers <= 1:
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            for task in tasks:
                rows.extend(_render_subject(task))
                bar.update(per_task)
        finally:
            cv2.setNumThreads(threads)
    else:
        ctx = multiprocessing.get_context("spawn")  # safe even if the caller holds threads
        with ctx.Pool(workers, initializer=_worker_init) as pool:
            for result in pool.imap_unordered(_render_subject, tasks):
                rows.extend(result)
                bar.update(per_task)
    bar.close()
    rows.sort(key=lambda r: r[0])
    lines = [",".join(CSV_HEADER)] + [
        rel + "," + ",".join(f"{v:.2f}" for v in lms.reshape(-1)) for rel, lms in rows]
    csv_path = os.path.join(output_dir, LANDMARKS_FILE)
    _write_atomic(csv_path, ("\n".join(lines) + "\n").encode())
    seconds = time.perf_counter() - start
    return {"output_dir": output_dir, "landmarks_csv": csv_path, "images": len(rows),
            "subjects": num_subjects, "sessions": sessions, "cameras": len(camera_folders),
            "illuminations": list(illuminations), "image_size": list(size),
            "workers": workers, "seconds": seconds,
            "images_per_second": len(rows) / max(seconds, 1e-9)}


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, unit="img", disable=not enabled, desc="synthetic",
                file=sys.stderr)


# ----------------------------------------------------------------------------- CLI
def main(argv: Sequence[str]) -> None:
    from absl import flags

    f = flags.FLAGS
    if len(argv) > 1:
        raise SystemExit(f"data_prep.synthetic: unexpected arguments: {' '.join(argv[1:])}")
    try:
        illuminations = [int(i) for i in f.illuminations]
        summary = generate(
            f.output_dir, f.num_subjects, illuminations=illuminations, sessions=f.sessions,
            image_size=(f.image_width, f.image_height), seed=f.seed, workers=f.workers,
            cameras=f.cameras or None)
    except (ValueError, KeyError) as err:
        raise SystemExit(f"data_prep.synthetic: {err.args[0] if err.args else err}") from None
    print(f"wrote {summary['images']} images ({summary['subjects']} subjects x "
          f"{summary['sessions']} sessions x {summary['cameras']} cameras x "
          f"{len(summary['illuminations'])} illuminations) to {summary['output_dir']} in "
          f"{summary['seconds']:.1f} s, {summary['images_per_second']:.1f} images/s")


def _define_flags() -> None:
    from absl import flags

    flags.DEFINE_string("output_dir", None, "Root of the raw Multi-PIE style output.")
    flags.DEFINE_integer("num_subjects", 20, "Number of identities (subjects 001..).")
    flags.DEFINE_list("illuminations", [f"{i:02d}" for i in DEFAULT_ILLUMINATIONS],
                      "Flash indices 00..19 to render (07 = frontal, 01 left .. 13 right).")
    flags.DEFINE_integer("sessions", 1, "Sessions per subject (session01..).")
    flags.DEFINE_integer("image_width", DEFAULT_IMAGE_SIZE[0], "Image width (raw: 640).")
    flags.DEFINE_integer("image_height", DEFAULT_IMAGE_SIZE[1], "Image height (raw: 480).")
    flags.DEFINE_integer("seed", 0, "Random seed; same seed -> identical files.")
    flags.DEFINE_integer("workers", os.cpu_count() or 1, "Worker processes.")
    flags.DEFINE_list("cameras", [], "Camera folders to render, e.g. 05_1,19_0 (default all 13).")
    flags.mark_flag_as_required("output_dir")


if __name__ == "__main__":
    from absl import app

    _define_flags()
    app.run(main)
