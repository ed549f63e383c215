"""DR-GAN's image-records job (data_prep/build_image_records.py with
data_prep/multipie_images.py): bad inputs skipped and listed, the protocol split and pose
sets of drgan spec 5.1, the aligned crop, rerun skips finished shards, flag errors."""
import json
import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_prep import build_image_records, multipie_images
from data_prep.build_tfrecords import FlagError
from tpgan_tf.data.image_records import parse_image
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.faces import alignment, landmarks

# 3 subjects x cameras at yaw -60, 0, +45, +90 x illumination 07; subject 3 is the test split.
CAMERAS = ("09_0", "05_1", "19_0", "24_0")
REL = "data/session01/multiview/{s:03d}/01/{c}/{s:03d}_01_01_{code}_07.png"


def _rel(subject, camera):
    return REL.format(s=subject, c=camera, code=camera.replace("_", ""))


@pytest.fixture(scope="module")
def damaged_tree(tmp_path_factory):
    """The tree with a corrupt image and an image without landmarks. Returns (root, bad)."""
    from data_prep import synthetic

    root = str(tmp_path_factory.mktemp("images_tree"))
    synthetic.generate(root, 3, illuminations=(7,), image_size=(240, 180), seed=9, workers=1,
                       cameras=CAMERAS, progress=False)
    bad = {"corrupt": _rel(1, "19_0"), "no_landmarks": _rel(2, "09_0")}
    with open(os.path.join(root, *bad["corrupt"].split("/")), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    csv = os.path.join(root, "landmarks.csv")
    points = landmarks.read_landmark_csv(csv)
    del points[bad["no_landmarks"]]
    landmarks.write_landmark_csv(csv, points)
    return root, bad


@pytest.fixture(scope="module")
def built(damaged_tree, tmp_path_factory):
    root, bad = damaged_tree
    out = str(tmp_path_factory.mktemp("image_records"))
    manifest = build_image_records.build(out, multipie_root=root, test_subjects_from=3,
                                         workers=1, show_progress=False)
    return out, manifest, root, bad


def _examples(out, split):
    return [{k: (v.numpy() if hasattr(v, "numpy") else v) for k, v in parse_image(s).items()}
            for s in tf.data.TFRecordDataset(tf.io.gfile.glob(split_pattern(out, split)))]


def test_bad_inputs_are_skipped_and_listed(built):
    _, manifest, _, bad = built
    reasons = {s["path"]: s["reason"] for s in manifest["skipped"]}
    assert "unreadable image" in reasons[bad["corrupt"]]
    assert reasons[bad["no_landmarks"]] == "no landmarks for this image"
    # 3 subjects x 3 cameras within +-60 = 9 images, minus the two bad ones; +90 left out.
    assert manifest["splits"]["train"]["examples"] == 6 - 2
    assert manifest["splits"]["test"]["examples"] == 3
    assert manifest["splits"]["train"]["per_yaw"] == {"-60": 1, "0": 2, "45": 1}
    assert manifest["pose_set"] == {"max_yaw": 60, "views": 9}
    on_disk = json.load(open(os.path.join(built[0], "manifest.json")))
    assert on_disk["skipped"] == manifest["skipped"]


def test_split_labels_and_the_aligned_crop(built):
    out, _, root, _ = built
    test = _examples(out, "test")
    assert {int(e["subject"]) for e in test} == {3}
    assert {int(e["subject"]) for e in _examples(out, "train")} == {1, 2}
    points = landmarks.read_landmark_csv(os.path.join(root, "landmarks.csv"))
    for e in test:
        yaw = int(e["yaw"])
        assert int(e["pose"]) == (yaw + 60) // 15
        rel = e["path"].decode()
        assert rel == _rel(3, e["camera"].decode())
        raw = cv2.imread(os.path.join(root, *rel.split("/")))[:, :, ::-1]
        face = alignment.align_face(raw, points[rel])
        np.testing.assert_array_equal(e["image"], face.image)  # the TP-GAN 128 crop, lossless
        np.testing.assert_allclose(e["landmarks"], face.landmarks, atol=1e-4)


def test_thirteen_views_with_max_yaw_90(damaged_tree, tmp_path):
    root, _ = damaged_tree
    manifest = build_image_records.build(str(tmp_path), multipie_root=root,
                                         test_subjects_from=3, max_yaw=90, workers=1,
                                         show_progress=False)
    assert manifest["pose_set"]["views"] == 13
    assert manifest["splits"]["test"]["per_yaw"] == {"-60": 1, "0": 1, "45": 1, "90": 1}
    assert {int(e["pose"]) for e in _examples(str(tmp_path), "test")} == {2, 6, 9, 12}


def test_protocol_split_without_the_flag():
    key = multipie_images.multipie.ImageKey
    sources = multipie_images.multipie.Sources(
        keys=[key(200, 1, 1, "05_1", 7), key(201, 2, 1, "05_1", 7), key(5, 1, 2, "05_1", 7),
              key(5, 1, 1, "11_0", 7)],
        skipped=[], path_of=lambda k: "", points_of=lambda k: None,
        rel_of=lambda k: k.relative_path(), aligned=False)
    by_split, _ = multipie_images.items_by_split(sources)
    # drgan spec 5.1: 001-200 train, the rest test; neutral recording only; +-60 only.
    assert [i.fields[0] for i in by_split["train"]] == [200]
    assert [i.fields[0] for i in by_split["test"]] == [201]
    assert multipie_images.pose_index(-60, 60) == 0 and multipie_images.pose_index(90, 90) == 12
    with pytest.raises(ValueError, match="yaw 75"):
        multipie_images.pose_index(75, 60)


def test_rerun_skips_finished_shards(built, damaged_tree):
    out, manifest, root, _ = built
    shard = os.path.join(out, manifest["splits"]["train"]["shards"][0]["file"])
    stamp = os.stat(shard).st_mtime_ns
    again = build_image_records.build(out, multipie_root=root, test_subjects_from=3, workers=1,
                                      show_progress=False)
    assert os.stat(shard).st_mtime_ns == stamp  # not rewritten
    assert again["splits"]["train"]["examples"] == manifest["splits"]["train"]["examples"]
    assert sorted(s["path"] for s in again["skipped"]) == sorted(
        s["path"] for s in manifest["skipped"])


def test_flags_that_make_no_sense_stop_at_once(tmp_path, damaged_tree):
    root, _ = damaged_tree
    with pytest.raises(FlagError, match="max_yaw"):
        build_image_records.build(str(tmp_path), multipie_root=root, max_yaw=45)
    with pytest.raises(FlagError, match="multipie_root"):
        build_image_records.build(str(tmp_path), multipie_root=str(tmp_path / "nowhere"))
    with pytest.raises(FlagError, match="test_subjects_from"):
        build_image_records.build(str(tmp_path), multipie_root=root, test_subjects_from=-1)
