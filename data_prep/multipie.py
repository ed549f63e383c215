"""Multi-PIE raw layout: image keys, directory scan, (profile, frontal) pairs and splits.

Raw layout (tpgan spec 6.1), relative to the Multi-PIE root:

    data/session0S/multiview/SSS/RR/CC_C/SSS_SS_RR_CCC_II.png

SSS subject (001-346), SS session (01-04), RR recording (01 = neutral expression in every
session), CC_C camera folder ("05_1"; "051" in the file name), II illumination / flash (00-19).
Only the 13 cameras within +-90 degrees of yaw (data_prep/cameras.py) are accepted.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import re
from typing import Iterable, NamedTuple

from data_prep import cameras

# "001_01_01_051_07.png"; the aligned files of the original (tpgan spec 6.1, `FS_aligned/`) add
# "_cropped" before the extension, which parse_filename also accepts.
_NAME_RE = re.compile(r"^(\d{3})_(\d{2})_(\d{2})_(\d{3})_(\d{2})(_cropped)?\.png$")
_RAW_PARTS = 7  # data / session0S / multiview / SSS / RR / CC_C / file


@dataclasses.dataclass(frozen=True, order=True)
class ImageKey:
    """One raw Multi-PIE image. Ordering is (subject, session, recording, camera, illumination)."""

    subject: int  # 1..346
    session: int  # 1..4
    recording: int  # 1 = neutral
    camera: str  # folder form, e.g. "05_1"
    illumination: int  # 0..19

    @property
    def camera_info(self) -> cameras.Camera:
        return cameras.BY_FOLDER[self.camera]

    @property
    def code(self) -> str:
        """3-digit camera code used in file names ("05_1" -> "051")."""
        return self.camera_info.code

    @property
    def yaw(self) -> int:
        """Camera yaw in degrees (tpgan spec 6.2)."""
        return self.camera_info.yaw

    @property
    def stem(self) -> str:
        """"SSS_SS_RR_CCC_II", the file name without extension."""
        return (f"{self.subject:03d}_{self.session:02d}_{self.recording:02d}_"
                f"{self.code}_{self.illumination:02d}")

    @property
    def filename(self) -> str:
        return self.stem + ".png"

    @property
    def t5pt_name(self) -> str:
        """"SSS_SS_RR_CCC_trans.5pt": the tpgan spec 1.3 landmark file, shared by all illuminations."""
        return self.stem[:-3] + "_trans.5pt"

    def relative_path(self) -> str:
        """Path relative to the Multi-PIE root, '/' separated (also on Windows)."""
        return "/".join(("data", f"session{self.session:02d}", "multiview",
                         f"{self.subject:03d}", f"{self.recording:02d}", self.camera,
                         self.filename))

    def frontal(self) -> "ImageKey":
        """The ground-truth key of tpgan spec 6.2: camera 05_1, everything else unchanged."""
        return dataclasses.replace(self, camera=cameras.FRONTAL.folder)

    @classmethod
    def parse_filename(cls, name: str) -> "ImageKey":
        """Parse "SSS_SS_RR_CCC_II.png" (or "..._cropped.png"); ValueError names the problem."""
        key, reason = _parse_name(cls, name)
        if key is None:
            raise ValueError(f"{name}: {reason}")
        return key

    @classmethod
    def parse_path(cls, path: str | os.PathLike, root: str | os.PathLike | None = None
                   ) -> "ImageKey":
        """Parse a raw-layout path and check that every folder agrees with the file name.

        `path` is relative to `root` or absolute. An absolute path must lie under `root`;
        without a root, its last 7 components are used. Raises ValueError("<path>: <reason>")
        for a wrong layout, a folder that disagrees with the name, an unknown camera or a bad name.
        """
        p = pathlib.Path(path)
        if p.is_absolute():
            if root is not None:
                try:
                    p = pathlib.Path(os.path.abspath(p)).relative_to(os.path.abspath(root))
                except ValueError:
                    raise ValueError(f"{path}: not under the Multi-PIE root {root}") from None
            else:
                p = pathlib.Path(*p.parts[-_RAW_PARTS:])
        parts = p.as_posix().split("/")
        if len(parts) != _RAW_PARTS:
            raise ValueError(f"{path}: expected data/sessionSS/multiview/SSS/RR/CC_C/<name>.png, "
                             f"got {len(parts)} path components")
        key, reason = _parse_name(cls, parts[-1])
        if key is None:
            raise ValueError(f"{path}: {reason}")
        if parts[-1] != key.filename:  # "_cropped" belongs to FS_aligned, not the raw tree
            raise ValueError(f"{path}: raw file name must be SSS_SS_RR_CCC_II.png")
        expected = key.relative_path().split("/")
        for got, want, what in zip(parts[:-1], expected[:-1], (
                "top", "session", "multiview", "subject", "recording", "camera")):
            if got == want:
                continue
            if what in ("top", "multiview"):
                raise ValueError(f"{path}: {what} folder is {got!r}, expected {want!r}")
            raise ValueError(f"{path}: {what} folder {got!r} disagrees with the file name "
                             f"(expected {want!r})")
        return key


def _parse_name(cls, name: str) -> tuple[ImageKey | None, str]:
    """(key, "") or (None, reason) for a file name."""
    m = _NAME_RE.match(name)
    if m is None:
        return None, "file name does not match SSS_SS_RR_CCC_II.png"
    subject, session, recording, code, illum = (m.group(i) for i in range(1, 6))
    cam = cameras.BY_CODE.get(code)
    if cam is None:
        return None, (f"unknown camera {code!r} (known: "
                      f"{', '.join(c.code for c in cameras.CAMERAS)})")
    if int(session) not in cameras.SESSIONS:
        return None, f"session {int(session)} is not one of {cameras.SESSIONS}"
    if not 0 <= int(illum) < cameras.NUM_ILLUMINATIONS:
        return None, f"illumination {illum} outside 00-{cameras.NUM_ILLUMINATIONS - 1:02d}"
    return cls(int(subject), int(session), int(recording), cam.folder, int(illum)), ""


parse_path = ImageKey.parse_path
parse_filename = ImageKey.parse_filename


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A file or pair left out, with the reason (paths are root-relative, '/' separated)."""

    path: str
    reason: str


class Pair(NamedTuple):
    """(profile input, frontal ground truth) of tpgan spec 6.2."""

    profile: ImageKey
    frontal: ImageKey


def _walk_png(directory: str, rel: str) -> Iterable[tuple[str, str]]:
    """Yield (absolute, root-relative) paths of every .png below `directory`, in sorted order."""
    with os.scandir(directory) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        rel_e = f"{rel}/{e.name}"
        if e.is_dir():
            yield from _walk_png(e.path, rel_e)
        elif e.is_file() and e.name.lower().endswith(".png"):
            yield e.path, rel_e


def scan(root: str | os.PathLike) -> tuple[list[ImageKey], list[Skipped]]:
    """Walk `<root>/data` (sorted, deterministic) and parse every .png.

    Returns (keys, skipped): keys in walk order (sorted paths); every .png that does not parse
    (wrong folder, unknown camera, bad name) goes to `skipped` with its reason. Other files
    are ignored. Raises FileNotFoundError if `<root>/data` does not exist.
    """
    data = os.path.join(os.fspath(root), "data")
    if not os.path.isdir(data):
        raise FileNotFoundError(f"{data}: no Multi-PIE 'data' folder under the root {root}")
    keys, skipped = [], []
    for _, rel in _walk_png(data, "data"):
        try:
            keys.append(ImageKey.parse_path(rel))
        except ValueError as err:
            reason = str(err)
            prefix = f"{rel}: "
            skipped.append(Skipped(rel, reason[len(prefix):] if reason.startswith(prefix)
                                   else reason))
    return keys, skipped


def make_pairs(keys: Iterable[ImageKey], yaw_low: float = 0, yaw_high: float = 90,
               subjects: Iterable[int] | None = None) -> tuple[list[Pair], list[Skipped]]:
    """(profile, frontal) pairs of tpgan spec 6.2, sorted by profile key.

    The frontal (camera 05_1, same subject/session/recording/illumination) is itself a profile,
    so frontal->frontal pairs are included (tpgan spec 5). Keeps yaw_low <= |yaw| <= yaw_high and,
    if given, only `subjects`. A profile whose frontal is not in `keys` is skipped with reason
    "missing frontal <path>".
    """
    if yaw_low > yaw_high:
        raise ValueError(f"yaw_low {yaw_low} > yaw_high {yaw_high}")
    keys = sorted(set(keys))
    present = set(keys)
    wanted = None if subjects is None else set(subjects)
    pairs, skipped = [], []
    for k in keys:
        if not yaw_low <= abs(k.yaw) <= yaw_high:
            continue
        if wanted is not None and k.subject not in wanted:
            continue
        f = k.frontal()
        if f in present:
            pairs.append(Pair(k, f))
        else:
            skipped.append(Skipped(k.relative_path(), f"missing frontal {f.relative_path()}"))
    return pairs, skipped


# tpgan spec 6.3 split boundaries.
SETTING1_TRAIN_SUBJECTS = range(1, 151)  # session 1 only, first 150 subjects
SETTING1_TEST_SUBJECTS = range(151, 251)  # next 100
SETTING2_TRAIN_LAST = 200  # subjects 001-200 train, 201-346 test (issue #4)
NEUTRAL_RECORDING = 1


def setting2_split(subject: int) -> str:
    """Setting 2 (tpgan spec 6.3): subjects 1..200 -> "train", all others -> "test"."""
    return "train" if 1 <= subject <= SETTING2_TRAIN_LAST else "test"


def setting1_split(subject: int) -> str | None:
    """Setting 1 (tpgan spec 6.3): 1..150 -> "train", 151..250 -> "test", others -> None."""
    if subject in SETTING1_TRAIN_SUBJECTS:
        return "train"
    if subject in SETTING1_TEST_SUBJECTS:
        return "test"
    return None


def split_of(key: ImageKey, setting: int) -> str | None:
    """"train", "test" or None (not part of the setting) for one image, tpgan spec 6.3.

    Both settings use the neutral expression only (recording 01). Setting 1: session 1 only.
    Setting 2: sessions 1-4.
    """
    if setting not in (1, 2):
        raise ValueError(f"unknown Multi-PIE setting {setting!r}; expected 1 or 2")
    if key.recording != NEUTRAL_RECORDING:
        return None
    if setting == 1:
        return setting1_split(key.subject) if key.session == 1 else None
    return setting2_split(key.subject) if key.session in cameras.SESSIONS else None


def split_for(key: ImageKey, setting: int, test_subjects_from: int = 0) -> str | None:
    """The split of a key: `split_of(key, setting)`, or, when test_subjects_from > 0, "test"
    for subjects >= that id and "train" for the others (recording 01, every session)."""
    if test_subjects_from > 0:
        if key.recording != NEUTRAL_RECORDING:
            return None
        return "test" if key.subject >= test_subjects_from else "train"
    return split_of(key, setting)


# ---------------------------------------------------------------- input sources of the jobs

@dataclasses.dataclass
class Sources:
    """The images of a records job: their keys, what was skipped while scanning, and per key
    its absolute path, its landmarks (raw-image floats, or `.5pt` integers for `aligned`
    crops; None if missing) and its path relative to the input root."""

    keys: list
    skipped: list
    path_of: object
    points_of: object
    rel_of: object
    aligned: bool


def collect_raw(root: str, landmark_csv: str) -> Sources:
    """The raw layout under `root` with a landmark CSV (tpgan_tf/faces/landmarks.py)."""
    from tpgan_tf.faces.landmarks import read_landmark_csv

    keys, skipped = scan(root)
    points = read_landmark_csv(landmark_csv)
    return Sources(keys, skipped,
                   path_of=lambda k: os.path.join(root, *k.relative_path().split("/")),
                   points_of=lambda k: points.get(k.relative_path()),
                   rel_of=lambda k: k.relative_path(), aligned=False)


def collect_aligned(aligned_dir: str, t5pt_dir: str) -> Sources:
    """The original code's flat `FS_aligned/*_cropped.png` crops and `FS_t5pt/*.5pt` files."""
    import numpy as np

    from tpgan_tf.faces.landmarks import read_5pt

    keys, skipped, names = [], [], {}
    for name in sorted(os.listdir(aligned_dir)):
        if not name.lower().endswith(".png"):
            continue
        stem = name[:-len(".png")]
        if not stem.endswith("_cropped"):
            skipped.append(Skipped(name, "name does not end in _cropped.png"))
            continue
        try:
            key = ImageKey.parse_filename(stem[:-len("_cropped")] + ".png")
        except ValueError as err:
            skipped.append(Skipped(name, str(err)))
            continue
        keys.append(key)
        names[key] = name

    def points_of(key):
        path = os.path.join(t5pt_dir, key.t5pt_name)
        if not os.path.exists(path):
            return None
        try:
            return read_5pt(path).astype(np.int64)
        except ValueError:
            return None

    return Sources(keys, skipped, path_of=lambda k: os.path.join(aligned_dir, names[k]),
                   points_of=points_of, rel_of=lambda k: names[k], aligned=True)
