"""The Multi-PIE recognition protocol (tpgan_tf/evaluation/recognition.py, tpgan spec 7.1):
gallery selection, probes, rank-1 per |yaw|."""
import random

import numpy as np
import pytest

from tpgan_tf.evaluation import recognition
from tpgan_tf.evaluation.recognition import FaceRecord


def _rec(subject, session, illumination, yaw=0, recording=1):
    return FaceRecord(subject, session, recording, illumination, yaw,
                      frontal_path=f"{subject:03d}_{session:02d}_{recording:02d}_051_"
                                   f"{illumination:02d}.png")


HAND_MADE = [
    # subject 1: session 1 has no flash 07 -> its lowest illumination (03), not session 2's 07
    _rec(1, 2, 7), _rec(1, 1, 9, yaw=45), _rec(1, 1, 3, yaw=-30), _rec(1, 1, 9),
    # subject 2: session 1 has flash 07 -> it wins over the lower 05 and over session 3's 07
    _rec(2, 3, 7), _rec(2, 1, 5), _rec(2, 1, 7, yaw=15), _rec(2, 1, 7),
    # subject 3: the neutral recording 01 comes before recording 02, whatever the flash
    _rec(3, 1, 7, recording=2), _rec(3, 1, 12, yaw=90), _rec(3, 2, 7),
]


def test_gallery_rule_on_hand_made_records():
    want = {1: (1, 1, 1, 3), 2: (2, 1, 1, 7), 3: (3, 1, 1, 12)}
    for seed in range(5):  # the choice does not depend on the record order
        records = list(HAND_MADE)
        random.Random(seed).shuffle(records)
        gallery = recognition.select_gallery(records)
        assert list(gallery) == [1, 2, 3]
        assert {s: e.frontal_key for s, e in gallery.items()} == want
    assert gallery[2].path == "002_01_01_051_07.png"


def test_probe_mask_excludes_only_the_gallery_images():
    gallery = recognition.select_gallery(HAND_MADE)
    mask = recognition.probe_mask(HAND_MADE, gallery)
    # Gallery images are 0-degree pairs whose frontal is the gallery frontal: subject 2's
    # (1, 1, 7) at yaw 0. Subject 1's gallery (1, 1, 3) only appears as a -30 profile's GT, and
    # subject 3's (1, 1, 12) only as a 90-degree profile's GT: those stay probes.
    excluded = [r for r, m in zip(HAND_MADE, mask) if not m]
    assert excluded == [_rec(2, 1, 7)]
    assert mask.sum() == len(HAND_MADE) - 1
    assert recognition.is_gallery_image(_rec(2, 1, 7), gallery)
    assert not recognition.is_gallery_image(_rec(2, 1, 7, yaw=15), gallery)
    assert not recognition.is_gallery_image(_rec(9, 1, 7), gallery)  # no such subject


def test_rank1_by_pose_on_hand_made_features():
    # Three subjects, gallery features e1, e2, e3; probes at 0, +-15 and 30 degrees.
    records = [_rec(1, 1, 7), _rec(2, 1, 7), _rec(3, 1, 7),  # the gallery images themselves
               _rec(1, 1, 7, yaw=15), _rec(2, 1, 7, yaw=-15), _rec(3, 1, 7, yaw=30),
               _rec(1, 1, 9)]
    gallery = recognition.select_gallery(records)
    eye = np.eye(3)
    good = np.stack([eye[0], eye[1], eye[2], eye[0], eye[1], eye[2], eye[0]])  # all right
    bad = good.copy()
    bad[3], bad[5] = eye[1], eye[0]  # +15 and 30 wrong
    out = recognition.rank1_by_pose({"good": good, "bad": bad}, records, gallery, {"*": eye})
    assert out["probes"] == 4  # 7 records minus 3 gallery images
    assert out["overall"] == {"good": 100.0, "bad": 50.0}
    assert out["poses"][0] == {"probes": 1, "rank1_percent": {"good": 100.0, "bad": 100.0}}
    assert out["poses"][15] == {"probes": 2, "rank1_percent": {"good": 100.0, "bad": 50.0}}
    assert out["poses"][30]["rank1_percent"] == {"good": 100.0, "bad": 0.0}
    # Per-method gallery features override "*".
    swapped = recognition.rank1_by_pose({"good": good}, records, gallery,
                                        {"good": eye[[1, 0, 2]], "*": eye})
    assert swapped["overall"]["good"] == pytest.approx(100.0 / 4)  # only subject 3 right


def test_record_keys_and_sort_key():
    r = FaceRecord(5, 2, 1, 7, -45, "p.png", "f.png")
    assert r.frontal_key == (5, 2, 1, 7)
    assert recognition.gallery_sort_key(_rec(1, 1, 7)) < recognition.gallery_sort_key(_rec(1, 1, 0))
    assert recognition.gallery_sort_key(_rec(1, 1, 19)) < recognition.gallery_sort_key(_rec(1, 2, 7))
    assert recognition.TABLE_POSES == (90, 75, 60, 45, 30, 15)
