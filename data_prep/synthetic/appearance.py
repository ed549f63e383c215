"""Texture of a synthetic head: skin, hair, clothes and the painted facial features, with the
per-texel region labels (regions.REGIONS), all on the (theta, y) table of the surface.

The outlines of the painted features (lip edges, lip gap, brow arch, eyelids) are small public
functions of face coordinates, so data_prep.synthetic.landmarks68 places its points on exactly
the curves the labels are painted from.
"""
from __future__ import annotations

import cv2
import numpy as np

from data_prep.synthetic.geometry import _face_window, _gauss, _nose_tip_y
from data_prep.synthetic.identities import IdentityParams
from data_prep.synthetic.regions import IS_SKIN_REGION, REGION_ID

# The inner mouth of an open mouth spans this fraction of the mouth half-width.
MOUTH_INNER_FRACTION = 0.85
_INNER_MOUTH_RGB = (62, 26, 30)
_TEETH_RGB = (214, 206, 186)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int],
                  cells: tuple[int, int]) -> np.ndarray:
    """Band-limited noise in about [-1, 1] of `shape` (rows, cols) from a coarse random grid."""
    coarse = rng.uniform(-1, 1, cells).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _blend(rgb: np.ndarray, colour, alpha: np.ndarray) -> None:
    """In place: rgb [h, w, 3] <- rgb + (colour - rgb) * alpha ([h, w], clipped to 0..1)."""
    a = np.clip(alpha, 0, 1).astype(np.float32)[..., None]
    rgb += (np.asarray(colour, np.float32) - rgb) * a


# ----------------------------------------------------------------------------- outlines
def upper_lip_height(p: IdentityParams, u):
    """Height (mm) of the upper lip's outer edge above the mouth line at u (Cupid's bow)."""
    taper = np.clip(1 - (u / p.mouth_half_width) ** 2, 0, None) ** 0.5
    bow = 1.0 - 0.8 * np.exp(-0.5 * (u / 3) ** 2)
    return (5.5 + 0.45 * p.lip_fullness) * taper * (0.85 + 0.15 * bow)


def lower_lip_depth(p: IdentityParams, u):
    """Depth (mm) of the lower lip's outer edge below the mouth line at u."""
    taper = np.clip(1 - (u / p.mouth_half_width) ** 2, 0, None) ** 0.5
    return (6.5 + 0.55 * p.lip_fullness) * taper


def lip_gap(p: IdentityParams, u):
    """Half the opening (mm) between the inner lip edges at u: each inner edge is this far
    from the mouth line; 0 everywhere for a closed mouth (mouth_open = 0)."""
    inner = MOUTH_INNER_FRACTION * p.mouth_half_width
    return 0.5 * p.mouth_open * np.clip(1 - (u / inner) ** 2, 0, None) ** 0.5


def brow_arch(p: IdentityParams, du):
    """Height (mm) of a brow's centre line at du = |u| - eye_half_distance; the brow is drawn
    for |du - 3| < 17 (fading over ~1 mm at the ends)."""
    return p.brow_y + p.brow_arch * (1 - ((du - 3) / 17) ** 2)


def eyelid_opening(p: IdentityParams, du):
    """Half-height (mm) of the eye opening at du = |u| - eye_half_distance; the opening is
    centred 0.3 mm below the eye line and spans |du| < eye_half_length."""
    return p.eye_opening * np.clip(1 - (du / p.eye_half_length) ** 2, 0, None) ** 0.7


# ----------------------------------------------------------------------------- painting
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
        spot = (_gauss(u, v, mu, mv, mr, mr) > 0.5) & IS_SKIN_REGION[parts]
        rgb[spot] = skin * np.float32([0.45, 0.35, 0.3])


def _paint_beard(p: IdentityParams, cv: _Canvas) -> None:
    """Beard or stubble: hair colour below the nose, around the mouth and on the jaw."""
    v_t = _nose_tip_y(p)
    rgb, _, u, v, noise = cv.box(80, p.chin_y - 45, v_t)
    region = (1 / (1 + np.exp((v - (v_t - 8)) / 2))) * (1 / (1 + np.exp(-(v - p.chin_y + 25) / 4)))
    region = region * (1 / (1 + np.exp((np.abs(u) - 62) / 4)))
    _blend(rgb, np.asarray(p.hair_rgb) * 0.8, p.beard * region * (0.8 + 0.2 * noise))


def _paint_lips(p: IdentityParams, cv: _Canvas) -> None:
    """Upper and lower lip; a closed mouth gets a dark line on the mouth line, an open one
    (mouth_open > 0) an inner mouth (teeth in its upper half) between the inner lip edges."""
    ym, mw = p.mouth_y, p.mouth_half_width
    rgb, parts, u, v, _ = cv.box(mw + 2, ym - 14, ym + 12)
    gap = lip_gap(p, u) if p.mouth_open > 0 else 0.0
    upper = (v >= ym + gap) & (v < ym + upper_lip_height(p, u))
    lower = (v < ym - gap) & (v > ym - lower_lip_depth(p, u))
    rgb[upper | lower] = np.asarray(p.lip_rgb, np.float32)
    if p.mouth_open > 0:
        inner = np.abs(v - ym) < gap
        teeth = inner & (v > ym - 0.2 * gap) & (np.abs(u) < 0.6 * mw)
        rgb[inner] = np.float32(_INNER_MOUTH_RGB)
        rgb[teeth] = np.float32(_TEETH_RGB)
        parts[inner] = REGION_ID["inner_mouth"]
    else:
        _blend(rgb, np.asarray(p.lip_rgb) * 0.4,
               0.8 * np.exp(-0.5 * ((v - ym) / 0.7) ** 2) * (np.abs(u) < mw + 1))
    parts[upper] = REGION_ID["upper_lip"]
    parts[lower] = REGION_ID["lower_lip"]


def _paint_brows(p: IdentityParams, cv: _Canvas) -> None:
    """An arch above each eye, thinner toward the temple."""
    e = p.eye_half_distance
    lo = p.brow_y - 2 * p.brow_thickness - 2
    rgb, parts, u, v, _ = cv.box(e + 22, lo, p.brow_y + p.brow_arch + 2 * p.brow_thickness)
    du = np.abs(u) - e
    arch = brow_arch(p, du)
    thick = p.brow_thickness * (1 - 0.45 * np.clip((du + 14) / 34, 0, 1))
    brow = np.exp(-((v - arch) / thick) ** 4) * (1 / (1 + np.exp((np.abs(du - 3) - 17) / 1.2)))
    brow = brow * (0.85 + 0.15 * np.sin(u * 2.3 + v * 0.7))  # hairs
    _blend(rgb, p.brow_rgb, 0.92 * brow)
    parts[(brow > 0.5) & (u < 0)] = REGION_ID["brow_neg"]
    parts[(brow > 0.5) & (u > 0)] = REGION_ID["brow_pos"]


def _paint_eyes(p: IdentityParams, cv: _Canvas) -> None:
    """Almond of sclera, iris with a darker rim, pupil, lash line on the upper lid."""
    e = p.eye_half_distance
    rgb, parts, u, v, _ = cv.box(e + p.eye_half_length + 1, -p.eye_opening - 2, p.eye_opening + 2)
    du = np.abs(u) - e
    lid = eyelid_opening(p, du)
    inside = (np.abs(v + 0.3) < lid) & (np.abs(du) < p.eye_half_length)
    r = np.sqrt(du ** 2 + v ** 2)
    iris = np.asarray(p.iris_rgb, np.float32) * (1 - 0.45 * (r / p.iris_radius) ** 4)[..., None]
    eye = np.where((r < p.iris_radius)[..., None], iris, np.float32([212, 204, 196]))
    eye = np.where((r < 0.38 * p.iris_radius)[..., None], np.float32([14, 12, 12]), eye)
    rgb[inside] = eye[inside]
    lash = (np.abs(v + 0.3 - lid) < 0.9) & (np.abs(du) < p.eye_half_length) & (v > -0.3)
    rgb[lash] = np.float32([36, 28, 26])
    parts[inside & (u < 0)] = REGION_ID["eye_neg"]
    parts[inside & (u > 0)] = REGION_ID["eye_pos"]


def _albedo(p: IdentityParams, theta: np.ndarray, y: np.ndarray, hair: np.ndarray,
            skin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surface colour [n, N, 3] float32 (0..255) and region labels [n, N] uint8 on the table.

    skin [n, N] uint8: the skin subdivision of regions.skin_regions, painted over here.
    """
    rng = np.random.default_rng(p.texture_seed)
    n, big_n = len(y), len(theta)
    blotch = _smooth_noise(rng, (n, big_n), (max(n // 40, 4), 24))
    rgb = (1 + 0.04 * blotch)[..., None] * np.asarray(p.skin_rgb, np.float32)
    parts = skin.copy()
    # clothes below a collar line (lower in front)
    collar = -160 - 20 * np.clip(np.cos(theta), 0, None) ** 2
    low = slice(np.flatnonzero(y < collar.max())[0], None)
    below = y[low, None] < collar[None, :]
    weave = _smooth_noise(rng, below.shape, (max(below.shape[0] // 6, 4), big_n // 6))
    clothes = np.asarray(p.clothes_rgb, np.float32) * (1 + 0.05 * weave)[..., None]
    rgb[low][below] = clothes[below]
    parts[low][below] = REGION_ID["clothes"]
    # hair: strands run along y, so the noise is coarse in y and fine in theta
    strands = _smooth_noise(rng, (n, big_n), (max(n // 25, 4), big_n // 3))
    top = slice(0, np.flatnonzero(hair.max(axis=1) > 1e-3)[-1] + 1)  # rows with hair
    hair_rgb = (1 + 0.18 * strands[top])[..., None] * np.asarray(p.hair_rgb, np.float32)
    rgb[top] += (hair_rgb - rgb[top]) * hair[top, :, None]
    covered = hair > 0.5
    covered[low] &= ~below
    parts[covered] = REGION_ID["hair"]
    # the face: features painted in face coordinates, then hair put back on top
    rows, cols = _face_window(theta, y, 80, p.chin_y - 45, p.hairline_y + 5)
    canvas = _Canvas(rgb[rows, cols], parts[rows, cols], blotch[rows, cols],
                     theta[cols] * p.face_front, y[rows])
    keep = canvas.parts == REGION_ID["hair"]
    saved = canvas.rgb[keep]
    _paint_skin_tones(p, canvas)
    if p.beard > 0:
        _paint_beard(p, canvas)
    _paint_lips(p, canvas)
    _paint_brows(p, canvas)
    _paint_eyes(p, canvas)
    canvas.rgb[keep], canvas.parts[keep] = saved, REGION_ID["hair"]
    return rgb, parts
