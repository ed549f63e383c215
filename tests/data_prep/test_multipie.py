"""Multi-PIE raw-layout reader (data_prep/multipie.py): image keys, scan, pairs, splits."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

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


def test_split_for_with_test_subjects_from():
    k = ImageKey(5, 3, 1, "05_1", 7)
    assert mp.split_for(k, 2) == mp.split_of(k, 2) == "train"
    assert mp.split_for(ImageKey(5, 2, 1, "05_1", 7), 1) is None  # setting 1: session 1 only
    # test_subjects_from > 0 replaces the setting: ids >= it are test, every session ...
    assert mp.split_for(k, 2, test_subjects_from=5) == "test"
    assert mp.split_for(ImageKey(4, 3, 1, "11_0", 0), 1, test_subjects_from=5) == "train"
    # ... but still only the neutral recording 01.
    assert mp.split_for(ImageKey(9, 1, 2, "05_1", 7), 2, test_subjects_from=5) is None
