"""CelebA (Liu et al., ICCV 2015) with parsing label maps -> FaceItems for the FSRNet face records
(fsrnet spec 8.2). Users bring the data; the files read here:

    --celeba_images     a folder of face images, e.g. CelebA's aligned `img_align_celeba/`
                        (000001.jpg ..., 178 x 218) or CelebA-HQ's `CelebA-HQ-img/` (0.jpg ...)
    --celeba_landmarks  a landmark file in the layout of CelebA's list_landmarks_align_celeba.txt:
                        line 1 the count, line 2 a header, then one line per image,
                        "<file name> x1 y1 x2 y2 ...": CelebA's own 5 points (eyes, nose, mouth
                        corners; scheme celeba5) or 68 iBUG points from a landmark detector in
                        the same layout (scheme ibug68), in pixels of that image
    --celeba_parsing    the parsing labels, either
                          * format "labelmap" (default): `<parsing>/<image stem>.png`, one
                            single-channel map of Helen-11 ids (prior_sets.HELEN11) per image, of
                            the image's size (e.g. a GFC / face-parsing network's output, as the
                            paper's labels came from GFC, spec 8.2), or
                          * format "celebamask": CelebAMask-HQ's `CelebAMask-HQ-mask-anno/`
                            (sub-folders 0 .. 14 of `<index:05d>_<class>.png` binary masks, 512 x
                            512 for the 1024 x 1024 CelebA-HQ images; index = the image's integer
                            file stem), combined to Helen-11 ids
                            (data_prep/face_records_job.CELEBAMASK_TO_HELEN).
The order of the images is the landmark file's (CelebA's numbering). Splits:
  * "paper" (default, tyshiwo #9 quoting the paper): the first 18,000 "train", the next 100
    (18,001 .. 18,100) "test"; later images are not used;
  * "release": the last 1,000 "test" (the official release's validation set, images 201,600 ..
    202,599 of CelebA), every earlier one "train".
The crop is data_prep/face_crops.py's "center" box (the largest centred square, spec 8.2
[INF]) or, with --celeba_crop=tight, the landmark box.
"""
from __future__ import annotations

import os
import re

from data_prep.face_records_job import CELEBAMASK_TO_HELEN, FaceItem

SCHEMES = {5: "celeba5", 68: "ibug68"}
SPLITS = ("paper", "release")
PAPER_TRAIN, PAPER_TEST = 18_000, 100  # spec 8.2
RELEASE_TEST = 1_000
PARSING_FORMATS = ("labelmap", "celebamask")
_MASK_RE = re.compile(r"(\d+)_([a-z_]+)\.png")


def read_landmark_file(path: str) -> tuple[list[str], dict[str, list], list[dict]]:
    """CelebA-layout landmark file -> (file names in order, {name: [(x, y)] or None}, skipped).

    A line with an odd or inconsistent number of values keeps its place in the order with None
    points and is listed in `skipped`."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: CelebA landmark file not found (--celeba_landmarks)")
    with open(path) as f:
        lines = [ln.split() for ln in f if ln.strip()]
    if len(lines) < 2:
        raise ValueError(f"{path}: expected a count line, a header line and one line per image")
    rows = lines[2:] if len(lines[0]) == 1 else lines[1:]  # tolerate a missing count line
    names, points, skipped = [], {}, []
    count = None
    for number, row in enumerate(rows, start=3):
        name, values = row[0], row[1:]
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            numbers = []
        if count is None and numbers and len(numbers) % 2 == 0:
            count = len(numbers) // 2
        names.append(name)
        if not numbers or len(numbers) != 2 * (count or 0):
            points[name] = None
            skipped.append({"path": name, "reason": f"landmark file line {number}: expected "
                            f"{2 * (count or 0)} numbers, got {len(values)} values"})
            continue
        points[name] = [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]
    if count not in SCHEMES:
        raise ValueError(f"{path}: {count} points per image; supported: "
                         f"{', '.join(f'{n} ({s})' for n, s in SCHEMES.items())}")
    return names, points, skipped


def _celebamask_index(parsing_dir: str) -> dict[int, tuple]:
    """{image index: ((class, path), ...)} of a CelebAMask-HQ mask folder (any depth)."""
    index: dict[int, list] = {}
    for folder, dirs, files in os.walk(parsing_dir):
        dirs.sort()
        for f in sorted(files):
            match = _MASK_RE.fullmatch(f)
            if match and match.group(2) in CELEBAMASK_TO_HELEN:
                index.setdefault(int(match.group(1)), []).append(
                    (match.group(2), os.path.join(folder, f)))
    return {k: tuple(v) for k, v in index.items()}


def _split(names: list[str], split: str) -> dict[str, list[str]]:
    if split == "paper":
        return {"train": names[:PAPER_TRAIN], "test": names[PAPER_TRAIN:PAPER_TRAIN + PAPER_TEST]}
    cut = max(len(names) - RELEASE_TEST, 0)
    return {"train": names[:cut], "test": names[cut:]}


def collect(images_dir: str, landmark_file: str, parsing_dir: str, *, split: str = "paper",
            parsing_format: str = "labelmap", crop: str = "center", crop_offset: int = 0,
            crop_scale: float = 1.2) -> tuple[dict[str, list[FaceItem]], list[dict]]:
    """({"train": items, "test": items}, skipped inputs) of CelebA files (module doc)."""
    if split not in SPLITS:
        raise ValueError(f"CelebA split must be one of {SPLITS}, got {split!r}")
    if parsing_format not in PARSING_FORMATS:
        raise ValueError(f"--celeba_parsing_format must be one of {PARSING_FORMATS}, got "
                         f"{parsing_format!r}")
    if crop not in ("center", "tight"):
        raise ValueError(f"--celeba_crop must be center or tight, got {crop!r}")
    for flag, folder in (("--celeba_images", images_dir), ("--celeba_parsing", parsing_dir)):
        if not folder or not os.path.isdir(folder):
            raise FileNotFoundError(f"{flag}={folder!r}: not a folder")
    names, points, skipped = read_landmark_file(landmark_file)
    masks = _celebamask_index(parsing_dir) if parsing_format == "celebamask" else {}
    listed = set(names)
    for f in sorted(os.listdir(images_dir)):
        if f not in listed and os.path.splitext(f)[1].lower() in (".jpg", ".jpeg", ".png"):
            skipped.append({"path": f, "reason": "no landmarks for this image (not in the "
                            "landmark file)"})
    out = {}
    for part, part_names in _split(names, split).items():
        # lines with bad landmarks keep their place in the order, but are listed once (above)
        out[part] = [_item(images_dir, parsing_dir, parsing_format, masks, name, points[name],
                           crop, crop_offset, crop_scale)
                     for name in part_names if points[name] is not None]
    return out, skipped


def _item(images_dir, parsing_dir, parsing_format, masks, name, points, crop, crop_offset,
          crop_scale) -> FaceItem:
    stem = os.path.splitext(name)[0]
    if parsing_format == "celebamask":
        label_paths = masks.get(int(stem), ()) if stem.isdigit() else ()
        kind = "celebamask"
    else:
        path = os.path.join(parsing_dir, stem + ".png")
        label_paths, kind = ((path,) if os.path.exists(path) else ()), "labelmap"
    count = len(points)
    return FaceItem(source="celeba", name=stem, image_path=os.path.join(images_dir, name),
                    landmarks=tuple(points), label_kind=kind,
                    label_paths=label_paths, crop=crop, crop_scale=crop_scale,
                    crop_offset=crop_offset, landmark_scheme=SCHEMES.get(count, ""),
                    num_landmarks=count)
