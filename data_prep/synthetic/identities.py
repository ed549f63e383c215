"""Synthetic identities: the parameters of one person and how they are drawn from a seed.

Lengths in mm, colours RGB 0..255. `identity_for(seed, subject, session)` is the one mapping
from a seed to a person used by every renderer of this package.
"""
from __future__ import annotations

import dataclasses

import numpy as np


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
    # --- expression (not drawn by sample_identity, so every seeded identity keeps its looks)
    mouth_open: float = 0.0  # lip gap at the centre (mm); > 0 paints an inner mouth


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


def _seeded_rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(k) for k in keys]))


def identity_for(seed: int, subject: int, session: int = 1) -> IdentityParams:
    """The identity `generate` uses for (seed, subject, session); sessions > 1 are variants."""
    params = sample_identity(_seeded_rng(seed, subject))
    if session > 1:
        params = session_variant(params, _seeded_rng(seed, subject, session, 7919))
    return params
