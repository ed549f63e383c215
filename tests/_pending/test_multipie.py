"""Multi-PIE raw-layout reader (data_prep/multipie.py) and landmark files (landmarks.py)."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from data_prep import landmarks as lmk
from data_prep import multipie as mp
from data_prep.multipie import ImageKey


def _write_png(root, rel):
    path = os.path.join(root, *rel.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, np.full((4, 4, 3), 7, np.uint8))
    return rel


def test_parse_path_round_trip_and_properties(tmp_path):
    rel = "data/session02/multiview/201/01/01_0/201_02_01_010_07.png"
    key = mp.parse_path(rel)
    assert key == ImageKey(201, 2, 1, "01_0", 7)
    assert (key.code, key.yaw, key.stem) == ("010", 75, "201_02_01_010_07")
    assert key.relative_path() == rel
    assert key.t5pt_name == "201_02_01_010_trans.5pt"
    assert key.frontal() == ImageKey(201, 2, 1, "05_1", 7)
    # Absolute path under a root, and without a root (last 7 components).
    absolute = os.path.join(str(tmp_path), *rel.split("/"))
    assert mp.parse_path(absolute, tmp_path) == key
    assert mp.parse_path(absolute) == key
    assert ImageKey.parse_filename("201_02_01_010_07_cropped.png") == key


@pytest.mark.parametrize("rel, reason", [
    ("data/session01/multiview/001/01/05_0/001_01_01_051_07.png", "camera folder '05_0'"),
    ("data/session02/multiview/001/01/05_1/001_01_01_051_07.png", "session folder 'session02'"),
    ("data/session01/multiview/002/01/05_1/001_01_01_051_07.png", "subject folder '002'"),
    ("data/session01/multiview/001/02/05_1/001_01_01_051_07.png", "recording folder '02'"),
    ("data/session01/multiview/001/01/08_1/001_01_01_081_07.png", "unknown camera '081'"),
    ("data/session01/multiview/001/01/05_1/001_01_01_051.png", "does not match"),
    ("data/session01/multiview/001/01/05_1/001_01_01_051_25.png", "illumination 25"),
    ("data/session01/001/01/05_1/001_01_01_051_07.png", "got 6 path components"),
    ("data/session01/singleview/001/01/05_1/001_01_01_051_07.png", "multiview folder"),
])
def test_parse_path_rejects_with_reason(rel, reason):
    with pytest.raises(ValueError) as err:
        mp.parse_path(rel)
    assert rel in str(err.value) and reason in str(err.value)


def test_parse_path_outside_root(tmp_path):
    with pytest.raises(ValueError, match="not under the Multi-PIE root"):
        mp.parse_path("/elsewhere/data/session01/multiview/001/01/05_1/001_01_01_051_07.png",
                      tmp_path)


@pytest.fixture
def fake_tree(tmp_path):
    """Subjects 1 and 201, session 1; one frontal missing; three bad files."""
    root = str(tmp_path)
    good = []
    for subject in (1, 201):
        for cam in ("05_1", "05_0", "14_0", "20_0", "24_0"):
            for illum in (0, 7):
                good.append(_write_png(root, ImageKey(subject, 1, 1, cam, illum).relative_path()))
    # Subject 1 illumination 7 in session 2: profiles only, no frontal.
    good.append(_write_png(root, ImageKey(1, 2, 1, "04_1", 7).relative_path()))
    bad = {
        _write_png(root, "data/session01/multiview/001/01/05_0/001_01_01_051_03.png"):
            "camera folder '05_0' disagrees",
        _write_png(root, "data/session01/multiview/001/01/08_1/001_01_01_081_03.png"):
            "unknown camera '081'",
        _write_png(root, "data/session01/multiview/001/01/05_1/badname.png"): "does not match",
    }
    with open(os.path.join(root, "data", "notes.txt"), "w") as f:  # not a .png: ignored
        f.write("x")
    return root, good, bad


def test_scan_collects_and_skips(fake_tree):
    root, good, bad = fake_tree
    keys, skipped = mp.scan(root)
    assert sorted(k.relative_path() for k in keys) == sorted(good)
    assert [k.relative_path() for k in keys] == sorted(good)  # deterministic walk order
    assert {s.path for s in skipped} == set(bad)
    for s in skipped:
        assert bad[s.path] in s.reason
    assert mp.scan(root) == (keys, skipped)


def test_scan_requires_data_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="data"):
        mp.scan(tmp_path)


def test_make_pairs_and_missing_frontal(fake_tree):
    root, _, _ = fake_tree
    keys, _ = mp.scan(root)
    pairs, skipped = mp.make_pairs(keys)
    assert len(pairs) == 2 * 5 * 2  # 2 subjects x 5 cameras x 2 illuminations
    for profile, frontal in pairs:
        assert frontal == ImageKey(profile.subject, profile.session, profile.recording, "05_1",
                                   profile.illumination)
    assert mp.Pair(ImageKey(1, 1, 1, "05_1", 7), ImageKey(1, 1, 1, "05_1", 7)) in pairs
    missing = ImageKey(1, 2, 1, "04_1", 7)
    assert skipped == [mp.Skipped(missing.relative_path(),
                                  f"missing frontal {missing.frontal().relative_path()}")]


def test_make_pairs_yaw_and_subject_filter(fake_tree):
    root, _, _ = fake_tree
    keys, _ = mp.scan(root)
    pairs, skipped = mp.make_pairs(keys, yaw_low=15, yaw_high=60)
    assert sorted({abs(p.profile.yaw) for p in pairs}) == [15, 60]  # 0 and 90 excluded
    assert len(pairs) == 2 * 3 * 2  # cameras 05_0, 14_0, 20_0
    assert [s.path for s in skipped] == [ImageKey(1, 2, 1, "04_1", 7).relative_path()]
    pairs, skipped = mp.make_pairs(keys, yaw_low=30, yaw_high=30)
    assert pairs == [] and len(skipped) == 1  # only the session-2 04_1 image, no frontal
    pairs, _ = mp.make_pairs(keys, yaw_high=0, subjects=[201])
    assert [p.profile for p in pairs] == [ImageKey(201, 1, 1, "05_1", 0),
                                          ImageKey(201, 1, 1, "05_1", 7)]
    with pytest.raises(ValueError):
        mp.make_pairs(keys, yaw_low=60, yaw_high=30)


def test_splits():
    assert mp.setting2_split(1) == mp.setting2_split(200) == "train"
    assert mp.setting2_split(201) == mp.setting2_split(346) == "test"
    k = ImageKey(200, 4, 1, "05_1", 0)
    assert mp.split_of(k, 2) == "train"
    assert mp.split_of(ImageKey(201, 3, 1, "11_0", 19), 2) == "test"
    assert mp.split_of(ImageKey(201, 3, 2, "11_0", 19), 2) is None  # not neutral
    # Setting 1: session 1 only, 1-150 train, 151-250 test.
    assert mp.split_of(ImageKey(150, 1, 1, "05_1", 7), 1) == "train"
    assert mp.split_of(ImageKey(151, 1, 1, "05_1", 7), 1) == "test"
    assert mp.split_of(ImageKey(250, 1, 1, "05_1", 7), 1) == "test"
    assert mp.split_of(ImageKey(251, 1, 1, "05_1", 7), 1) is None
    assert mp.split_of(ImageKey(10, 2, 1, "05_1", 7), 1) is None  # session 2
    with pytest.raises(ValueError):
        mp.split_of(k, 3)


# ---------------------------------------------------------------- landmarks

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
    path = lmk.trans5pt_path(tmp_path, "201_01_01_010_07_cropped.png")
    assert os.path.basename(path) == "201_01_01_010_trans.5pt"
    with open(path, "w") as f:
        f.write("56 41\n68 39\n85 66\n61 92\n72 90\n")
    pts = lmk.read_5pt(path)
    assert pts.dtype == np.float64
    np.testing.assert_array_equal(pts, [[56, 41], [68, 39], [85, 66], [61, 92], [72, 90]])
    assert lmk.trans5pt_path(tmp_path, ImageKey(201, 1, 1, "01_0", 3)) == path
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


def test_detect_landmarks_import_hint():
    try:
        import dlib  # noqa: F401
        import face_recognition_models  # noqa: F401
        pytest.skip("dlib is installed; the missing-extra message cannot be checked")
    except ImportError:
        pass
    with pytest.raises(ImportError, match="pip install dlib-bin face-recognition-models"):
        lmk.detect_landmarks(np.zeros((8, 8, 3), np.uint8))
