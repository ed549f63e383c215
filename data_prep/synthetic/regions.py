"""Fine part labels of the synthetic head ("regions"), how they are laid out on the skin, and
their remaps: to the coarse PARTS of `render_view(..., return_parts=True)`, to the Helen
11-label parsing set (Smith et al. 2013; fsrnet spec 5) and to the 3-class global set.

Every texel of a head's (theta, y) table carries one region id. Skin is split by geometry:
  * face_skin: |theta| <= THETA_FACE_DEG (the face line just in front of the ears) and above
    the head/neck seam (where the head's own radius drops below the body's, computed by
    HeadModel); the painted features (brows, eyes, lips) and the nose sit inside it;
  * neck: below that seam, all around (the seam is the jaw line in front, the nape behind);
  * ear: inside the ear shell of geometry._ear_relief (normalised radius < 1);
  * head_skin: the rest of the head's skin (behind the face line: around and behind the
    ears, a bald scalp behind the face line, the back of the head under thin hair);
  * nose: inside nose_outline() on the face.
Hair, clothes and the features are painted over that base by appearance._albedo.

Remaps (decided here; Helen has no neck/ear/clothes label, "face skin (excluding ears and
neck)" in its README):
  Helen 11: 0 background <- background, head_skin, neck, ear, clothes; 1 face skin <-
    face_skin (a beard, painted over the skin, stays face skin); 2 left brow / 4 left eye <-
    brow_neg / eye_neg, 3 right brow / 5 right eye <- brow_pos / eye_pos ("left" = image-left:
    theta < 0 is image-left for every yaw the face renderer uses, |yaw| <= 30); 6 nose;
    7 upper lip; 8 inner mouth; 9 lower lip; 10 hair.
  Global 3 (background, face, hair): Helen 0 -> 0, Helen 1..9 -> 1, Helen 10 -> 2, so neck,
    ears and clothes are background, as in the Helen-derived global maps of the official
    FSRNet model (fsrnet spec 5: which 3 maps is not stated; bg/face/hair is recalled).
"""
from __future__ import annotations

import math

import numpy as np

from data_prep.synthetic.constants import PARTS
from data_prep.synthetic.geometry import _nose_tip_y
from data_prep.synthetic.identities import IdentityParams

REGIONS = ("background", "face_skin", "head_skin", "neck", "ear", "nose", "hair", "brow_neg",
           "brow_pos", "eye_neg", "eye_pos", "upper_lip", "lower_lip", "inner_mouth", "clothes")
REGION_ID = {name: i for i, name in enumerate(REGIONS)}

HELEN_LABELS = ("background", "face_skin", "left_brow", "right_brow", "left_eye", "right_eye",
                "nose", "upper_lip", "inner_mouth", "lower_lip", "hair")
HELEN_ID = {name: i for i, name in enumerate(HELEN_LABELS)}
GLOBAL_LABELS = ("background", "face", "hair")

_TO_PART = {"background": "background", "face_skin": "skin", "head_skin": "skin",
            "neck": "skin", "ear": "skin", "nose": "skin", "hair": "hair", "brow_neg": "brow",
            "brow_pos": "brow", "eye_neg": "eye_neg", "eye_pos": "eye_pos",
            "upper_lip": "lips", "lower_lip": "lips", "inner_mouth": "lips",
            "clothes": "clothes"}
_TO_HELEN = {"background": "background", "face_skin": "face_skin", "head_skin": "background",
             "neck": "background", "ear": "background", "nose": "nose", "hair": "hair",
             "brow_neg": "left_brow", "brow_pos": "right_brow", "eye_neg": "left_eye",
             "eye_pos": "right_eye", "upper_lip": "upper_lip", "lower_lip": "lower_lip",
             "inner_mouth": "inner_mouth", "clothes": "background"}
# Lookup tables indexed by region id (uint8 arrays so `TABLE[regions]` keeps the dtype).
REGION_TO_PART = np.array([PARTS.index(_TO_PART[r]) for r in REGIONS], np.uint8)
REGION_TO_HELEN = np.array([HELEN_ID[_TO_HELEN[r]] for r in REGIONS], np.uint8)
HELEN_TO_GLOBAL = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2], np.uint8)
IS_SKIN_REGION = REGION_TO_PART == PARTS.index("skin")  # [len(REGIONS)] bool

# The face line: the face skin ends this far round the head, just in front of the ear shell
# (geometry._ear_relief: centre 96 deg, half-width 0.16 rad = 9.2 deg, so its edge is at 86.8).
THETA_FACE_DEG = 84.0
# Nose region (face coordinates, mm): from NOSE_TOP_Y (between the eyes, below the nasion
# dip at 9 mm) down to NOSE_BASE_DROP below the tip (the relief's base sigmoid at tip - 3.5
# has faded by then); half-width NOSE_BRIDGE_HALF_WIDTH at the top, the alae's at the tip.
NOSE_TOP_Y = 5.0
NOSE_BASE_DROP = 6.5
NOSE_BRIDGE_HALF_WIDTH = 6.0


def to_helen(regions: np.ndarray) -> np.ndarray:
    """Region ids [...] uint8 -> Helen 11-label ids [...] uint8 (see the module docstring)."""
    return REGION_TO_HELEN[np.asarray(regions)]


def helen_to_global(labels: np.ndarray) -> np.ndarray:
    """Helen 11-label ids [...] -> global 3-class ids [...] uint8 (0 bg, 1 face, 2 hair)."""
    labels = np.asarray(labels)
    if labels.size and int(labels.max()) >= len(HELEN_LABELS):
        raise ValueError(f"label {int(labels.max())} is not a Helen label (0..10)")
    return HELEN_TO_GLOBAL[labels]


def nose_half_width(p: IdentityParams, v: np.ndarray) -> np.ndarray:
    """Half-width (mm along the face) of the nose region at heights v [...]; 0 outside it.

    Narrow bridge at the top widening (power 1.5, like the relief's dorsum) to the alae at the
    tip (nose_half_width + 1 mm, where the relief's alae Gaussians end); below the tip a
    rounded base (square-root taper over the last 3 mm) that closes NOSE_BASE_DROP under it.
    """
    v = np.asarray(v, np.float64)
    tip = _nose_tip_y(p)
    bottom = tip - NOSE_BASE_DROP
    frac = np.clip((NOSE_TOP_Y - v) / (NOSE_TOP_Y - tip), 0, 1)
    width = NOSE_BRIDGE_HALF_WIDTH + (p.nose_half_width + 1 - NOSE_BRIDGE_HALF_WIDTH) * frac ** 1.5
    width = width * np.sqrt(np.clip((v - bottom) / 3.0, 0, 1))
    return np.where((v <= NOSE_TOP_Y) & (v >= bottom), width, 0.0)


def _ear_shell(theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True inside the ear shell of geometry._ear_relief (same centre and radii)."""
    dt = (np.abs(theta) - math.radians(96)) / 0.16
    dv = (y + 14) / 30
    return dt ** 2 + dv ** 2 < 1


def skin_regions(p: IdentityParams, theta: np.ndarray, y: np.ndarray,
                 neck_top: np.ndarray) -> np.ndarray:
    """The skin subdivision [n, N] uint8 (face_skin, head_skin, neck, ear, nose) of the table
    with angles theta [N] and heights y [n] (descending); neck_top [N] int: the first row of
    each column that is neck (HeadModel's head/body seam)."""
    rows = np.arange(len(y))[:, None]
    out = np.full((len(y), len(theta)), REGION_ID["head_skin"], np.uint8)
    front = np.abs(theta) <= math.radians(THETA_FACE_DEG)
    out[:, front] = REGION_ID["face_skin"]
    out[rows >= neck_top[None, :]] = REGION_ID["neck"]
    ear_cols = np.flatnonzero(np.abs(np.abs(theta) - math.radians(96)) < 0.5)
    ear_rows = np.flatnonzero((y > -70) & (y < 40))
    block = out[np.ix_(ear_rows, ear_cols)]
    block[_ear_shell(theta[ear_cols][None, :], y[ear_rows][:, None])] = REGION_ID["ear"]
    out[np.ix_(ear_rows, ear_cols)] = block
    # the nose: a face-coordinate outline on the face skin
    tip = _nose_tip_y(p)
    nose_rows = np.flatnonzero((y <= NOSE_TOP_Y) & (y >= tip - NOSE_BASE_DROP))
    half = nose_half_width(p, y[nose_rows])[:, None]
    u = theta[None, :] * p.face_front
    block = out[nose_rows]
    block[(np.abs(u) < half) & (block == REGION_ID["face_skin"])] = REGION_ID["nose"]
    out[nose_rows] = block
    return out
