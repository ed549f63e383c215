"""Parsing label maps drawn from five facial points, for faces without label maps (the folder
source of data_prep/build_face_records.py). numpy only (the records job's workers never
import TensorFlow).

The five points are MTCNN's, in the order of tpgan spec 1.2: left eye, right eye, nose tip,
left mouth corner, right mouth corner ("left" = image-left), 0-based pixel centres. The map
holds Helen-11 ids (tpgan_tf/models/fsrnet/prior_sets.HELEN11), like every face record, but
only the parts five points can place; hair (10) and the inner mouth (8) are never drawn.

The rule (our design, no source draws maps from five points; proportions of an average adult
face, in units of the face's own size so it scales and rotates with the face):
    E = the eyes' midpoint, d = the eye distance, u = the unit vector from the left to the
    right eye, v = u turned a quarter towards the chin ((u_x, u_y) -> (-u_y, u_x): "down"
    for an upright face, y pointing down), M = the mouth corners' midpoint, h = (M - E) . v
    the eye-to-mouth height, w = the unit vector from the left to the right mouth corner,
    m = half the mouth-corner distance.
Parts, painted in this order (a later part wins where they overlap); an ellipse "centre c,
semi-axes a along e, b across" holds the pixel centres p with
((p - c) . e / a)^2 + ((p - c) . e_perp / b)^2 <= 1, e_perp = e turned as v from u:
    1 face skin     ellipse, centre E + SKIN_CENTRE h v, semi-axes SKIN_HALF_WIDTH d along u
                    and SKIN_HALF_HEIGHT h along v (forehead to chin, cheek to cheek)
    2 / 3 brows     ellipses above each eye: centre eye - BROW_RISE d v, semi-axes
                    BROW_HALF_WIDTH d along u, BROW_HALF_HEIGHT d across
    6 nose          the quadrilateral bridge-left, bridge-right, tip-right, tip-left with
                    bridge = E + NOSE_TOP (n - E) +- NOSE_BRIDGE_HALF d u and
                    tip = n + NOSE_BASE_DROP d v +- NOSE_TIP_HALF d u (n the nose tip; it
                    follows the tip sideways when the face turns)
    4 / 5 eyes      ellipses centred on each eye point, semi-axes EYE_HALF_WIDTH d along u,
                    EYE_HALF_HEIGHT d across
    7 / 9 lips      the ellipse centre M, semi-axes m along w and LIP_HALF_HEIGHT m across:
                    upper lip where (p - M) . w_perp < 0 (above the corner line), lower lip
                    elsewhere
"Left" / "right" brow and eye are image-left / image-right, as the synthetic faces' labels
(data_prep/synthetic/regions.py). Points that do not make a face (the eyes on one spot, the
mouth not below the eye line) raise ValueError.
"""
from __future__ import annotations

import numpy as np

SKIN_CENTRE = 0.5  # x h below the eyes: halfway to the mouth
SKIN_HALF_WIDTH = 1.1  # x d: the face is about 2.2 eye distances wide at the cheeks
SKIN_HALF_HEIGHT = 1.4  # x h: 0.9 h above the eyes (forehead), 0.9 h below the mouth (chin)
BROW_RISE = 0.3  # x d above each eye
BROW_HALF_WIDTH, BROW_HALF_HEIGHT = 0.3, 0.07  # x d
NOSE_TOP = 0.25  # of the way from the eyes' midpoint to the nose tip
NOSE_BRIDGE_HALF, NOSE_TIP_HALF, NOSE_BASE_DROP = 0.1, 0.25, 0.1  # x d
EYE_HALF_WIDTH, EYE_HALF_HEIGHT = 0.22, 0.09  # x d
LIP_HALF_HEIGHT = 0.4  # x m (half the mouth width)

BACKGROUND, SKIN, LEFT_BROW, RIGHT_BROW, LEFT_EYE, RIGHT_EYE, NOSE, UPPER_LIP, LOWER_LIP = (
    0, 1, 2, 3, 4, 5, 6, 7, 9)  # Helen-11 ids


def _turn(e: np.ndarray) -> np.ndarray:
    """e turned a quarter: (x, y) -> (-y, x) (towards +y for e = +x: down in an image)."""
    return np.array([-e[1], e[0]])


def _grid(size: int) -> np.ndarray:
    """[size, size, 2] pixel centres (x, y) = (column, row)."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    return np.stack([cols, rows], axis=-1)


def ellipse_mask(grid: np.ndarray, centre, axis, a: float, b: float) -> np.ndarray:
    """bool [H, W]: the pixel centres of grid [H, W, 2] inside the ellipse of centre [2],
    semi-axis a along the unit vector axis [2] and b across it (boundary included)."""
    e = np.asarray(axis, np.float64)
    q = grid - np.asarray(centre, np.float64)
    along, across = q @ e, q @ _turn(e)
    return (along / a) ** 2 + (across / b) ** 2 <= 1.0


def convex_mask(grid: np.ndarray, corners) -> np.ndarray:
    """bool [H, W]: the pixel centres inside the convex polygon corners [K, 2] (either
    winding; boundary included)."""
    c = np.asarray(corners, np.float64)
    edges = np.roll(c, -1, axis=0) - c
    q = grid[..., None, :] - c  # [H, W, K, 2]
    cross = edges[:, 0] * q[..., 1] - edges[:, 1] * q[..., 0]  # [H, W, K]
    return np.all(cross >= 0, axis=-1) | np.all(cross <= 0, axis=-1)


def face_frame(points) -> dict:
    """The rule's quantities (module doc) of five points [5, 2]: E, d, u, v, M, h, w, m, n.
    ValueError when the points do not make a face."""
    p = np.asarray(points, np.float64)
    if p.shape != (5, 2) or not np.all(np.isfinite(p)):
        raise ValueError(f"expected five finite (x, y) points, got shape {p.shape}")
    eye_vec, mouth_vec = p[1] - p[0], p[4] - p[3]
    d, mouth = float(np.hypot(*eye_vec)), float(np.hypot(*mouth_vec))
    if d < 1.0 or mouth < 1.0:
        raise ValueError(f"the eyes ({d:.2f} px apart) or mouth corners ({mouth:.2f} px apart) "
                         "are on one spot")
    u = eye_vec / d
    v = _turn(u)
    e_mid, m_mid = (p[0] + p[1]) / 2.0, (p[3] + p[4]) / 2.0
    h = float((m_mid - e_mid) @ v)
    if h < 1.0:
        raise ValueError(f"the mouth is not below the eye line ({h:.2f} px)")
    return {"E": e_mid, "d": d, "u": u, "v": v, "M": m_mid, "h": h, "w": mouth_vec / mouth,
            "m": mouth / 2.0, "n": p[2], "eyes": (p[0], p[1])}


def draw_parsing(points, size: int) -> np.ndarray:
    """uint8 [size, size] Helen-11 ids drawn from five points [5, 2] in the map's pixels
    (module doc). ValueError when the points do not make a face."""
    f = face_frame(points)
    d, u, v, h = f["d"], f["u"], f["v"], f["h"]
    grid = _grid(size)
    labels = np.zeros((size, size), np.uint8)
    labels[ellipse_mask(grid, f["E"] + SKIN_CENTRE * h * v, u, SKIN_HALF_WIDTH * d,
                        SKIN_HALF_HEIGHT * h)] = SKIN
    for eye, brow_id in zip(f["eyes"], (LEFT_BROW, RIGHT_BROW)):
        labels[ellipse_mask(grid, eye - BROW_RISE * d * v, u, BROW_HALF_WIDTH * d,
                            BROW_HALF_HEIGHT * d)] = brow_id
    bridge = f["E"] + NOSE_TOP * (f["n"] - f["E"])
    tip = f["n"] + NOSE_BASE_DROP * d * v
    labels[convex_mask(grid, [bridge - NOSE_BRIDGE_HALF * d * u,
                              bridge + NOSE_BRIDGE_HALF * d * u,
                              tip + NOSE_TIP_HALF * d * u, tip - NOSE_TIP_HALF * d * u])] = NOSE
    for eye, eye_id in zip(f["eyes"], (LEFT_EYE, RIGHT_EYE)):
        labels[ellipse_mask(grid, eye, u, EYE_HALF_WIDTH * d, EYE_HALF_HEIGHT * d)] = eye_id
    w, m = f["w"], f["m"]
    lips = ellipse_mask(grid, f["M"], w, m, LIP_HALF_HEIGHT * m)
    upper = (grid - f["M"]) @ _turn(w) < 0
    labels[lips & upper] = UPPER_LIP
    labels[lips & ~upper] = LOWER_LIP
    return labels
