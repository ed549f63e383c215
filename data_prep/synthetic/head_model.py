"""The tables of one identity at one pixel scale: surface radius, normals, albedo, part labels,
lit textures per Multi-PIE flash and the 3-D five landmarks."""
from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np

from data_prep import cameras as cams
from data_prep.synthetic.appearance import _albedo
from data_prep.synthetic.constants import NO_FLASH, PIXELS_PER_MM_AT_480, _SKULL_WIDEST_Y
from data_prep.synthetic.geometry import (_body_knots, _ear_relief, _face_relief, _face_window,
                                          _hair_mask, _head_knots, _profiles, _section_radius,
                                          _smooth_max)
from data_prep.synthetic.identities import IdentityParams
from data_prep.synthetic.regions import REGION_TO_PART, skin_regions


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
    normals [n, N, 3] (head frame), albedo [n, N, 3] float32, regions [n, N] uint8 (ids
    into regions.REGIONS), parts [n, N] uint8 (the coarse PARTS derived from them),
    neck_top [N] int (first row of each column below the head/neck seam).
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
        skin = skin_regions(p, self.theta, self.y, self.neck_top)
        self.albedo, self.regions = _albedo(p, self.theta, self.y, self.hair, skin)
        self.parts = REGION_TO_PART[self.regions]
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
        self.neck_top = b_start + _seam_rows(r[b_start:h_end], body[:h_end - b_start])
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

    def seam_y(self, theta):
        """Height (mm) of the head/neck seam at angles theta (rad, scalar or array), linear
        between columns: the top edge of the first neck row, where the labels change
        (data_prep.synthetic.regions)."""
        n = len(self.theta)
        ti = (np.asarray(theta, np.float64) + math.pi) / (2 * math.pi) * n
        t0 = np.floor(ti).astype(int)
        edge = self.y[self.neck_top] + 0.5 * self.dy
        a, b = edge[t0 % n], edge[(t0 + 1) % n]
        return a + (ti - t0) * (b - a)

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


def _seam_rows(head: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Per column of the overlap rows (head [m, N], body [m, N] radii, rows going down), the
    first row below the last one where the head surface is outside the body's: the neck."""
    above = head >= body
    last = above.shape[0] - 1 - np.argmax(above[::-1], axis=0)  # last True per column
    return np.where(above.any(axis=0), last + 1, 0)


@functools.lru_cache(maxsize=4)
def head_model(params: IdentityParams, pixels_per_mm: float) -> HeadModel:
    """The (cached) tables of `params` at `pixels_per_mm`."""
    return HeadModel(params, pixels_per_mm)


def pixels_per_mm_for(image_size: Sequence[int]) -> float:
    """Nominal scale for an image of (width, height): 0.9 px/mm at 640x480, proportional."""
    w, h = image_size
    return PIXELS_PER_MM_AT_480 * min(h / 480.0, w / 640.0)
