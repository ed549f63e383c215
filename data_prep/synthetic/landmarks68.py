"""68 landmarks in the iBUG / 300-W order, defined on the synthetic head model (3-D).

Every point is a surface point (theta, y) of the head's radius table, chosen from the same
parametric curves the texture's part labels are painted from (appearance's outline functions,
regions' face line and nose outline, HeadModel's head/neck seam), so points and labels agree
by construction. "Left" means image-left at yaw 0, i.e. theta < 0 (the subject's right side,
which is where iBUG's point 0 and its first brow and eye are). Projected, a point keeps its
index whatever the yaw (3-D landmarks: a self-occluded point still gets its projection).

Groups (face coordinates: u = theta * face_front mm along the face, v = y mm above the eye
line; e = eye_half_distance, du = |u| - e):
  jaw 0-16      the face outline: down the face line |theta| = THETA_FACE_DEG from
                JAW_TOP_Y, along the head/neck seam under the jaw and chin (HeadModel.seam_y),
                and up the other face line; 17 points equally spaced by arc length of the
                frontal (yaw 0) projection, so 8 is the chin on the midline. Approximation:
                iBUG's 0/16 sit about level with the eyes; here they start 14 mm below the
                eye line, under the synthetic sideburns, where the face skin meets the ear.
  brows 17-26   on each brow's centre line v = brow_arch(du) at du = 18, 10.5, 3, -4.5, -12
                (outer end -> inner end for 17-21, mirrored inner -> outer for 22-26).
                Approximation: iBUG traces the brow's upper edge; the centre line keeps the
                points inside the (2.5-5 mm thick) brow label.
  nose 27-35    27-30 on the midline from v = NOSE_TOP_Y - 1 (between the eyes) to the tip
                (the most protruding midline point, as HeadModel.landmarks_3d), 28/29 at
                thirds; 31-35 along the base at u = -0.8, -0.45, 0, 0.45, 0.8 x the nose
                half-width, 4.5 / 5.5 / 6 mm below the parametric tip (33 = subnasale).
  eyes 36-47    on the painted eye opening (v = -0.3 +- eyelid_opening(du)): 36 outer corner
                (du = +half-length), 37/38 upper lid at du = +-1/3 half-length, 39 inner
                corner, 40/41 lower lid; 42-47 the same on the right eye from its inner corner.
  lips 48-59    outer edges: 48/54 corners (|u| = mouth_half_width, v = mouth line), 49-53
                upper edge at u/mouth_half_width = -0.55, -0.22, 0, 0.22, 0.55 (50/52 near the
                peaks of the Cupid's bow), 55-59 lower edge at 0.6, 0.3, 0, -0.3, -0.6.
  lips 60-67    inner edges (appearance.lip_gap): 60/64 inner corners at |u| =
                MOUTH_INNER_FRACTION x mouth_half_width on the mouth line, 61-63 upper and
                65-67 lower inner edge at u/inner = -0.45, 0, 0.45 (65-67 right to left).
                A closed mouth has both inner edges on the mouth line (they coincide).
"""
from __future__ import annotations

import math

import numpy as np

from data_prep.synthetic.appearance import (MOUTH_INNER_FRACTION, brow_arch, eyelid_opening,
                                            lip_gap, lower_lip_depth, upper_lip_height)
from data_prep.synthetic.geometry import _nose_tip_y
from data_prep.synthetic.head_model import HeadModel
from data_prep.synthetic.regions import NOSE_TOP_Y, THETA_FACE_DEG

NUM_LANDMARKS = 68
GROUPS = {"jaw": range(0, 17), "left_brow": range(17, 22), "right_brow": range(22, 27),
          "nose_bridge": range(27, 31), "nose_base": range(31, 36), "left_eye": range(36, 42),
          "right_eye": range(42, 48), "outer_lips": range(48, 60), "inner_lips": range(60, 68)}
# Mirroring a face left-right maps point i to MIRROR_68[i] (iBUG's symmetric pairs).
MIRROR_68 = np.array(list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30]
                     + [35, 34, 33, 32, 31] + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]
                     + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
                     + [64, 63, 62, 61, 60, 67, 66, 65])
JAW_TOP_Y = -14.0  # mm: where the jaw outline starts on the face line (see the docstring)


def surface_points(model: HeadModel, theta, y) -> np.ndarray:
    """Head-frame 3-D points [k, 3] of the surface at angles theta [k] (rad) and heights y
    [k] (mm), bilinear in the radius table (vectorised HeadModel.surface_point)."""
    theta, y = np.asarray(theta, np.float64), np.asarray(y, np.float64)
    n = len(model.theta)
    ti = (theta + math.pi) / (2 * math.pi) * n
    yi = (model.y[0] - y) / model.dy
    t0, y0 = np.floor(ti).astype(int), np.floor(yi).astype(int)
    ft, fy = ti - t0, yi - y0
    c0, c1 = t0 % n, (t0 + 1) % n
    rad = model.radius.astype(np.float64)
    r = (1 - fy) * ((1 - ft) * rad[y0, c0] + ft * rad[y0, c1]) + fy * (
        (1 - ft) * rad[y0 + 1, c0] + ft * rad[y0 + 1, c1])
    return np.stack([r * np.sin(theta), y, r * np.cos(theta)], axis=1)


def _jaw(model: HeadModel) -> tuple[np.ndarray, np.ndarray]:
    """(theta [17], y [17]) of the jaw points: the face outline sampled by frontal arc length."""
    limit = math.radians(THETA_FACE_DEG)
    cols = model.theta[np.abs(model.theta) < limit]
    seam = model.seam_y(cols)
    side_lo, side_hi = (float(v) for v in model.seam_y([-limit, limit]))
    down = np.linspace(JAW_TOP_Y, min(side_lo, JAW_TOP_Y), 64)
    up = np.linspace(min(side_hi, JAW_TOP_Y), JAW_TOP_Y, 64)
    theta = np.concatenate([np.full(64, -limit), [-limit], cols, [limit], np.full(64, limit)])
    y = np.concatenate([down, [side_lo], seam, [side_hi], up])
    pts = surface_points(model, theta, y)
    step = np.hypot(np.diff(pts[:, 0]), np.diff(pts[:, 1]))  # frontal projection: (x, y)
    arc = np.concatenate([[0.0], np.cumsum(step)])
    want = np.linspace(0.0, arc[-1], 17)
    return np.interp(want, arc, theta), np.interp(want, arc, y)


def _nose_tip_height(model: HeadModel) -> float:
    return float(model.landmarks_3d[2, 1])


def face_coordinates(model: HeadModel) -> tuple[np.ndarray, np.ndarray]:
    """(theta [68] rad, y [68] mm): where on the surface each iBUG point is (module docstring)."""
    p = model.params
    ff, e, hl = p.face_front, p.eye_half_distance, p.eye_half_length
    theta, y = np.zeros(NUM_LANDMARKS), np.zeros(NUM_LANDMARKS)
    theta[0:17], y[0:17] = _jaw(model)
    brow_du = np.array([18.0, 10.5, 3.0, -4.5, -12.0])
    theta[17:22], y[17:22] = -(e + brow_du) / ff, brow_arch(p, brow_du)
    theta[22:27], y[22:27] = (e + brow_du[::-1]) / ff, brow_arch(p, brow_du[::-1])
    tip = _nose_tip_height(model)
    top = NOSE_TOP_Y - 1.0
    y[27:31] = top + (tip - top) * np.arange(4) / 3.0
    base = _nose_tip_y(p) - np.array([4.5, 5.5, 6.0, 5.5, 4.5])
    theta[31:36], y[31:36] = np.array([-0.8, -0.45, 0, 0.45, 0.8]) * p.nose_half_width / ff, base
    # eyes: du and the lid side (+1 upper, -1 lower, 0 corner) of 36..41 (left eye)
    du = np.array([1, 1 / 3, -1 / 3, -1, -1 / 3, 1 / 3]) * hl
    side = np.array([0, 1, 1, 0, -1, -1])
    lid = -0.3 + side * eyelid_opening(p, du)
    theta[36:42], y[36:42] = -(e + du) / ff, lid
    # right eye 42..47 starts at its inner corner: mirror of 39, 38, 37, 36, 41, 40
    order = np.array([3, 2, 1, 0, 5, 4])
    theta[42:48], y[42:48] = (e + du[order]) / ff, lid[order]
    mw, ym = p.mouth_half_width, p.mouth_y
    up = np.array([-0.55, -0.22, 0.0, 0.22, 0.55]) * mw
    lo = np.array([0.6, 0.3, 0.0, -0.3, -0.6]) * mw
    u_outer = np.concatenate([[-mw], up, [mw], lo])
    v_outer = np.concatenate([[ym], ym + upper_lip_height(p, up), [ym], ym - lower_lip_depth(p, lo)])
    inner = MOUTH_INNER_FRACTION * mw
    iu = np.array([-0.45, 0.0, 0.45]) * inner
    u_inner = np.concatenate([[-inner], iu, [inner], iu[::-1]])
    v_inner = np.concatenate([[ym], ym + lip_gap(p, iu), [ym], ym - lip_gap(p, iu[::-1])])
    theta[48:60], y[48:60] = u_outer / ff, v_outer
    theta[60:68], y[60:68] = u_inner / ff, v_inner
    return theta, y


def landmarks_68_3d(model: HeadModel) -> np.ndarray:
    """The 68 iBUG points [68, 3] (x, y, z) in the head frame, on the model's surface."""
    theta, y = face_coordinates(model)
    return surface_points(model, theta, y)


def landmarks5_from_68(points: np.ndarray) -> np.ndarray:
    """[68, 2] -> the 5 points of tpgan spec 1.2 [5, 2]: eye centres (mean of each eye's six
    points), nose tip (30), mouth corners (48, 54); left = image-left."""
    points = np.asarray(points)
    if points.shape[-2:] != (NUM_LANDMARKS, 2):
        raise ValueError(f"expected [68, 2] landmarks, got shape {points.shape}")
    return np.stack([points[36:42].mean(axis=0), points[42:48].mean(axis=0), points[30],
                     points[48], points[54]])
