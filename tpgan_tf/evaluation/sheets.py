"""Picture sheets: rows of same-sized RGB images with a caption above each row and column
titles, written as PNG (OpenCV; the pixels are copied, never resampled)."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from tpgan_tf.core import files

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img, text, org, scale=0.45, colour=(20, 20, 20)):
    cv2.putText(img, text, org, _FONT, scale, colour, 1, cv2.LINE_AA)


def text_width(text: str, scale: float = 0.5) -> int:
    """Width in pixels of `text` as _text draws it."""
    return cv2.getTextSize(text, _FONT, scale, 1)[0][0]


def write_png(path: str, image_rgb: np.ndarray) -> None:
    """An RGB uint8 image as PNG, atomically."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(np.asarray(image_rgb)[:, :, ::-1]))
    if not ok:
        raise RuntimeError(f"{path}: PNG encoding failed")
    files.write_bytes_atomic(path, data.tobytes())


def picture_sheet(rows: Sequence[tuple[str, Sequence[np.ndarray]]], column_titles: Sequence[str],
                  title: str) -> np.ndarray:
    """rows: (caption, [image uint8 [h, w, 3] per column]) -> the sheet, RGB uint8.

    Every image of a sheet must have the same size; grey (1-channel) images are repeated to RGB.
    """
    if not rows:
        raise ValueError("a picture sheet needs at least one row")
    first = np.asarray(rows[0][1][0])
    h, w = first.shape[:2]
    cols = len(column_titles)
    pad, caption, header = 6, 18, 40
    width = max(cols * (w + pad) + pad, text_width(title) + 2 * pad)
    height = header + len(rows) * (caption + h + pad) + pad
    sheet = np.full((height, width, 3), 255, np.uint8)
    _text(sheet, title, (pad, 16), 0.5)
    for c, name in enumerate(column_titles):
        _text(sheet, name, (pad + c * (w + pad) + 4, header - 6))
    for r, (text, images) in enumerate(rows):
        if len(images) != cols:
            raise ValueError(f"row {r} has {len(images)} images for {cols} columns")
        y = header + r * (caption + h + pad)
        _text(sheet, text, (pad, y + caption - 5), 0.4, (90, 90, 90))
        for c, image in enumerate(images):
            image = np.asarray(image)
            if image.ndim == 2 or image.shape[-1] == 1:
                image = np.repeat(image.reshape(h, w, 1), 3, axis=2)
            if image.shape[:2] != (h, w):
                raise ValueError(f"sheet images must all be {w}x{h}, got {image.shape}")
            x = pad + c * (w + pad)
            sheet[y + caption:y + caption + h, x:x + w] = image
    return sheet
