"""Photos in and pictures out: finding photos, reading them as displayed, atomic writes."""
from __future__ import annotations

import os

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


def find_photos(input_path: str) -> tuple[str, list[str]]:
    """(root, sorted photo paths relative to root with '/' separators) of a photo or a folder
    (searched recursively for IMAGE_EXTENSIONS). FileNotFoundError names a missing input."""
    if os.path.isfile(input_path):
        return os.path.dirname(os.path.abspath(input_path)), [os.path.basename(input_path)]
    if not os.path.isdir(input_path):
        raise FileNotFoundError(f"{input_path}: no such photo or folder")
    found = []
    for folder, dirs, names in os.walk(input_path):
        dirs.sort()
        for name in sorted(names):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                rel = os.path.relpath(os.path.join(folder, name), input_path)
                found.append(rel.replace(os.sep, "/"))
    return os.path.abspath(input_path), found


def decode(data: bytes, flags: int | None = None) -> np.ndarray | None:
    """RGB uint8 [H, W, 3] of encoded image bytes (EXIF orientation applied unless `flags`
    says otherwise), or None when they do not decode."""
    import cv2

    mode = cv2.IMREAD_COLOR if flags is None else flags
    image = cv2.imdecode(np.frombuffer(data, np.uint8), mode)
    return None if image is None else np.ascontiguousarray(image[:, :, ::-1])


def encode_png(image_rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB (or grey) uint8 image."""
    import cv2

    image = np.asarray(image_rgb)
    bgr = image[:, :, ::-1] if image.ndim == 3 else image
    ok, png = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise OSError("could not encode a PNG")
    return png.tobytes()


def photo_bytes_and_image(data: bytes) -> tuple[bytes, np.ndarray | None]:
    """(bytes for a model, RGB uint8 [H, W, 3] they decode to) of an encoded photo.

    The image is the photo as displayed (EXIF orientation applied). When that differs from
    the stored pixels (which is what TensorFlow's decoder gives), the bytes are the displayed
    image re-encoded as PNG, so that points found on the displayed image fit what a model
    decodes. (data, None) if the photo cannot be decoded.
    """
    import cv2

    image = decode(data)
    if image is None:
        return data, None
    stored = decode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if stored is None or stored.shape != image.shape or not np.array_equal(stored, image):
        data = encode_png(image)
    return data, image


def read_photo(path: str) -> tuple[bytes, np.ndarray | None]:
    """photo_bytes_and_image of a file (FileNotFoundError names a missing one)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such image file")
    with open(path, "rb") as f:
        return photo_bytes_and_image(f.read())


def write_output(path: str, value) -> str:
    """Writes one output atomically: uint8 images as PNG, bytes as they are (already
    encoded), other arrays as .npy. Returns the path written (with its extension)."""
    from tpgan_tf.core.files import write_bytes_atomic

    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    if isinstance(value, (bytes, bytearray)):
        return write_bytes_atomic(f"{path}.png", bytes(value))
    array = np.asarray(value)
    if array.dtype == np.uint8 and array.ndim in (2, 3):
        return write_bytes_atomic(f"{path}.png", encode_png(array))
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return write_bytes_atomic(f"{path}.npy", buffer.getvalue())


SHEET_GAP = 4  # grey pixels between the two halves of a sheet


def make_sheet(left_rgb: np.ndarray, right_rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 [h, w1 + gap + w2, 3]: two pictures of one height side by side."""
    gap = np.full((left_rgb.shape[0], SHEET_GAP, 3), 128, np.uint8)
    return np.concatenate([left_rgb, gap, right_rgb], axis=1)
