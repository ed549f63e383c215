"""The 13 Multi-PIE cameras within +-90 degrees of yaw (tpgan spec 6.2) and the nose-offset
table (tpgan spec 1.4).

Camera ids are written three ways in Multi-PIE and the original code:
  folder  "05_1"  (raw layout `.../multiview/SSS/RR/05_1/`)
  code    "051"   (file names, `SSS_SS_RR_051_II.png`)
Yaw is in degrees; positive yaw = the face turned so it looks toward image-right after
alignment (the side the original mirrors every input to, tpgan spec 1.1).
"""
from __future__ import annotations

import dataclasses

from tpgan_tf.faces.parts import POSE_INDEPENDENT_NOSE_OFFSET


@dataclasses.dataclass(frozen=True)
class Camera:
    folder: str  # "05_1"
    yaw: int  # degrees, tpgan spec 6.2
    nose_offset: int  # `o` of tpgan spec 1.4: the nose patch spans columns [x - o + 1, x - o + 41)

    @property
    def code(self) -> str:
        """The 3-digit id used in file names: "05_1" -> "051"."""
        return self.folder.replace("_", "")


# tpgan spec 6.2 (yaw) and tpgan spec 1.4 (nose column offset o), in yaw order.
CAMERAS = (
    Camera("11_0", -90, 8),
    Camera("12_0", -75, 8),
    Camera("09_0", -60, 8),
    Camera("08_0", -45, 10),
    Camera("13_0", -30, 10),
    Camera("14_0", -15, 15),
    Camera("05_1", 0, 20),
    Camera("05_0", 15, 25),
    Camera("04_1", 30, 30),
    Camera("19_0", 45, 30),
    Camera("20_0", 60, 32),
    Camera("01_0", 75, 32),
    Camera("24_0", 90, 32),
)
BY_FOLDER = {c.folder: c for c in CAMERAS}
BY_CODE = {c.code: c for c in CAMERAS}
FRONTAL = BY_FOLDER["05_1"]
NUM_ILLUMINATIONS = 20  # flashes 00..19
SESSIONS = (1, 2, 3, 4)


def camera_from_code(code: str) -> Camera:
    """"051" or "05_1" -> Camera; raises KeyError naming the unknown id."""
    cam = BY_CODE.get(code) or BY_FOLDER.get(code)
    if cam is None:
        raise KeyError(f"unknown Multi-PIE camera {code!r}; known: "
                       f"{', '.join(c.folder for c in CAMERAS)}")
    return cam


def nose_offset_for(camera: str | None, ground_truth: bool = False) -> int:
    """Nose column offset `o` of tpgan spec 1.4 for a camera ("051" or "05_1").

    Ground-truth (frontal) patches, unknown cameras and None (in-the-wild photos) use the
    pose-independent rule o = 20.
    """
    if ground_truth or camera is None:
        return POSE_INDEPENDENT_NOSE_OFFSET
    cam = BY_CODE.get(camera) or BY_FOLDER.get(camera)
    return cam.nose_offset if cam is not None else POSE_INDEPENDENT_NOSE_OFFSET
