"""Face records for FSRNet (issue 12 part 4; fsrnet spec 13): 128x128 HR face crops with 68
projected landmarks and a Helen 11-label parsing map, for frontal and near-frontal views.

One view = one draw of FaceView from (seed, identity, view index): yaw within +-MAX_YAW_DEG,
a small roll, a light from the camera's side of the head, a background, and a crop of varied
tightness and in-plane offset (FSRNet claims robustness to unaligned faces, fsrnet spec 13).
The crop is a square of side `tightness` x the larger extent of the 68 landmarks (after roll)
and its centre is moved off the landmarks' box centre by up to OFFSET_FRACTION of the slack,
so every landmark stays inside: tight ~1.05 looks like the Helen crops, ~2 like CelebA's
(fsrnet spec 8.1, 8.2).

Rendering is SUPERSAMPLE x finer (512 px for 128) and block-averaged: colours by the mean,
labels by a majority vote (ties go to the higher Helen label, so a thin part beats the skin
around it). Landmarks: 0-based pixel-centre coordinates of the final crop (pixel (r, c) has
its centre at x = c, y = r), projected from the model, never detected. Shading is the
Lambertian + room-light model of HeadModel.lit_texture, evaluated per visible texel for a key
light of random direction in the camera frame. Like the Multi-PIE renderer the camera is
orthographic and has no pitch (each image row is one horizontal slice of the head).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterator

import cv2
import numpy as np

from data_prep.synthetic.head_model import HeadModel, head_model
from data_prep.synthetic.identities import IdentityParams, _seeded_rng, identity_for
from data_prep.synthetic.landmarks68 import landmarks_68_3d
from data_prep.synthetic.regions import HELEN_LABELS, REGION_TO_HELEN, helen_to_global
from data_prep.synthetic.rendering import _rasterise

FACE_SIZE = 128  # HR size of FSRNet (fsrnet spec 1)
SUPERSAMPLE = 4
# Texture sampling of the head tables: 1.4 px/mm (1024 angles, 0.36 mm rows) is ~3 texels per
# output pixel at the tightest crop (~0.85 px/mm at 128), and keeps a model at ~0.2 s.
MODEL_PIXELS_PER_MM = 1.4
MAX_YAW_DEG = 30.0  # "frontal and near-frontal" (issue 12 part 4)
MAX_ROLL_DEG = 8.0
TIGHTNESS = (1.05, 2.2)  # crop side / landmark extent
OFFSET_FRACTION = 0.75  # of the slack on each side
MOUTH_OPEN_PROBABILITY = 0.6
MOUTH_OPEN_MM = (1.5, 6.0)  # lip gap at the centre when open
ROOM_LIGHT_PROBABILITY = 0.1  # views lit by the room light alone
_VIEW_TAG, _MOUTH_TAG = 60013, 60017  # rng stream keys, distinct from layout's


@dataclasses.dataclass(frozen=True)
class FaceView:
    """Everything that varies between the views of one identity (angles in degrees).

    offset: (fx, fy) in [-1, 1], the crop centre's shift as a fraction of the slack;
    light: direction (azimuth right of the camera axis, elevation above it) and strength of
    the key light in the camera frame (strength 0 = room light only); exposure multiplies
    the shading; background_top / background_bottom: RGB of the vertical ramp behind the head.
    """

    yaw: float
    roll: float
    tightness: float
    offset: tuple
    light_azimuth: float
    light_elevation: float
    light_strength: float
    exposure: float
    background_top: tuple
    background_bottom: tuple


@dataclasses.dataclass(frozen=True)
class FaceRecord:
    """One face record: image [S, S, 3] uint8 RGB, landmarks [68, 2] float32 (x, y) 0-based
    pixel centres, labels [S, S] uint8 Helen 11-label ids, and where it came from."""

    image: np.ndarray
    landmarks: np.ndarray
    labels: np.ndarray
    identity: int
    view: int
    yaw: float
    roll: float

    @property
    def global_labels(self) -> np.ndarray:
        """[S, S] uint8: 0 background, 1 face, 2 hair (regions.HELEN_TO_GLOBAL)."""
        return helen_to_global(self.labels)


def face_identity(seed: int, identity: int) -> IdentityParams:
    """The person of `identity_for(seed, identity)` with a mouth opening of its own draw."""
    rng = _seeded_rng(seed, identity, _MOUTH_TAG)
    opening = rng.uniform(*MOUTH_OPEN_MM) if rng.random() < MOUTH_OPEN_PROBABILITY else 0.0
    return dataclasses.replace(identity_for(seed, identity), mouth_open=float(opening))


def face_view(seed: int, identity: int, view: int) -> FaceView:
    """The view `view` of `identity`: a deterministic draw from (seed, identity, view)."""
    rng = _seeded_rng(seed, identity, view, _VIEW_TAG)
    u = rng.uniform
    room_only = rng.random() < ROOM_LIGHT_PROBABILITY
    grey = u(35, 225)
    top = np.clip(grey + u(-25, 25, 3), 0, 255)
    bottom = np.clip(top * u(0.8, 1.05), 0, 255)
    return FaceView(
        yaw=float(u(-MAX_YAW_DEG, MAX_YAW_DEG)), roll=float(u(-MAX_ROLL_DEG, MAX_ROLL_DEG)),
        tightness=float(u(*TIGHTNESS)),
        offset=(float(u(-1, 1)) * OFFSET_FRACTION, float(u(-1, 1)) * OFFSET_FRACTION),
        light_azimuth=float(u(-80, 80)), light_elevation=float(u(-10, 45)),
        light_strength=0.0 if room_only else float(u(0.5, 0.95)), exposure=float(u(0.85, 1.2)),
        background_top=tuple(float(c) for c in top),
        background_bottom=tuple(float(c) for c in bottom))


def _check_view(view: FaceView, size: int, supersample: int) -> None:
    if not view.tightness >= 1.0:
        raise ValueError(f"tightness {view.tightness}: must be >= 1 (crop side / landmark "
                         f"extent), or landmarks fall outside the crop")
    if not all(abs(f) <= 1.0 for f in view.offset):
        raise ValueError(f"offset {view.offset}: each fraction must be within [-1, 1]")
    if size < 16 or supersample < 1:
        raise ValueError(f"size {size} / supersample {supersample}: need size >= 16, "
                         f"supersample >= 1")
    if abs(view.yaw) > 90:
        raise ValueError(f"yaw {view.yaw}: the face renderer supports |yaw| <= 90 degrees")


def _crop_geometry(points: np.ndarray, view: FaceView, size: int) -> tuple:
    """Camera-plane (mm, y down) landmark points [68, 2] -> (roll matrix [2, 3] about their
    mean, crop corner [2] and side S in the rolled plane): the crop of module docstring."""
    pivot = points.mean(axis=0)
    roll = cv2.getRotationMatrix2D((float(pivot[0]), float(pivot[1])), view.roll, 1.0)
    rolled = points @ roll[:, :2].T + roll[:, 2]
    lo, hi = rolled.min(axis=0), rolled.max(axis=0)
    extent = hi - lo
    side = view.tightness * float(extent.max())
    margin = 1.5 * side / size  # keep the outermost points 1.5 px inside
    slack = np.maximum((side - extent) / 2 - margin, 0.0)
    centre = (lo + hi) / 2 + np.asarray(view.offset) * slack
    return roll, centre - side / 2, side


def _shade(model: HeadModel, texel: np.ndarray, view: FaceView) -> np.ndarray:
    """Colours [m, 3] float32 of the texels: albedo x (room light + key light), Lambertian,
    the room light term as HeadModel.lit_texture's."""
    n = model.normals.reshape(-1, 3)[texel]
    shade = 0.27 + 0.08 * n[:, 1] + 0.05 * n[:, 2]
    if view.light_strength > 0:
        az, el, yaw = (math.radians(a) for a in (view.light_azimuth, view.light_elevation,
                                                  view.yaw))
        lx, ly, lz = math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)
        # camera frame -> head frame (the camera sits at `yaw` round the head)
        light = np.array([lx * math.cos(yaw) - lz * math.sin(yaw), ly,
                          lx * math.sin(yaw) + lz * math.cos(yaw)], np.float32)
        shade = shade + np.float32(view.light_strength) * np.maximum(n @ light, 0)
    colour = model.albedo.reshape(-1, 3)[texel] * (shade * np.float32(view.exposure))[:, None]
    return colour


def _background(view: FaceView, width: int, height: int) -> np.ndarray:
    """[height, width, 3] float32: the view's vertical colour ramp."""
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.asarray(view.background_top, np.float32)
    bottom = np.asarray(view.background_bottom, np.float32)
    return np.broadcast_to(top + (bottom - top) * ramp, (height, width, 3)).copy()


def _majority(labels: np.ndarray, factor: int, num_labels: int) -> np.ndarray:
    """[H*f, W*f] uint8 -> [H, W] uint8: the most frequent label of each f x f block (ties
    go to the higher label)."""
    h, w = labels.shape[0] // factor, labels.shape[1] // factor
    block = (np.arange(h)[:, None] * w + np.arange(w)[None, :]).repeat(factor, 0).repeat(factor, 1)
    counts = np.bincount((block * num_labels + labels).ravel(), minlength=h * w * num_labels)
    counts = counts.reshape(h * w, num_labels)
    return (num_labels - 1 - np.argmax(counts[:, ::-1], axis=1)).astype(np.uint8).reshape(h, w)


def _canvas_frame(roll: np.ndarray, corner: np.ndarray, side: float, scale: float) -> tuple:
    """The unrolled camera-plane canvas that covers the rolled crop square (corner, side mm)
    at `scale` px/mm: (origin [2] mm of canvas pixel (0, 0), width, height, warp [2, 3]
    mapping canvas pixels to output pixels of the same scale)."""
    inverse = cv2.invertAffineTransform(roll)
    square = corner + side * np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float64)
    box = square @ inverse[:, :2].T + inverse[:, 2]
    origin = box.min(axis=0) - 2.0 / scale

    def translation(o):  # canvas pixel p is the mm point o + p / scale
        return scale * (roll[:, :2] @ o + roll[:, 2] - corner) - 0.5

    # move the canvas grid by under a pixel so the translation is whole pixels: with no roll,
    # output pixel centres then fall on canvas pixel centres (no half-pixel bias of the
    # nearest-neighbour label warp)
    frac = translation(origin) - np.floor(translation(origin))
    origin = origin - inverse[:, :2] @ frac / scale
    width, height = (int(v) for v in np.ceil((box.max(axis=0) - origin) * scale) + 3)
    warp = np.concatenate([roll[:, :2], translation(origin)[:, None]], axis=1)
    return origin, width, height, warp


def render_face(params: IdentityParams, view: FaceView, size: int = FACE_SIZE,
                supersample: int = SUPERSAMPLE, model: HeadModel | None = None):
    """Renders one face crop of `params` seen as `view`.

    Returns (image [size, size, 3] uint8 RGB, landmarks [68, 2] float32 iBUG order in 0-based
    pixel-centre coordinates of the crop, labels [size, size] uint8 Helen 11-label ids).
    model: the identity's HeadModel (default: the cached one at MODEL_PIXELS_PER_MM).
    """
    _check_view(view, size, supersample)
    model = model or head_model(params, MODEL_PIXELS_PER_MM)
    pts3 = landmarks_68_3d(model)
    psi = math.radians(view.yaw)
    # camera plane, mm: X to image-right, Y down; origin on the head axis at the eye line
    cam = np.stack([pts3[:, 0] * math.cos(psi) + pts3[:, 2] * math.sin(psi), -pts3[:, 1]], 1)
    roll, corner, side = _crop_geometry(cam, view, size)
    landmarks = (cam @ roll[:, :2].T + roll[:, 2] - corner) * (size / side) - 0.5
    # render the unrolled canvas supersampled, then roll and crop it in one warp
    hi = size * supersample
    scale = hi / side  # px/mm
    origin, width, height, warp = _canvas_frame(roll, corner, side, scale)
    pix, texel = _rasterise(model, view.yaw, -origin[0] * scale, -origin[1] * scale, scale,
                            width, height)
    canvas = _background(view, width, height)
    canvas.reshape(-1, 3)[pix] = _shade(model, texel, view)
    parts = np.zeros(width * height, np.uint8)
    parts[pix] = REGION_TO_HELEN[model.regions.reshape(-1)[texel]]
    image = cv2.warpAffine(canvas, warp, (hi, hi), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    labels = cv2.warpAffine(parts.reshape(height, width), warp, (hi, hi),
                            flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=0)
    # an integer-factor INTER_AREA resize is the mean of each block
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    labels = _majority(labels, supersample, len(HELEN_LABELS))
    return image, landmarks.astype(np.float32), labels


def face_record(seed: int, identity: int, view: int, size: int = FACE_SIZE) -> FaceRecord:
    """The record of (seed, identity, view): same arguments -> the same bytes."""
    params = face_identity(seed, identity)
    v = face_view(seed, identity, view)
    image, landmarks, labels = render_face(params, v, size)
    return FaceRecord(image, landmarks, labels, identity, view, v.yaw, v.roll)


def face_records(seed: int, first: int, stop: int, views_per_identity: int,
                 size: int = FACE_SIZE) -> Iterator[FaceRecord]:
    """Yields the records of identities [first, stop), views 0..views_per_identity-1 each,
    identity-major. Each identity's head tables are built once and dropped afterwards;
    identities are independent, so a job can shard the range across processes."""
    if not 0 <= first < stop:
        raise ValueError(f"identities [{first}, {stop}): need 0 <= first < stop")
    if views_per_identity < 1:
        raise ValueError(f"views_per_identity={views_per_identity}: must be >= 1")
    for identity in range(first, stop):
        params = face_identity(seed, identity)
        model = HeadModel(params, MODEL_PIXELS_PER_MM)
        for view in range(views_per_identity):
            v = face_view(seed, identity, view)
            image, landmarks, labels = render_face(params, v, size, model=model)
            yield FaceRecord(image, landmarks, labels, identity, view, v.yaw, v.roll)
