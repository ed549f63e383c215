"""The Multi-PIE camera table (data_prep/cameras.py): yaws of tpgan spec 6.2 and the nose offsets of
spec 1.4, checked on the patch they cut (tpgan_tf/faces/parts.py)."""
from __future__ import annotations

import numpy as np
import pytest

from data_prep import cameras
from tpgan_tf.faces.parts import crop_parts

# `.5pt` convention integers (used directly as 0-based indices, as in the original).
LM = np.array([[44, 41], [86, 41], [64, 65], [48, 89], [83, 90]])
NOSE_TABLE = {"051": 20, "050": 25, "140": 15, "041": 30, "190": 30, "130": 10, "080": 10,
              "200": 32, "010": 32, "240": 32, "090": 8, "120": 8, "110": 8}  # spec 1.4


def _pattern(size=128):
    """Channel 0 = row * 1000 + col, channel 1 = 1 (zero padding visible)."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    return np.stack([rows * 1000 + cols, np.ones_like(rows)], axis=-1)


def test_nose_offset_table_and_tip_column():
    img = _pattern()
    assert len(NOSE_TABLE) == 13
    for code, o in NOSE_TABLE.items():
        assert cameras.nose_offset_for(code) == o
        assert cameras.nose_offset_for(code[:2] + "_" + code[2]) == o  # folder form "05_0"
        assert cameras.nose_offset_for(code, ground_truth=True) == 20
        nose = crop_parts(img, LM, cameras.nose_offset_for(code))[0]["nose"]
        assert nose[21, o - 1, 0] == 65 * 1000 + 64  # tip at column o - 1 (spec 1.4)
    assert cameras.nose_offset_for(None) == 20
    assert cameras.nose_offset_for("081") == 20  # unknown camera: pose-independent rule


def test_camera_table_yaws_and_lookup():
    # spec 6.2: 13 cameras from -90 to +90 in steps of 15, 05_1 the frontal one.
    assert [c.yaw for c in cameras.CAMERAS] == list(range(-90, 91, 15))
    assert cameras.FRONTAL.folder == "05_1" and cameras.FRONTAL.yaw == 0
    assert cameras.camera_from_code("050") is cameras.camera_from_code("05_0")
    assert cameras.camera_from_code("240").yaw == 90 and cameras.BY_CODE["110"].yaw == -90
    with pytest.raises(KeyError, match="unknown Multi-PIE camera '081'"):
        cameras.camera_from_code("081")
