"""Fusion of the four part outputs on the template canvas (tpgan_tf/models/tpgan/fusion.py,
spec 2.3)."""
import numpy as np
import tensorflow as tf

from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES
from tpgan_tf.models.tpgan.fusion import fuse_parts, place_on_canvas


def test_fusion_places_patch_at_template_and_takes_max():
    parts = {}
    for name in PART_NAMES:
        p = PART_BY_NAME[name]
        parts[name] = np.zeros((1, p.height, p.width, 1), np.float32)
    # A marker in each patch's top-left and bottom-right corner.
    parts["eye_left"][0, 0, 0, 0] = 5.0
    parts["eye_left"][0, -1, -1, 0] = 6.0
    parts["mouth"][0, 0, 0, 0] = 7.0
    parts["mouth"][0, -1, -1, 0] = 8.0
    parts["eye_right"][0, 0, 0, 0] = -3.0  # negative: max with the zero padding -> 0 (ReLU)
    # Overlap: nose rows 48-59 overlap the eyes (rows 20-59). Put 2 in the nose and 1 in the
    # left eye at the same canvas pixel (row 50, col 50) and check the max wins.
    parts["nose"][0, 50 - 48, 50 - 43, 0] = 2.0
    parts["eye_left"][0, 50 - 20, 50 - 23, 0] = 1.0
    canvas = fuse_parts({k: tf.constant(v) for k, v in parts.items()}).numpy()[0, :, :, 0]
    assert canvas.shape == (128, 128)
    # spec 2.3 table: canvas rows/cols (0-based, inclusive).
    assert canvas[20, 23] == 5.0 and canvas[59, 62] == 6.0  # left eye 20-59 x 23-62
    assert canvas[72, 40] == 7.0 and canvas[103, 87] == 8.0  # mouth 72-103 x 40-87
    assert canvas[20, 65] == 0.0  # right eye 20-59 x 65-104, negative value clipped
    assert canvas[50, 50] == 2.0
    assert np.count_nonzero(canvas) == 5


def test_place_on_canvas_pads_to_the_part_window():
    for name in PART_NAMES:
        p = PART_BY_NAME[name]
        patch = tf.ones([2, p.height, p.width, 3])
        canvas = place_on_canvas(patch, name).numpy()
        assert canvas.shape == (2, 128, 128, 3)
        (top, bottom), (left, right) = p.paddings
        assert canvas[:, top:128 - bottom, left:128 - right].min() == 1.0
        assert canvas.sum() == 2 * 3 * p.height * p.width, name
