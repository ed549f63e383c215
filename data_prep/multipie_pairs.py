"""Multi-PIE -> (profile, frontal) pair records for TP-GAN (tpgan_tf/data/pair_records.py).

Input, either
  * source "raw" (default): the raw layout `<root>/data/session0S/multiview/SSS/RR/CC_C/
    SSS_SS_RR_CCC_II.png` and a landmark CSV in raw-image coordinates
    (tpgan_tf/faces/landmarks.py); every image is aligned here (tpgan spec 1.2);
  * source "aligned": the original code's hand-made folders, a flat `aligned_dir` of
    `SSS_SS_RR_CCC_II_cropped.png` 128x128 crops and `t5pt_dir` of `SSS_SS_RR_CCC_trans.5pt`
    files (crop coordinates, tpgan spec 1.3).
One record per pair: both aligned PNGs, both landmark sets, the tpgan spec 1.4 patch windows (with
the camera's nose rule, or the pose-independent one), subject, session, recording, camera,
yaw, illumination. A bad input (corrupt or empty image, missing frontal, missing or
out-of-range landmarks, unknown camera, wrong folder) is skipped and listed; every patch
window that had to be zero-padded is listed in the manifest's "padded".
"""
from __future__ import annotations

import collections
import dataclasses

import cv2
import numpy as np

from data_prep import cameras, multipie
from data_prep.images import read_image
from tpgan_tf.data.shards import RecordsJob
from tpgan_tf.faces import alignment, landmarks
from tpgan_tf.faces.parts import IMAGE_SIZE, PART_NAMES, POSE_INDEPENDENT_NOSE_OFFSET, part_windows


@dataclasses.dataclass(frozen=True)
class PairItem:
    """One pair to process: image paths (absolute) and their landmark sources."""

    profile_path: str
    frontal_path: str
    profile_rel: str
    frontal_rel: str
    camera: str  # folder form "05_0"
    profile_points: tuple | None  # [5][2] raw (source=raw) or .5pt integers (source=aligned)
    frontal_points: tuple | None
    aligned: bool
    nose_offset: int  # tpgan spec 1.4: the camera's table entry, or 20 (pose-independent rule)
    fields: tuple  # (subject, session, recording, illumination, yaw)


# ----------------------------------------------------------------------------- worker side

def _prepare_side(path: str, points, aligned: bool, nose_offset: int) -> tuple[dict | None, str | None]:
    """Load, align (raw source) and cut the patch windows of one side of a pair."""
    if points is None:
        return None, "no landmarks for this image"
    image, reason = read_image(path)
    if image is None:
        return None, reason
    if aligned:
        if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            return None, f"aligned crop is {image.shape[1]}x{image.shape[0]}, expected 128x128"
        index_points = np.asarray(points, dtype=np.int64)  # tpgan spec 1.3: used as 0-based indices
        problem = landmarks.check_landmarks(index_points, IMAGE_SIZE, IMAGE_SIZE)
        if problem:
            return None, f"landmarks: {problem}"
        crop, float_points = image, landmarks.from_index_points(index_points)
    else:
        problem = landmarks.check_landmarks(points, image.shape[1], image.shape[0])
        if problem:
            return None, f"landmarks: {problem}"
        face = alignment.align_face(image, np.asarray(points, dtype=np.float64))
        crop, float_points, index_points = face.image, face.landmarks, face.landmarks_rounded
    windows = part_windows(index_points, nose_offset)
    padded = {}
    for name, (top, left, h, w) in windows.items():
        padded[name] = top < 0 or left < 0 or top + h > IMAGE_SIZE or left + w > IMAGE_SIZE
    ok, png = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    if not ok:
        return None, "PNG encoding failed"
    return {"png": png.tobytes(), "landmarks": np.asarray(float_points, np.float32),
            "windows": np.array([windows[n][:2] for n in PART_NAMES], np.int64),
            "padded": np.array([padded[n] for n in PART_NAMES], np.int64)}, None


_frontal_cache: "collections.OrderedDict[str, tuple]" = collections.OrderedDict()


def _prepare_frontal(item: PairItem):
    # Every profile of one (subject, session, recording, illumination) shares its frontal, and
    # shards keep such groups together: remember the last few frontals of this worker.
    key = item.frontal_path
    if key not in _frontal_cache:
        _frontal_cache[key] = _prepare_side(item.frontal_path, item.frontal_points,
                                            item.aligned, POSE_INDEPENDENT_NOSE_OFFSET)
        if len(_frontal_cache) > 64:
            _frontal_cache.popitem(last=False)
    return _frontal_cache[key]


def process_pair(item: PairItem) -> tuple[dict | None, dict | None]:
    """PairItem -> (record for pair_records.make_example, None) or (None, skipped entry)."""
    frontal, reason = _prepare_frontal(item)
    if frontal is None:
        return None, {"path": item.profile_rel,
                      "reason": f"frontal {item.frontal_rel}: {reason}"}
    profile, reason = _prepare_side(item.profile_path, item.profile_points, item.aligned,
                                    item.nose_offset)
    if profile is None:
        return None, {"path": item.profile_rel, "reason": reason}
    subject, session, recording, illumination, yaw = item.fields
    record = {"camera": item.camera, "subject": subject, "session": session,
              "recording": recording, "illumination": illumination, "yaw": yaw,
              "profile/path": item.profile_rel, "frontal/path": item.frontal_rel}
    for side, data in (("profile", profile), ("frontal", frontal)):
        for k, v in data.items():
            record[f"{side}/{k}"] = v
    return record, None


def _to_example(record: dict) -> bytes:
    from tpgan_tf.data.pair_records import make_example
    return make_example(record)


def _padded_notes(record: dict) -> list:
    notes = []
    for side in ("profile", "frontal"):
        parts = [n for n, p in zip(PART_NAMES, record[f"{side}/padded"]) if p]
        if parts:
            notes.append({"path": record[f"{side}/path"], "parts": parts})
    return notes


JOB = RecordsJob(
    process=process_pair, to_example=_to_example,
    item_key=lambda t: f"{t.profile_rel}|{t.frontal_rel}|{t.profile_points}|{t.frontal_points}",
    group_of=lambda t: t.frontal_rel, count_by=lambda r: int(r["yaw"]), notes=_padded_notes)


# ----------------------------------------------------------------------------- planning

def plan_items(pairs, sources: multipie.Sources, pose_independent_nose: bool = False
               ) -> list[PairItem]:
    """The PairItems of (profile, frontal) ImageKey pairs."""
    items = []
    for profile, frontal in pairs:
        pp, fp = sources.points_of(profile), sources.points_of(frontal)
        items.append(PairItem(
            profile_path=sources.path_of(profile), frontal_path=sources.path_of(frontal),
            profile_rel=sources.rel_of(profile), frontal_rel=sources.rel_of(frontal),
            camera=profile.camera,
            profile_points=None if pp is None else tuple(map(tuple, np.asarray(pp).tolist())),
            frontal_points=None if fp is None else tuple(map(tuple, np.asarray(fp).tolist())),
            aligned=sources.aligned,
            nose_offset=cameras.nose_offset_for(None if pose_independent_nose else profile.camera),
            fields=(profile.subject, profile.session, profile.recording, profile.illumination,
                    profile.yaw)))
    return items


def items_by_split(sources: multipie.Sources, *, setting: int, test_subjects_from: int,
                   yaw_low: int, yaw_high: int, pose_independent_nose: bool
                   ) -> tuple[dict[str, list[PairItem]], list[dict]]:
    """({split: items}, skipped inputs) of the pair job (tpgan spec 6.2 pairs, 6.3 splits)."""
    skipped = [dataclasses.asdict(s) for s in sources.skipped]
    pairs, missing = multipie.make_pairs(sources.keys, yaw_low, yaw_high)
    skipped += [dataclasses.asdict(s) for s in missing]
    by_split = collections.defaultdict(list)
    for pair in pairs:
        split = multipie.split_for(pair.profile, setting, test_subjects_from)
        if split is not None:
            by_split[split].append(pair)
    return ({split: plan_items(by_split[split], sources, pose_independent_nose)
             for split in sorted(by_split)}, skipped)
