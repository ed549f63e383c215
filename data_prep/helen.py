"""Helen (Le et al., ECCV 2012) with Smith et al.'s parsing labels (CVPR 2013) -> FaceItems for
the FSRNet face records (fsrnet spec 8.1). Users bring the data; the layout read here:

    <helen_dir>/images/<name>.jpg          the Helen images (the original release's helen_1 ..
                                           helen_5 folders merged; .jpg or .png)
    <helen_dir>/annotation/<k>.txt         Helen's 194-point files, k = 1 .. 2330: the first line
                                           is the image name ("100032540_1"), then 194 lines
                                           "x , y" in pixels of that image
    <helen_dir>/labels/<name>/<name>_lbl00.png .. _lbl10.png
                                           Smith et al.'s 11 label probability maps (8-bit grey,
                                           255 = probability 1), in the "original" size, i.e.
                                           the size of the Helen image (the "resized" maps do
                                           not fit the 194-point coordinates)
    <helen_dir>/trainnames.txt, testnames.txt   Helen's own split, one name per line
                                           (only for split "helen")

The 11 maps become one label map by arg-max per pixel (Smith's label order is prior_sets.HELEN11).
The crop is data_prep/face_crops.py's "tight" box (side = crop_scale x the larger landmark
extent, centred on the landmark box).

Splits:
  * "fsrnet" (default; fsrnet spec 8.1 [INF, strong]): the images in the order of their
    annotation file numbers; the last 50 (annotation files 2281 .. 2330) are "test", the first
    2,280 "train". The official test ids 18241, 18249, ..., 18633 are 8 x (k - 1) + 1 for
    k = 2281 .. 2330: the authors' 8 augmented copies per image, tested on the first copy.
  * "helen": Helen's own 2,000 / 330 (trainnames.txt / testnames.txt), as [CS].
"""
from __future__ import annotations

import os
import re

from data_prep.face_records_job import FaceItem

NUM_POINTS = 194
NUM_LABELS = 11
FSRNET_TEST_COUNT = 50  # spec 8.1: the last 50 annotation files
SPLITS = ("fsrnet", "helen")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def read_annotation(path: str) -> tuple[str, list[tuple[float, float]]]:
    """One Helen annotation file -> (image name, [(x, y)] points); ValueError names the file
    and line when a line is not "x , y"."""
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    if not lines:
        raise ValueError(f"{path}: empty annotation file")
    points = []
    for number, line in enumerate(lines[1:], start=2):
        parts = [p.strip() for p in line.split(",")]
        try:
            x, y = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"{path} line {number}: expected 'x , y', got {line!r}") from None
        points.append((x, y))
    return lines[0], points


def _annotation_number(filename: str) -> int | None:
    match = re.fullmatch(r"(\d+)\.txt", filename)
    return int(match.group(1)) if match else None


def _image_path(images_dir: str, name: str) -> str:
    for ext in IMAGE_EXTENSIONS:
        path = os.path.join(images_dir, name + ext)
        if os.path.exists(path):
            return path
    return os.path.join(images_dir, name + ".jpg")  # missing: read_image gives the reason


def _read_names(path: str) -> list[str]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: Helen split file not found (needed for "
                                "--helen_split=helen)")
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip()]


def collect(helen_dir: str, split: str = "fsrnet", crop_scale: float = 1.2,
            test_count: int = FSRNET_TEST_COUNT) -> tuple[dict[str, list[FaceItem]], list[dict]]:
    """({"train": items, "test": items}, skipped inputs) of a Helen folder (module doc);
    test_count: the size of split "fsrnet"'s test set (50, spec 8.1)."""
    if split not in SPLITS:
        raise ValueError(f"Helen split must be one of {SPLITS}, got {split!r}")
    annotation_dir = os.path.join(helen_dir, "annotation")
    for sub in ("images", "annotation", "labels"):
        if not os.path.isdir(os.path.join(helen_dir, sub)):
            raise FileNotFoundError(f"{os.path.join(helen_dir, sub)}: not a folder; --helen_dir "
                                    "must hold images/, annotation/ and labels/ (data_prep/helen.py)")
    numbered = sorted((n, f) for f in os.listdir(annotation_dir)
                      if (n := _annotation_number(f)) is not None)
    skipped, ordered = [], []
    for number, filename in numbered:
        path = os.path.join(annotation_dir, filename)
        try:
            name, points = read_annotation(path)
        except (ValueError, UnicodeDecodeError) as err:
            skipped.append({"path": path, "reason": f"unreadable annotation: {err}"})
            continue
        ordered.append((name, points))
    annotated = {name for name, _ in ordered}
    for f in sorted(os.listdir(os.path.join(helen_dir, "images"))):
        stem, ext = os.path.splitext(f)
        if ext.lower() in IMAGE_EXTENSIONS and stem not in annotated:
            skipped.append({"path": os.path.join("images", f),
                            "reason": "no landmarks for this image (no annotation file names it)"})
    items = [_item(helen_dir, name, points, crop_scale) for name, points in ordered]
    if split == "fsrnet":
        cut = max(len(items) - test_count, 0)
        return {"train": items[:cut], "test": items[cut:]}, skipped
    by_name = {it.name: it for it in items}
    out = {}
    for part, filename in (("train", "trainnames.txt"), ("test", "testnames.txt")):
        out[part] = []
        for name in _read_names(os.path.join(helen_dir, filename)):
            if name in by_name:
                out[part].append(by_name[name])
            else:
                skipped.append({"path": name, "reason": f"listed in {filename} but has no "
                                "annotation file"})
    return out, skipped


def _item(helen_dir: str, name: str, points, crop_scale: float) -> FaceItem:
    label_dir = os.path.join(helen_dir, "labels", name)
    label_paths = tuple(os.path.join(label_dir, f"{name}_lbl{k:02d}.png")
                        for k in range(NUM_LABELS))
    if not os.path.isdir(label_dir):
        label_paths = ()
    return FaceItem(source="helen", name=name,
                    image_path=_image_path(os.path.join(helen_dir, "images"), name),
                    landmarks=tuple(points), label_kind="lpm11", label_paths=label_paths,
                    crop="tight", crop_scale=crop_scale, landmark_scheme="helen194",
                    num_landmarks=NUM_POINTS)
