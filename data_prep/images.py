"""Reading input images for the records jobs: RGB uint8, or the reason a file is unusable."""
from __future__ import annotations

import os

import cv2
import numpy as np


def read_image(path: str) -> tuple[np.ndarray | None, str | None]:
    """(RGB uint8 [H, W, 3], None), or (None, reason) for a missing, empty or corrupt file."""
    try:
        size = os.path.getsize(path)
    except OSError as err:
        return None, f"cannot read file ({err.strerror})"
    if size == 0:
        return None, "empty file (0 bytes)"
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        return None, "unreadable image (corrupt, truncated or not an image)"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), None


def read_label_map(path: str) -> tuple[np.ndarray | None, str | None]:
    """(uint8 [H, W] label map, None) from a single-channel PNG (a colour PNG must be grey:
    all three channels equal), or (None, reason)."""
    try:
        size = os.path.getsize(path)
    except OSError as err:
        return None, f"cannot read file ({err.strerror})"
    if size == 0:
        return None, "empty file (0 bytes)"
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        return None, "unreadable label map (corrupt, truncated or not an image)"
    if image.ndim == 3:
        if not (np.array_equal(image[..., 0], image[..., 1])
                and np.array_equal(image[..., 0], image[..., 2])):
            return None, "label map is a colour image (expected one channel of label ids)"
        image = image[..., 0]
    if image.dtype != np.uint8:
        return None, f"label map has dtype {image.dtype}, expected 8-bit label ids"
    return image, None
