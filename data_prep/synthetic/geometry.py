"""Shape of a synthetic head: cross-section profiles, the radius table's pieces, facial relief.

The surface is star-shaped about the vertical axis: a radius R(theta, y) per angle theta
(0 = nose direction) and height y (mm, 0 on the eye line). Face coordinates: u = theta *
face_front (mm along the face, + toward image-right), v = y.
"""
from __future__ import annotations

import math

import numpy as np

from data_prep.synthetic.constants import _SKULL_WIDEST_Y
from data_prep.synthetic.identities import IdentityParams


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
