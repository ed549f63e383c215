"""The worker side of the FSRNet face-records job (data_prep/build_face_records.py): one FaceItem
-> one face record (tpgan_tf/data/face_records.py) or the reason it was skipped.

A FaceItem names its image, its landmarks and its labels:
  * file sources (Helen, CelebA): an image file, landmarks [N, 2] in its pixel coordinates
    (None when the landmark file has none for it), and either Smith et al.'s 11 label
    probability maps (`label_kind` "lpm11"), one label-id map ("labelmap", Helen-11 ids) or
    CelebAMask-HQ per-class masks ("celebamask", combined to Helen-11 here); the crop rule of
    data_prep/face_crops.py;
  * the built-in synthetic faces: (seed, identity, view) of data_prep.synthetic.faces, rendered
    here at 128 x 128 with their exact landmarks and labels (no crop);
  * a folder of photos (data_prep/folder.py): an image file and the five MTCNN points the
    parent process found in it (`label_kind` "drawn": no label files); cropped onto the
    five-point `template` (crop "template", tpgan_tf/faces/similarity.py) or by the "center"
    box, the parsing map drawn from the five points in the crop (data_prep/drawn_parsing.py).
Bad inputs are skipped with a reason: an unreadable image, missing / wrong-count / non-finite
/ out-of-range landmarks, a missing or unreadable label map, one of the wrong size; for the
folder source also points no face can be drawn from (faces too small for their crop are
skipped by the parent, data_prep/folder.py).
"""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from data_prep import face_crops
from data_prep.images import read_image, read_label_map
from tpgan_tf.data.shards import RecordsJob

LABEL_KINDS = ("lpm11", "labelmap", "celebamask", "drawn")
# CelebAMask-HQ mask classes -> Helen-11 ids (prior_sets.HELEN11). Classes Helen has no label
# for (ears, neck, necklace, cloth, hat, earring, eyeglasses) are background, as ears and neck
# are in Helen's own annotation ("face skin (excluding ears and neck)", Smith et al. README);
# eyeglasses are background too, so the eye labels painted under them win where they overlap.
CELEBAMASK_TO_HELEN = {"skin": 1, "l_brow": 2, "r_brow": 3, "l_eye": 4, "r_eye": 5, "nose": 6,
                       "u_lip": 7, "mouth": 8, "l_lip": 9, "hair": 10}
# Painting order (later wins): skin first, hair, then the features on top.
CELEBAMASK_ORDER = ("skin", "hair", "nose", "l_brow", "r_brow", "l_eye", "r_eye", "u_lip",
                    "l_lip", "mouth")


@dataclasses.dataclass(frozen=True)
class FaceItem:
    """One face to process (picklable; see the module doc)."""

    source: str  # helen | celeba | synthetic | folder
    name: str
    image_path: str = ""
    landmarks: tuple | None = None  # ((x, y), ...) source pixels
    label_kind: str = "labelmap"
    label_paths: tuple = ()  # lpm11: 11 paths; labelmap: 1; celebamask: (class, path) pairs
    crop: str = "tight"  # tight | center | template (folder)
    crop_scale: float = face_crops.TIGHT_SCALE
    crop_offset: int = 0
    landmark_scheme: str = ""
    num_landmarks: int = 0
    synthetic: tuple = ()  # (seed, identity, view)
    template: tuple = ()  # folder, crop "template": the five crop points ((x, y), ...)


# ----------------------------------------------------------------------------- labels

def _read_planes(paths, shape) -> tuple[np.ndarray | None, str | None]:
    """Smith et al.'s 11 label probability maps -> [H, W, 11] uint8, or a reason."""
    planes = []
    for k, path in enumerate(paths):
        plane, reason = read_label_map(path)
        if plane is None:
            return None, f"label map {k:02d} ({path}): {reason}"
        if plane.shape != shape:
            return None, (f"label map {k:02d} is {plane.shape[1]}x{plane.shape[0]}, the image "
                          f"is {shape[1]}x{shape[0]}")
        planes.append(plane)
    return np.stack(planes, axis=-1), None


def _read_celebamask(pairs, shape) -> tuple[np.ndarray | None, str | None]:
    """CelebAMask-HQ per-class masks [(class, path)] -> Helen-11 ids [H, W], or a reason.
    Masks of an integer fraction of the image size (CelebAMask-HQ's 512 for the 1024 CelebA-HQ
    images) are enlarged by pixel repetition; other sizes are a wrong size."""
    labels = np.zeros(shape, np.uint8)
    by_class = dict(pairs)
    for name in CELEBAMASK_ORDER:
        if name not in by_class:
            continue
        mask, reason = read_label_map(by_class[name])
        if mask is None:
            return None, f"mask {name} ({by_class[name]}): {reason}"
        if mask.shape != shape:
            factor = shape[0] // mask.shape[0]
            if factor < 2 or mask.shape[0] * factor != shape[0] or mask.shape[1] * factor != shape[1]:
                return None, (f"mask {name} is {mask.shape[1]}x{mask.shape[0]}, the image is "
                              f"{shape[1]}x{shape[0]}")
            mask = np.repeat(np.repeat(mask, factor, axis=0), factor, axis=1)
        labels[mask > 127] = CELEBAMASK_TO_HELEN[name]
    return labels, None


# ----------------------------------------------------------------------------- one face

def _encode_png(array: np.ndarray) -> bytes:
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", array)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()


def _record(item: FaceItem, image, landmarks, labels, identity: str = "", yaw=None) -> dict:
    return {"hr_png": _encode_png(image), "parsing_png": _encode_png(labels),
            "landmarks": np.asarray(landmarks, np.float32), "landmark_scheme": item.landmark_scheme,
            "label_set": "helen11", "name": item.name, "identity": identity,
            "source": item.source, "yaw": yaw}


def _process_synthetic(item: FaceItem):
    from data_prep.synthetic.faces import face_record

    seed, identity, view = item.synthetic
    rec = face_record(seed, identity, view)
    return _record(item, rec.image, rec.landmarks, rec.labels, identity=str(identity),
                   yaw=float(rec.yaw)), None


def _process_folder(item: FaceItem, image: np.ndarray, points: np.ndarray, skip):
    """A photo and its five points -> the record (module doc), or skip(reason)."""
    from data_prep.drawn_parsing import draw_parsing
    from tpgan_tf.faces.similarity import crop_face, similarity_matrix

    h, w = image.shape[:2]
    size = face_crops.FACE_SIZE
    if item.crop == "template":
        try:
            matrix = similarity_matrix(points, item.template)
        except ValueError as err:
            return skip(str(err))
        # the crop's pixel centres mapped back into the photo: those outside are repeated edges
        inverse = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
        rows, cols = np.mgrid[0:size, 0:size]
        back = np.stack([cols.ravel(), rows.ravel()], 1) @ inverse[:, :2].T + inverse[:, 2]
        padded = int(np.sum((back[:, 0] < -0.5) | (back[:, 0] > w - 0.5) | (back[:, 1] < -0.5)
                            | (back[:, 1] > h - 0.5)))
        crop_points = points @ matrix[:, :2].T + matrix[:, 2]
    else:
        box = face_crops.center_box(w, h, item.crop_offset)
        padded = box.padding(w, h)
        crop_points = face_crops.crop_landmarks(points, box)
    outside = face_crops.landmark_problem(crop_points, size, size)
    if outside:
        return skip(f"landmarks outside the {item.crop} crop: {outside}")
    try:
        labels = draw_parsing(crop_points, size)
    except ValueError as err:
        return skip(f"no parsing map from the five points: {err}")
    face = (crop_face(image, matrix, size) if item.crop == "template"
            else face_crops.crop_image(image, box))
    record = _record(item, face, crop_points, labels)
    record["_padded"] = padded
    return record, None


def process_face(item: FaceItem) -> tuple[dict | None, dict | None]:
    """FaceItem -> (record for face_records.make_example, None) or (None, {"path", "reason"})."""
    if item.source == "synthetic":
        return _process_synthetic(item)
    skip = lambda reason: (None, {"path": item.image_path or item.name, "reason": reason})  # noqa
    if item.landmarks is None:
        return skip("no landmarks for this image")
    image, reason = read_image(item.image_path)
    if image is None:
        return skip(reason)
    h, w = image.shape[:2]
    points = np.asarray(item.landmarks, np.float64)
    problem = face_crops.landmark_problem(points, w, h, item.num_landmarks or None)
    if problem:
        return skip(f"landmarks: {problem}")
    if item.label_kind == "drawn":
        return _process_folder(item, image, points, skip)
    if not item.label_paths:
        return skip("no parsing label map for this image")
    if item.label_kind == "lpm11":
        planes, reason = _read_planes(item.label_paths, (h, w))
        labels = None
    elif item.label_kind == "celebamask":
        labels, reason = _read_celebamask(item.label_paths, (h, w))
    else:
        labels, reason = read_label_map(item.label_paths[0])
        if labels is not None and labels.shape != (h, w):
            labels, reason = None, (f"label map is {labels.shape[1]}x{labels.shape[0]}, the "
                                    f"image is {w}x{h}")
        if labels is not None and labels.max() >= face_crops.NUM_LABELS:
            labels, reason = None, (f"label map holds label {int(labels.max())}; Helen-11 ids "
                                    f"are 0..{face_crops.NUM_LABELS - 1}")
    if reason:
        return skip(reason)
    box = (face_crops.tight_box(points, item.crop_scale) if item.crop == "tight"
           else face_crops.center_box(w, h, item.crop_offset))
    crop_points = face_crops.crop_landmarks(points, box)
    outside = face_crops.landmark_problem(crop_points, face_crops.FACE_SIZE, face_crops.FACE_SIZE)
    if outside:
        return skip(f"landmarks outside the {item.crop} crop: {outside}")
    face = face_crops.crop_image(image, box)
    if item.label_kind == "lpm11":
        parsing = face_crops.crop_label_planes(planes, box)
    else:
        parsing = face_crops.crop_labels(labels, box)
    record = _record(item, face, crop_points, parsing)
    padded = box.padding(w, h)
    record["_padded"] = padded
    return record, None


def _to_example(record: dict) -> bytes:
    from tpgan_tf.data.face_records import make_example
    return make_example(record)


def _padded_notes(record: dict) -> list:
    padded = record.get("_padded", 0)
    return [{"path": record["name"], "padded_pixels": int(padded)}] if padded else []


JOB = RecordsJob(
    process=process_face, to_example=_to_example,
    item_key=lambda t: f"{t.source}|{t.name}|{t.image_path}|{t.landmarks}|{t.label_paths}|"
                       f"{t.crop}|{t.crop_scale}|{t.crop_offset}|{t.synthetic}"
                       + (f"|{t.template}" if t.label_kind == "drawn" else ""),
    group_of=lambda t: f"{t.synthetic[:2]}" if t.synthetic else t.name,
    count_by=lambda r: r["source"], notes=_padded_notes)
