"""Multi-PIE -> single-image records for DR-GAN (tpgan_tf/data/image_records.py).

Input, as for the pair job (data_prep/multipie_pairs.py), either
  * source "raw" (default): the raw layout `<root>/data/session0S/multiview/SSS/RR/CC_C/
    SSS_SS_RR_CCC_II.png` and a landmark CSV in raw-image coordinates; every image is aligned
    here with tpgan_tf.faces.alignment.align_face (tpgan spec 1.2, the same 128 crop as the
    pair records; DR-GAN's pipeline resizes it to 110 and crops 96, drgan spec 4.3);
  * source "aligned": the original TP-GAN code's flat `*_cropped.png` 128x128 crops with
    `.5pt` files (tpgan spec 1.3).
One record per image: the aligned PNG, its 5 landmarks, subject, session, recording, camera,
yaw, pose index and illumination. The DR-GAN protocol (drgan spec 5.1): neutral expression
(recording 01), every session [unverified], every illumination, the views within +-60 (9
poses; or +-90: 13); subjects 001-200 train, the rest test (`--test_subjects_from` replaces
the boundary, e.g. for the synthetic demo). A bad input (corrupt or empty image, missing or
out-of-range landmarks, unknown camera, wrong folder) is skipped and listed.
"""
from __future__ import annotations

import collections
import dataclasses

import cv2
import numpy as np

from data_prep import multipie
from data_prep.images import read_image
from tpgan_tf.data.shards import RecordsJob
from tpgan_tf.faces import alignment, landmarks
from tpgan_tf.faces.parts import IMAGE_SIZE

# drgan spec 5.1: the DR-GAN protocol uses TP-GAN's Setting 2 subject split (001-200 train).
PROTOCOL_SETTING = 2
POSE_SETS = (60, 90)  # max |yaw|: 9 or 13 views (drgan spec 2.2, 5.1)
YAW_STEP = 15  # degrees between neighbouring Multi-PIE views


def pose_index(yaw: int, max_yaw: int) -> int:
    """View index of a yaw in the pose set within +-max_yaw: (yaw + max_yaw) / 15 (0 = the
    most negative yaw). ValueError names the yaw when it is outside the set or off the grid.
    (Here, not in the TF schema module: the worker processes never import TensorFlow.)"""
    if abs(yaw) > max_yaw or (yaw + max_yaw) % YAW_STEP:
        raise ValueError(f"yaw {yaw} is not a view of the pose set within +-{max_yaw} "
                         f"(15-degree steps)")
    return (yaw + max_yaw) // YAW_STEP


@dataclasses.dataclass(frozen=True)
class ImageItem:
    """One image to process: its absolute path, its root-relative name and landmark source."""

    path: str
    rel: str
    camera: str  # folder form "05_0"
    points: tuple | None  # [5][2] raw (source raw) or .5pt integers (source aligned)
    aligned: bool
    fields: tuple  # (subject, session, recording, illumination, yaw, pose)


# ----------------------------------------------------------------------------- worker side

def _aligned_face(item: ImageItem) -> tuple[tuple | None, str | None]:
    """(aligned RGB crop [128, 128, 3], float landmarks [5, 2]) or (None, reason)."""
    if item.points is None:
        return None, "no landmarks for this image"
    image, reason = read_image(item.path)
    if image is None:
        return None, reason
    if item.aligned:
        if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            return None, f"aligned crop is {image.shape[1]}x{image.shape[0]}, expected 128x128"
        index_points = np.asarray(item.points, dtype=np.int64)
        problem = landmarks.check_landmarks(index_points, IMAGE_SIZE, IMAGE_SIZE)
        if problem:
            return None, f"landmarks: {problem}"
        return (image, landmarks.from_index_points(index_points)), None
    problem = landmarks.check_landmarks(item.points, image.shape[1], image.shape[0])
    if problem:
        return None, f"landmarks: {problem}"
    face = alignment.align_face(image, np.asarray(item.points, dtype=np.float64))
    return (face.image, face.landmarks), None


def process_image(item: ImageItem) -> tuple[dict | None, dict | None]:
    """ImageItem -> (record for image_records.make_example, None) or (None, skipped entry)."""
    face, reason = _aligned_face(item)
    if face is None:
        return None, {"path": item.rel, "reason": reason}
    crop, points = face
    ok, png = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    if not ok:
        return None, {"path": item.rel, "reason": "PNG encoding failed"}
    subject, session, recording, illumination, yaw, pose = item.fields
    return {"image/png": png.tobytes(), "image/landmarks": np.asarray(points, np.float32),
            "camera": item.camera, "path": item.rel, "subject": subject, "session": session,
            "recording": recording, "illumination": illumination, "yaw": yaw,
            "pose": pose}, None


def _to_example(record: dict) -> bytes:
    from tpgan_tf.data.image_records import make_example
    return make_example(record)


# Every image is its own group: shards are random mixes of subjects and poses, so that a
# shuffle buffer over a few interleaved shards still sees many subjects.
JOB = RecordsJob(process=process_image, to_example=_to_example,
                 item_key=lambda t: f"{t.rel}|{t.points}", group_of=lambda t: t.rel,
                 count_by=lambda r: int(r["yaw"]))


# ----------------------------------------------------------------------------- planning

def plan_items(keys, sources: multipie.Sources, max_yaw: int) -> list[ImageItem]:
    """The ImageItems of ImageKeys (all within +-max_yaw)."""
    items = []
    for key in keys:
        points = sources.points_of(key)
        items.append(ImageItem(
            path=sources.path_of(key), rel=sources.rel_of(key), camera=key.camera,
            points=None if points is None else tuple(map(tuple, np.asarray(points).tolist())),
            aligned=sources.aligned,
            fields=(key.subject, key.session, key.recording, key.illumination, key.yaw,
                    pose_index(key.yaw, max_yaw))))
    return items


def items_by_split(sources: multipie.Sources, *, max_yaw: int = 60, test_subjects_from: int = 0
                   ) -> tuple[dict[str, list[ImageItem]], list[dict]]:
    """({split: items}, skipped inputs) of the image job: the drgan spec 5.1 protocol split
    (neutral recording 01; subjects 001-200 train, others test; or the test_subjects_from
    boundary) of every image with |yaw| <= max_yaw, sorted by key."""
    if max_yaw not in POSE_SETS:
        raise ValueError(f"max_yaw must be one of {POSE_SETS} (9 or 13 views), got {max_yaw}")
    skipped = [dataclasses.asdict(s) for s in sources.skipped]
    by_split = collections.defaultdict(list)
    for key in sorted(set(sources.keys)):
        if abs(key.yaw) > max_yaw:
            continue
        split = multipie.split_for(key, PROTOCOL_SETTING, test_subjects_from)
        if split is not None:
            by_split[split].append(key)
    return ({split: plan_items(by_split[split], sources, max_yaw)
             for split in sorted(by_split)}, skipped)
