"""Face detection in photos: MTCNN boxes, confidences and the five points of tpgan spec 1.2.

The detector is MTCNN (Zhang et al. 2016), the one the TP-GAN authors used for their 5-point
landmarks (tpgan spec 6.4), through the `mtcnn` package (MIT licence, TensorFlow/Keras, its ~2 MB
weights ship inside the wheel: nothing is downloaded). It is loaded once, on first use.

Conventions (tpgan_tf/faces/landmarks.py): points are 0-based pixel centres (x, y) of the
photo, in the order of tpgan spec 1.2: left eye, right eye, nose tip, left mouth corner, right mouth
corner, "left" = image-left (smaller x). The package's own points are 0-based pixel centres:
on the left-right mirrored astronaut test photo (tests/data/README.md) a point x comes back at
W - 1 - x + e with |e| <= 1.4 px and mean e = +0.6 px (a 1-based output would give e = +2), so
no shift is applied.

Thresholds (used by `rejection`; choices made here, not from the spec):
  MIN_CONFIDENCE = 0.9, on MTCNN's final-stage probability: drops weak detections (the detector
    keeps candidates down to ONET_THRESHOLD = 0.7, so these are reported as "low confidence"
    instead of silently missing). Measured: the real portraits tried score 0.999 (astronaut)
    and 0.989 (Grace Hopper, US Navy); the synthetic faces 0.90-1.0 at every yaw, so the
    confidence does not flag turned faces (their points are off, see the README).
  MIN_EYE_DISTANCE = 20 px between the eye points in the photo. The tpgan spec 1.2 crop has the eyes
    42.8 px apart (template), so below 20 px the crop is enlarged more than 2x and is mostly
    interpolation. It is about detail, not the points: on the astronaut shrunk to 11 px between
    the eyes MTCNN's points stay within 0.3 px (of the small image) of the full-size ones.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

MIN_CONFIDENCE = 0.9
MIN_EYE_DISTANCE = 20.0
# MTCNN search parameters. The smallest face box searched: the package's (and the original's)
# default, about 10 px between the eyes, so that smaller-than-usable faces are still found and
# reported as too small. Stage-3 threshold: the original MTCNN's 0.7 (the package uses 0.8).
MIN_FACE_SIZE = 20
ONET_THRESHOLD = 0.7
INSTALL_HINT = "pip install mtcnn"

_DETECTOR = None


@dataclasses.dataclass(frozen=True, eq=False)
class Face:
    """One detected face.

    box: float64 [4] (x0, y0, x1, y1), MTCNN's box clipped to the photo (0-based pixels).
    confidence: MTCNN's final-stage face probability in [0, 1].
    landmarks: float64 [5, 2] (x, y), 0-based pixel centres, tpgan spec 1.2 order.
    """

    box: np.ndarray
    confidence: float
    landmarks: np.ndarray

    @property
    def area(self) -> float:
        """Box area in square pixels (faces are sorted by it, largest first)."""
        return float(max(self.box[2] - self.box[0], 0.0) * max(self.box[3] - self.box[1], 0.0))

    @property
    def eye_distance(self) -> float:
        """Distance between the two eye points in pixels."""
        return float(np.hypot(*(self.landmarks[1] - self.landmarks[0])))


def detector():
    """The MTCNN detector, created on the first call (weights from the installed package).

    Raises ImportError with the pip command if the `mtcnn` package is missing.
    """
    global _DETECTOR
    if _DETECTOR is None:
        try:
            from mtcnn import MTCNN
        except ImportError as err:
            raise ImportError(f"face detection needs the mtcnn package: {INSTALL_HINT} "
                              f"({err})") from err
        _DETECTOR = MTCNN(device="CPU:0")
    return _DETECTOR


def spec_order(points) -> np.ndarray:
    """[5, 2] (eye, eye, nose, mouth corner, mouth corner) -> the tpgan spec 1.2 order: eyes and mouth
    corners each sorted by x (image-left first), whatever order the detector used."""
    p = np.asarray(points, dtype=np.float64)
    eyes = p[0:2][np.argsort(p[0:2, 0], kind="stable")]
    mouth = p[3:5][np.argsort(p[3:5, 0], kind="stable")]
    return np.stack([eyes[0], eyes[1], p[2], mouth[0], mouth[1]])


def _check_image(image_rgb) -> np.ndarray:
    img = np.asarray(image_rgb)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 [H, W, 3] image, got {img.dtype} {img.shape}")
    return np.ascontiguousarray(img)


def detect(image_rgb: np.ndarray, min_face_size: int = MIN_FACE_SIZE) -> list[Face]:
    """Every face MTCNN finds in an RGB uint8 [H, W, 3] photo, largest box first.

    No thresholds beyond the detector's own are applied (see `rejection`). A photo smaller
    than min_face_size on a side, or with no face, gives []. ValueError for a non-RGB array.
    """
    img = _check_image(image_rgb)
    if min(img.shape[:2]) < min_face_size:
        return []
    rows = detector().detect_faces(img, output_type="numpy", box_format="xyxy",
                                   min_face_size=min_face_size, threshold_onet=ONET_THRESHOLD)
    # One row per face: image index, x0, y0, x1, y1, confidence, then the five x and five y of
    # left eye, right eye, nose, left mouth corner, right mouth corner.
    faces = []
    for row in np.asarray(rows, dtype=np.float64).reshape(-1, 16):
        points = np.stack([row[6:11], row[11:16]], axis=1)
        faces.append(Face(box=row[1:5].copy(), confidence=float(row[5]),
                          landmarks=spec_order(points)))
    return sorted(faces, key=lambda f: -f.area)


def _scaled(face: Face, scale: float) -> Face:
    """A face found on a copy enlarged by `scale`, in the original photo's pixel centres:
    x = (x' + 0.5) / scale - 0.5."""
    to_photo = lambda v: (np.asarray(v, np.float64) + 0.5) / scale - 0.5  # noqa: E731
    box = np.asarray(face.box, np.float64) / scale  # box edges, not pixel centres
    return Face(box=box, confidence=face.confidence, landmarks=to_photo(face.landmarks))


def detect_any_size(image_rgb: np.ndarray, upscales=(2, 4), max_side: int = 2400
                    ) -> list[Face]:
    """`detect`, then, when no face is found, again on copies enlarged by each factor of
    `upscales` in turn (bicubic; none larger than max_side pixels), with the points mapped
    back to the photo. For faces below MTCNN's smallest window (e.g. the 12-40 px faces
    super-resolution is asked for). Largest face first.

    Measured on the astronaut test photo shrunk step by step (INTER_AREA): MTCNN alone finds
    her down to a box 10 px wide (eye distance 5.8 px); with the enlarged copies down to a
    box 5.9 px wide (eye distance 2.9 px), the points within 0.9 px of the shrunk full-size
    ones; at 5 px no longer."""
    import cv2

    img = _check_image(image_rgb)
    faces = detect(img)
    height, width = img.shape[:2]
    for scale in upscales:
        if faces or max(height, width) * scale > max_side:
            break
        bigger = cv2.resize(img, (int(round(width * scale)), int(round(height * scale))),
                            interpolation=cv2.INTER_CUBIC)
        faces = [_scaled(f, scale) for f in detect(bigger)]
    return faces


def rejection(face: Face, min_confidence: float = MIN_CONFIDENCE,
              min_eye_distance: float = MIN_EYE_DISTANCE) -> str | None:
    """None if the face is usable for frontalization, else the reason (for the skip list)."""
    if not (math.isfinite(face.confidence) and face.confidence >= min_confidence):
        return f"low confidence ({face.confidence:.3f} < {min_confidence:g})"
    if not face.eye_distance >= min_eye_distance:
        return f"face too small (eye distance {face.eye_distance:.1f} px < {min_eye_distance:g} px)"
    return None


def detect_landmarks(image_rgb: np.ndarray, min_confidence: float = MIN_CONFIDENCE,
                     min_eye_distance: float = MIN_EYE_DISTANCE) -> list[np.ndarray]:
    """The [5, 2] landmarks of every usable face (passing `rejection`), largest first."""
    return [f.landmarks for f in detect(image_rgb)
            if rejection(f, min_confidence, min_eye_distance) is None]
