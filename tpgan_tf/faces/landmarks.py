"""Five-point facial landmarks: conventions, file formats (.5pt, CSV), checks, mirroring.

Point order (tpgan spec 1.2): left eye, right eye, nose tip, left mouth corner, right mouth corner,
where "left" = image-left (smaller x). Arrays are [5, 2] with columns (x, y).

Coordinate conventions used in this project
-------------------------------------------
* 0-based pixel centres (our float convention): pixel (row r, col c) of an array has its centre
  at (x=c, y=r). The landmark CSV (raw images) and `AlignedFace.landmarks` use this.
* `.5pt` integers (tpgan spec 1.3): the MATLAB script writes 1-based crop coordinates (pixel centre at
  x=c+1), and the original Python then uses these numbers *directly as 0-based array indices*.
  So `.5pt = round(0-based float) + 1` (see `to_index_points`), and the original's patch
  windows (tpgan spec 1.4) sit one pixel right/down of where a 0-based reading would put them. We keep
  that: patch cropping consumes `.5pt`-convention integers.
"""
from __future__ import annotations

import csv
import math
import os
import posixpath
from typing import Mapping

import numpy as np

NAMES = ("left_eye", "right_eye", "nose_tip", "left_mouth", "right_mouth")
# Mirroring an image left-right swaps image-left and image-right points: eyes 0 <-> 1 and
# mouth corners 3 <-> 4 (tpgan spec 1.4). The one copy of this order; landmarks_tf uses it too.
MIRROR_ORDER = (1, 0, 2, 4, 3)
CSV_HEADER = ("path",) + tuple(f"{a}{i}" for i in range(5) for a in "xy")


def round_half_away(values) -> np.ndarray:
    """MATLAB `round`: halves go away from zero (2.5 -> 3, -2.5 -> -3). Returns int64."""
    v = np.asarray(values, dtype=np.float64)
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)


def to_index_points(points0) -> np.ndarray:
    """0-based float landmarks -> `.5pt` integers (MATLAB 1-based crop coords): round(p) + 1.

    These are what the original Python used as array indices for the patch windows (tpgan spec 1.3).
    """
    return round_half_away(points0) + 1


def from_index_points(points5pt) -> np.ndarray:
    """`.5pt` integers -> 0-based float pixel-centre coordinates: p - 1."""
    return np.asarray(points5pt, dtype=np.float64) - 1.0


# ---------------------------------------------------------------- .5pt files (tpgan spec 1.3)

def read_5pt(path: str | os.PathLike) -> np.ndarray:
    """Read a `*_trans.5pt` file: 5 lines "x y" of integers -> float64 [5, 2].

    The values are returned unchanged (`.5pt` convention, see the module docstring).
    Blank lines are ignored. ValueError names the file and line for anything else.
    """
    rows = []
    with open(path, "r", encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'x y', got {line.strip()!r}")
            try:
                rows.append((int(fields[0]), int(fields[1])))
            except ValueError:
                raise ValueError(f"{path}:{lineno}: 'x y' must be integers, "
                                 f"got {line.strip()!r}") from None
    if len(rows) != 5:
        raise ValueError(f"{path}: expected 5 landmark lines, found {len(rows)}")
    return np.asarray(rows, dtype=np.float64)


def write_5pt(path: str | os.PathLike, points) -> None:
    """Write integer [5, 2] points as a `.5pt` file ("x y" per line)."""
    p = np.asarray(points)
    if p.shape != (5, 2):
        raise ValueError(f"{path}: landmarks must have shape (5, 2), got {p.shape}")
    if not np.all(np.isfinite(p)) or not np.all(p == np.round(p)):
        raise ValueError(f"{path}: .5pt values must be integers, got {p.tolist()}")
    with open(path, "w", encoding="utf-8") as f:
        for x, y in p.astype(np.int64):
            f.write(f"{x} {y}\n")


# ---------------------------------------------------------------- CSV (raw-image coordinates)

def _normalise_key(raw: str) -> str | None:
    """Root-relative '/' path, normalised ("./a//b" -> "a/b"); None if not acceptable."""
    if not raw or "\\" in raw or raw.startswith("/"):
        return None
    norm = posixpath.normpath(raw)
    if norm == "." or norm.startswith("../") or norm == "..":
        return None
    return norm


def read_landmark_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read `path,x0,y0,...,x4,y4` (0-based raw-image pixel coordinates) -> {path: [5, 2]}.

    Paths are relative to the Multi-PIE root with '/' separators. NaN values parse (and are
    then reported per image by `check_landmarks`). ValueError "<file>:<line>: <problem>" for
    a wrong header, column count, number, path, or a duplicate path.
    """
    out: dict[str, np.ndarray] = {}
    first_line: dict[str, int] = {}
    with open(path, "r", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file, expected the header {','.join(CSV_HEADER)}")
        if tuple(h.strip() for h in header) != CSV_HEADER:
            raise ValueError(f"{path}:1: header must be {','.join(CSV_HEADER)}, "
                             f"got {','.join(header)}")
        for row in reader:
            lineno = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(CSV_HEADER):
                raise ValueError(f"{path}:{lineno}: expected {len(CSV_HEADER)} columns "
                                 f"(path + 10 coordinates), got {len(row)}")
            key = _normalise_key(row[0].strip())
            if key is None:
                raise ValueError(f"{path}:{lineno}: bad image path {row[0]!r} (must be relative "
                                 f"to the Multi-PIE root, '/' separated)")
            try:
                values = [float(c) for c in row[1:]]
            except ValueError:
                raise ValueError(f"{path}:{lineno}: coordinates must be numbers, "
                                 f"got {row[1:]}") from None
            if key in out:
                raise ValueError(f"{path}:{lineno}: duplicate entry for {key} "
                                 f"(first on line {first_line[key]})")
            out[key] = np.asarray(values, dtype=np.float64).reshape(5, 2)
            first_line[key] = lineno
    return out


def write_landmark_csv(path: str | os.PathLike, mapping: Mapping[str, np.ndarray]) -> None:
    """Write {root-relative path: [5, 2]} as the landmark CSV, rows sorted by path.

    Floats are written with `repr`, so reading the file back gives the same float64 values.
    """
    rows = []
    for key in sorted(mapping):
        norm = _normalise_key(key)
        if norm is None or norm != key:
            raise ValueError(f"{path}: bad image path {key!r} (must be a normalised path "
                             f"relative to the Multi-PIE root, '/' separated)")
        pts = np.asarray(mapping[key], dtype=np.float64)
        if pts.shape != (5, 2):
            raise ValueError(f"{path}: landmarks of {key} must have shape (5, 2), "
                             f"got {pts.shape}")
        rows.append([key] + [repr(float(v)) for v in pts.reshape(-1)])
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)


def check_landmarks(points, width: int, height: int) -> str | None:
    """None if `points` is a finite [5, 2] array inside a width x height image, else the reason.

    "Inside" is -0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5: the area covered by the
    pixels, with 0-based pixel-centre coordinates.
    """
    p = np.asarray(points)
    if p.shape != (5, 2):
        return f"wrong shape {p.shape}, expected (5, 2)"
    try:
        p = p.astype(np.float64)
    except (TypeError, ValueError):
        return f"landmarks are not numbers (dtype {p.dtype})"
    for i, (x, y) in enumerate(p):
        if not (math.isfinite(x) and math.isfinite(y)):
            return f"landmark {i} ({NAMES[i]}) is not finite (x={x}, y={y})"
    for i, (x, y) in enumerate(p):
        if not (-0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5):
            return f"landmark {i} (x={x:g}, y={y:g}) outside the {width}x{height} image"
    return None


# ---------------------------------------------------------------- 68 -> 5 points

def five_from_68(points68) -> np.ndarray:
    """iBUG 68-point landmarks (0-based indices) [68, 2] -> our 5 points [5, 2] float64.

    Eye centres = means of points 36-41 and 42-47, nose tip = 30, mouth corners = 48 and 54.
    Eyes and mouth corners are then ordered by x (image-left first), as tpgan spec 1.2 requires.
    """
    p = np.asarray(points68, dtype=np.float64)
    if p.shape != (68, 2):
        raise ValueError(f"expected 68 landmarks of shape (68, 2), got {p.shape}")
    eyes = np.stack([p[36:42].mean(axis=0), p[42:48].mean(axis=0)])
    mouth = p[[48, 54]]
    eyes = eyes[np.argsort(eyes[:, 0], kind="stable")]
    mouth = mouth[np.argsort(mouth[:, 0], kind="stable")]
    return np.stack([eyes[0], eyes[1], p[30], mouth[0], mouth[1]])


# ---------------------------------------------------------------- mirroring and facing side

def mirror_landmarks(points, width: int, one_based: bool = False) -> np.ndarray:
    """Landmarks [5, 2] of the left-right flipped image, re-ordered so "left" is image-left.

    0-based pixel centres: x -> width - 1 - x (127 - x at 128). 1-based / `.5pt` values:
    x -> width + 1 - x. The spec's (and the original's) x -> 128 - x is the mirror only for
    edge-based continuous coordinates (pixel i spanning [i, i+1)); the original applied it to
    `.5pt` values it uses as 0-based indices, so its mirrored points are one pixel off. They
    only fed the unused landmark head (tpgan spec 2.5); patches are flipped arrays, unaffected.
    """
    p = np.array(points, copy=True)
    if p.shape != (5, 2):
        raise ValueError(f"landmarks must have shape (5, 2), got {p.shape}")
    p[:, 0] = (width + 1 if one_based else width - 1) - p[:, 0]
    return p[list(MIRROR_ORDER)]


def faces_left(points) -> bool:
    """True if the face looks image-left (negative yaw): the nose tip is left of the eye
    midpoint, x2 < (x0 + x1) / 2 (tpgan spec 6.4 [INFER]). A tie (a frontal face) is False."""
    p = np.asarray(points, dtype=np.float64)
    return bool(p[2, 0] < 0.5 * (p[0, 0] + p[1, 0]))
