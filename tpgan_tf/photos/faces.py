"""Where the faces of a photo come from: MTCNN detection (every face, or the largest), a
landmark CSV of the project's format, or the photo itself as a ready crop (`--aligned`)."""
from __future__ import annotations

import dataclasses
import os

import numpy as np

MODES = ("detect", "csv", "aligned")


@dataclasses.dataclass
class FoundFace:
    """One face of a photo: its number (1 = the largest), five points [5, 2] in the photo's
    0-based pixel centres (tpgan spec 1.2 order), MTCNN's box [x0, y0, x1, y1] and
    confidence (None for CSV points and ready crops), and why it is skipped (None: used)."""

    index: int
    landmarks: np.ndarray | None
    box: np.ndarray | None = None
    confidence: float | None = None
    reason: str | None = None

    def record(self) -> dict:
        """The face's part of results.json."""
        return {"face": self.index,
                "landmarks": None if self.landmarks is None else
                np.round(self.landmarks, 2).tolist(),
                "box": None if self.box is None else np.round(self.box, 1).tolist(),
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "skipped": self.reason}


class FaceSource:
    """The faces of each photo (module doc).

    Args:
      mode: "detect" | "csv" | "aligned".
      csv_path: the landmark CSV (mode "csv"; paths relative to the input folder).
      all_faces: every detected face (numbered, largest first), not only the largest usable.
      min_confidence, min_eye_distance: detection.rejection thresholds (None: its defaults);
        a model may ask for another eye distance (small faces for super-resolution).
      aligned_points: the five points of a ready crop in the model's crop (mode "aligned").
    """

    def __init__(self, mode: str, csv_path: str | None = None, all_faces: bool = False,
                 min_confidence: float | None = None, min_eye_distance: float | None = None,
                 aligned_points: np.ndarray | None = None):
        from tpgan_tf.faces import detection

        if mode not in MODES:
            raise ValueError(f"face source must be one of {MODES}, got {mode!r}")
        if all_faces and mode != "detect":
            raise ValueError("--all_faces needs detection (a CSV or a ready crop gives one "
                             "face per photo)")
        self.mode, self.all_faces = mode, all_faces
        self.min_confidence = detection.MIN_CONFIDENCE if min_confidence is None \
            else min_confidence
        self.min_eye_distance = detection.MIN_EYE_DISTANCE if min_eye_distance is None \
            else min_eye_distance
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"--min_confidence must be in [0, 1], got {self.min_confidence}")
        if not self.min_eye_distance >= 0.0:
            raise ValueError(f"--min_eye_distance must be >= 0 pixels, got "
                             f"{self.min_eye_distance}")
        self.table = None
        if mode == "csv":
            from tpgan_tf.faces.landmarks import read_landmark_csv

            if not csv_path or not os.path.isfile(csv_path):
                raise FileNotFoundError(f"{csv_path}: no such landmark CSV (--landmarks)")
            self.table = read_landmark_csv(csv_path)
            self.csv_path = csv_path
        if mode == "detect":
            detection.detector()  # a missing package is an error before the first photo
        self.aligned_points = aligned_points

    def faces(self, rel: str, image: np.ndarray) -> list[FoundFace]:
        """The faces of one photo (rel: its path relative to the input), each with its skip
        reason when it cannot be used; [] never: a photo without a face gives one entry
        with the reason."""
        from tpgan_tf.faces.landmarks import check_landmarks

        height, width = image.shape[:2]
        if self.mode == "aligned":
            # The model's own template points: the applier checks the crop's size.
            return [FoundFace(1, np.asarray(self.aligned_points, np.float64))]
        if self.mode == "csv":
            if rel not in self.table:
                return [FoundFace(1, None, reason=f"no landmarks in {self.csv_path}")]
            found = [FoundFace(1, np.asarray(self.table[rel], np.float64))]
        else:
            found = self._detected(image)
        for face in found:
            if face.reason is None:
                face.reason = check_landmarks(face.landmarks, width, height)
        return found

    def _detected(self, image) -> list[FoundFace]:
        from tpgan_tf.faces import detection

        faces = detection.detect_any_size(image)
        if not faces:
            return [FoundFace(1, None, reason="no face found")]
        found = [FoundFace(k, f.landmarks, f.box, f.confidence,
                           detection.rejection(f, self.min_confidence, self.min_eye_distance))
                 for k, f in enumerate(faces, 1)]
        if self.all_faces:
            return found
        usable = [f for f in found if f.reason is None]
        if usable:
            return usable[:1]
        if len(found) == 1:
            return found
        return [FoundFace(1, None, reason=f"none of {len(found)} faces usable (largest: "
                                          f"{found[0].reason})")]
