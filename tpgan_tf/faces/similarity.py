"""Similarity crops of a face: the 2x3 similarity (rotation, uniform scale, shift; no shear, no
mirror) that maps a face's points onto a template in the least-squares sense, and the warp of
a photo by it into a square crop. numpy / OpenCV only: the records jobs' worker processes use
it (data_prep, no TensorFlow) and so does FSRNet's crop rule (tpgan_tf/models/fsrnet/
crop_rule.py, whose module doc describes the crop)."""
from __future__ import annotations

import math

import numpy as np


def similarity_matrix(points, template) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, shift) that maps points [N, 2] onto
    template [N, 2] with the least summed squared error. In complex numbers: template =
    a points + t, a = sum(conj(P) Q) / sum(|P|^2) over the centred points P, Q."""
    p = np.asarray(points, np.float64)
    q = np.asarray(template, np.float64)
    pc, qc = p - p.mean(axis=0), q - q.mean(axis=0)
    norm = float((pc ** 2).sum())
    if not norm > 0:
        raise ValueError("the face's points coincide: no crop can be made from them")
    a = float((pc * qc).sum()) / norm  # Re(a): cos * scale
    b = float((pc[:, 0] * qc[:, 1] - pc[:, 1] * qc[:, 0]).sum()) / norm  # Im(a)
    lin = np.array([[a, -b], [b, a]])
    return np.hstack([lin, (q.mean(axis=0) - lin @ p.mean(axis=0))[:, None]])


def matrix_scale(matrix) -> float:
    """The scale factor of a 2x3 similarity (crop pixels per photo pixel)."""
    m = np.asarray(matrix, np.float64)
    return math.sqrt(abs(float(np.linalg.det(m[:, :2]))))


def crop_face(image: np.ndarray, matrix, size: int) -> np.ndarray:
    """uint8 [size, size, 3]: the photo (uint8 [H, W, 3]) warped by the 2x3 photo -> crop
    matrix (module doc: antialiased when shrinking, edge pixels repeated outside)."""
    import cv2

    from tpgan_tf.faces.alignment import imresize_antialiased

    m = np.asarray(matrix, np.float64)
    scale = matrix_scale(m)
    src, warp = image, m
    if scale < 1.0:
        # Shrink by exactly `scale` first (pixel centres p -> scale (p + 0.5) - 0.5), only the
        # part the crop reads (its corners + the cubic support), then rotate and shift.
        inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
        c = size - 1
        corners = np.array([[0, 0], [c, 0], [0, c], [c, c]], np.float64) @ inv[:, :2].T \
            + inv[:, 2]
        small = scale * (corners + 0.5) - 0.5
        h, w = image.shape[:2]
        c0, r0 = np.maximum(np.floor(small.min(axis=0)).astype(int) - 3, 0)
        c1, r1 = np.minimum(np.ceil(small.max(axis=0)).astype(int) + 4,
                            [math.ceil(scale * w), math.ceil(scale * h)])
        if c1 <= c0 or r1 <= r0:  # the crop misses the photo: the nearest edge is repeated
            r0 = c0 = 0
            r1 = c1 = None
        src = imresize_antialiased(image, scale, (r0, c0, r1, c1))
        to_small = np.array([[scale, 0.0, 0.5 * scale - 0.5 - c0],
                             [0.0, scale, 0.5 * scale - 0.5 - r0], [0.0, 0.0, 1.0]])
        warp = (np.vstack([m, [0, 0, 1]]) @ np.linalg.inv(to_small))[:2]
    out = cv2.warpAffine(np.asarray(src, np.float32), warp, (size, size),
                         flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
