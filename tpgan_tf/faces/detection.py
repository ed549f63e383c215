"""Face detection for photos (5 points per face). The dlib path below is replaced by MTCNN
(issue 10)."""
from __future__ import annotations

import numpy as np

from tpgan_tf.faces.landmarks import five_from_68

_DLIB_MODELS = None
_INSTALL_HINT = "pip install dlib-bin face-recognition-models"


def _dlib_models():
    """(detector, 68-point predictor), loaded once from the installed packages (no download)."""
    global _DLIB_MODELS
    if _DLIB_MODELS is None:
        try:
            import dlib
            import face_recognition_models
        except ImportError as err:
            raise ImportError(f"landmark detection needs dlib and its 68-point model: "
                              f"{_INSTALL_HINT} ({err})") from err
        predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
        _DLIB_MODELS = (dlib.get_frontal_face_detector(), predictor)
    return _DLIB_MODELS


def detect_landmarks(image_rgb: np.ndarray, upsample: int = 1) -> list[np.ndarray]:
    """Detect faces in an RGB uint8 [H, W, 3] photo -> list of [5, 2] float64 (0-based).

    Uses dlib's HOG face detector and the 68-point model shipped in `face_recognition_models`
    (optional extras, imported lazily; nothing is downloaded). Faces are sorted by detection
    box area, largest first. Raises ImportError with the pip command if the extras are missing.
    """
    img = np.asarray(image_rgb)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 [H, W, 3] image, got {img.dtype} {img.shape}")
    detector, predictor = _dlib_models()
    img = np.ascontiguousarray(img)
    rects = sorted(detector(img, upsample), key=lambda r: -r.area())
    faces = []
    for rect in rects:
        shape = predictor(img, rect)
        pts = np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], np.float64)
        faces.append(five_from_68(pts))
    return faces
