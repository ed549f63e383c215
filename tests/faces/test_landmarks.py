"""Five-point landmarks (tpgan_tf/faces/landmarks.py): the CSV and `.5pt` formats, checks,
index-point conventions, 68 -> 5 points, mirroring and the facing side."""
from __future__ import annotations

import os

import numpy as np
import pytest

from data_prep.multipie import ImageKey
from tpgan_tf.faces import landmarks as lmk
from tpgan_tf.faces.parts import mirror_image

# `.5pt` convention integers (used directly as 0-based indices, as in the original).
LM = np.array([[44, 41], [86, 41], [64, 65], [48, 89], [83, 90]])


def _pattern(size=128):
    """Channel 0 = row * 1000 + col, channel 1 = 1."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    return np.stack([rows * 1000 + cols, np.ones_like(rows)], axis=-1)


def test_landmark_csv_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    mapping = {ImageKey(s, 1, 1, "05_1", 7).relative_path(): rng.uniform(0, 640, (5, 2))
               for s in (3, 1, 2)}
    mapping[ImageKey(4, 1, 1, "05_1", 7).relative_path()] = np.full((5, 2), np.nan)
    path = tmp_path / "lm.csv"
    lmk.write_landmark_csv(path, mapping)
    lines = path.read_text().splitlines()
    assert lines[0] == "path,x0,y0,x1,y1,x2,y2,x3,y3,x4,y4"
    assert lines[1].startswith("data/session01/multiview/001/01/05_1/001_01_01_051_07.png,")
    back = lmk.read_landmark_csv(path)
    assert sorted(back) == sorted(mapping)
    for k, v in mapping.items():
        np.testing.assert_array_equal(back[k], v)  # exact, NaN included


@pytest.mark.parametrize("row, problem", [
    ("data/a.png,1,2,3", "expected 11 columns"),
    ("data/a.png,1,2,3,4,5,6,7,8,9,ten", "must be numbers"),
    ("/abs/a.png,1,2,3,4,5,6,7,8,9,10", "bad image path"),
    ("data\\a.png,1,2,3,4,5,6,7,8,9,10", "bad image path"),
    ("data/b.png,1,2,3,4,5,6,7,8,9,10", "duplicate entry for data/b.png (first on line 2)"),
])
def test_landmark_csv_bad_row_names_file_and_line(tmp_path, row, problem):
    path = tmp_path / "bad.csv"
    path.write_text("path,x0,y0,x1,y1,x2,y2,x3,y3,x4,y4\n"
                    "data/b.png,1,2,3,4,5,6,7,8,9,10\n" + row + "\n")
    with pytest.raises(ValueError) as err:
        lmk.read_landmark_csv(path)
    assert f"{path}:3:" in str(err.value) and problem in str(err.value)


def test_landmark_csv_bad_header(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("path,x,y\n")
    with pytest.raises(ValueError, match=r"bad\.csv:1: header"):
        lmk.read_landmark_csv(path)


def test_check_landmarks():
    ok = np.array([[10, 10], [20, 10], [15, 15], [11, 20], [19, 20]], np.float64)
    assert lmk.check_landmarks(ok, 640, 480) is None
    bad = ok.copy()
    bad[3] = (700.5, 20)
    assert lmk.check_landmarks(bad, 640, 480) == \
        "landmark 3 (x=700.5, y=20) outside the 640x480 image"
    bad = ok.copy()
    bad[2, 1] = np.nan
    assert "landmark 2" in lmk.check_landmarks(bad, 640, 480)
    assert "not finite" in lmk.check_landmarks(bad, 640, 480)
    assert "wrong shape (4, 2)" in lmk.check_landmarks(ok[:4], 640, 480)
    edge = ok.copy()
    edge[4] = (639.5, 479.5)  # the far edge of the last pixel is still inside
    assert lmk.check_landmarks(edge, 640, 480) is None


def test_read_5pt_spec_example(tmp_path):
    path = os.path.join(tmp_path, ImageKey.parse_filename("201_01_01_010_07_cropped.png").t5pt_name)
    assert os.path.basename(path) == "201_01_01_010_trans.5pt"
    with open(path, "w") as f:
        f.write("56 41\n68 39\n85 66\n61 92\n72 90\n")
    pts = lmk.read_5pt(path)
    assert pts.dtype == np.float64
    np.testing.assert_array_equal(pts, [[56, 41], [68, 39], [85, 66], [61, 92], [72, 90]])
    # One file for every illumination of the view (tpgan spec 1.3).
    assert os.path.join(tmp_path, ImageKey(201, 1, 1, "01_0", 3).t5pt_name) == path
    lmk.write_5pt(tmp_path / "w.5pt", pts.astype(int))
    np.testing.assert_array_equal(lmk.read_5pt(tmp_path / "w.5pt"), pts)


def test_read_5pt_errors(tmp_path):
    p = tmp_path / "x_trans.5pt"
    p.write_text("56 41\n68\n")
    with pytest.raises(ValueError, match=r"x_trans\.5pt:2:"):
        lmk.read_5pt(p)
    p.write_text("56 41\n68 39.5\n")
    with pytest.raises(ValueError, match=r"x_trans\.5pt:2: 'x y' must be integers"):
        lmk.read_5pt(p)
    p.write_text("56 41\n68 39\n")
    with pytest.raises(ValueError, match="expected 5 landmark lines, found 2"):
        lmk.read_5pt(p)


def test_index_point_conventions():
    pts0 = np.array([[63.5, 39.49], [-0.5, 2.5], [0, 0], [1.2, 3.8], [126.6, 127.0]])
    np.testing.assert_array_equal(lmk.round_half_away(pts0),
                                  [[64, 39], [-1, 3], [0, 0], [1, 4], [127, 127]])
    np.testing.assert_array_equal(lmk.to_index_points(pts0),
                                  [[65, 40], [0, 4], [1, 1], [2, 5], [128, 128]])
    np.testing.assert_array_equal(lmk.from_index_points([[65, 41]]), [[64.0, 40.0]])


def test_five_from_68():
    p = np.zeros((68, 2))
    # Eye points 36-41 on the image-RIGHT (larger x), 42-47 on the left: output must reorder.
    p[36:42] = [[100, 50], [102, 48], [104, 48], [106, 50], [104, 52], [102, 52]]  # mean (103, 50)
    p[42:48] = [[40, 60], [42, 58], [44, 58], [46, 60], [44, 62], [42, 62]]  # mean (43, 60)
    p[30] = (70, 80)
    p[48] = (95, 110)
    p[54] = (50, 112)
    five = lmk.five_from_68(p)
    np.testing.assert_allclose(five, [[43, 60], [103, 50], [70, 80], [50, 112], [95, 110]])
    with pytest.raises(ValueError, match="68"):
        lmk.five_from_68(p[:67])


def test_mirror_landmarks_zero_based():
    img = _pattern()
    pts0 = np.array([[40.0, 40.0], [90.0, 41.0], [70.0, 64.0], [50.0, 88.0], [80.0, 90.0]])
    m = lmk.mirror_landmarks(pts0, 128)  # 0-based: x -> 127 - x
    np.testing.assert_array_equal(m, [[37, 41], [87, 40], [57, 64], [47, 90], [77, 88]])
    m_img = mirror_image(img)
    for (x, y), (mx, my) in zip(pts0[[1, 0, 2, 4, 3]].astype(int), m.astype(int)):
        assert m_img[my, mx, 0] == img[y, x, 0]
    # Mirroring twice is the identity in both conventions.
    np.testing.assert_array_equal(lmk.mirror_landmarks(m, 128), pts0)
    np.testing.assert_array_equal(lmk.mirror_landmarks(lmk.mirror_landmarks(LM, 128, one_based=True),
                                                       128, one_based=True), LM)


def test_mirror_landmarks_of_a_raw_photo_and_bad_shape():
    assert lmk.MIRROR_ORDER == (1, 0, 2, 4, 3)  # eyes and mouth corners swap (spec 1.4)
    pts0 = np.array([[100.0, 50.0], [150.0, 52.0], [140.0, 80.0], [110.0, 110.0],
                     [145.0, 111.0]])
    m = lmk.mirror_landmarks(pts0, 320)  # x -> 319 - x
    np.testing.assert_array_equal(m, [[169, 52], [219, 50], [179, 80], [174, 111], [209, 110]])
    one = lmk.mirror_landmarks(pts0 + 1, 320, one_based=True)  # x -> 321 - x
    np.testing.assert_array_equal(one, m + 1)
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        lmk.mirror_landmarks(pts0[:4], 320)


def test_faces_left_by_hand():
    right = np.array([[50.2, 41.0], [82.7, 40.4], [78.4, 64.6], [55.5, 88.1], [80.49, 88.6]])
    assert not lmk.faces_left(right)  # nose right of the eye midpoint 66.45
    assert lmk.faces_left(lmk.mirror_landmarks(right, 128))
    frontal = right.copy()
    frontal[2, 0] = 0.5 * (frontal[0, 0] + frontal[1, 0])  # a tie is not "left"
    assert not lmk.faces_left(frontal)
