"""The Helen reader (data_prep/helen.py) and the Helen records job on a tiny hand-made folder in
the documented layout (images/, annotation/<k>.txt, labels/<name>/<name>_lblXX.png): the
fsrnet spec 8.1 split by annotation number, Helen's own split, the crop of a known face, and every
kind of bad input skipped and listed."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_prep import build_face_records, helen
from tpgan_tf.data.face_records import parse_face, read_metadata

# 194 points spanning x, y in [32, 223] of a 256 x 256 image: with crop_scale 256 / 191 the
# tight box is the whole image.
SCALE = 256 / 191


def _points(rng):
    points = rng.uniform(40, 215, (194, 2))
    points[0], points[1] = (32.0, 32.0), (223.0, 223.0)
    return points


def make_helen(root, rng, numbers=(1, 2, 9, 10, 11)):
    """Writes a tiny Helen folder; returns {name: (face [128,128,3], labels [128,128],
    points [194, 2] in 256-px coordinates)} of the faces written."""
    faces = {}
    for sub in ("images", "annotation", "labels"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for k in numbers:
        name = f"{1000 + k}_1"
        face = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
        labels = rng.integers(0, 11, (128, 128), dtype=np.uint8)
        points = _points(rng)
        cv2.imwrite(os.path.join(root, "images", name + ".png"),
                    face.repeat(2, 0).repeat(2, 1)[:, :, ::-1])
        with open(os.path.join(root, "annotation", f"{k}.txt"), "w") as f:
            f.write(name + "\n" + "".join(f"{x:.3f} , {y:.3f}\n" for x, y in points))
        os.makedirs(os.path.join(root, "labels", name))
        for j in range(11):
            plane = ((labels == j) * 255).astype(np.uint8).repeat(2, 0).repeat(2, 1)
            cv2.imwrite(os.path.join(root, "labels", name, f"{name}_lbl{j:02d}.png"), plane)
        faces[name] = (face, labels, points)
    return faces


def test_fsrnet_split_orders_by_annotation_number_and_takes_the_last_ones(tmp_path):
    make_helen(str(tmp_path), np.random.default_rng(0))
    by_split, skipped = helen.collect(str(tmp_path), "fsrnet", test_count=2)
    assert skipped == []
    # numeric order 1, 2, 9, 10, 11 (not the string order 1, 10, 11, 2, 9)
    assert [i.name for i in by_split["train"]] == ["1001_1", "1002_1", "1009_1"]
    assert [i.name for i in by_split["test"]] == ["1010_1", "1011_1"]
    item = by_split["test"][0]
    assert item.num_landmarks == 194 and item.landmark_scheme == "helen194"
    assert len(item.label_paths) == 11 and item.label_paths[3].endswith("1010_1_lbl03.png")


def test_helen_own_split_reads_the_name_lists(tmp_path):
    make_helen(str(tmp_path), np.random.default_rng(0))
    (tmp_path / "trainnames.txt").write_text("1001_1\n1009_1\n")
    (tmp_path / "testnames.txt").write_text("1011_1\n9999_1\n")
    by_split, skipped = helen.collect(str(tmp_path), "helen")
    assert [i.name for i in by_split["train"]] == ["1001_1", "1009_1"]
    assert [i.name for i in by_split["test"]] == ["1011_1"]
    assert skipped == [{"path": "9999_1", "reason": "listed in testnames.txt but has no "
                        "annotation file"}]
    with pytest.raises(FileNotFoundError, match="images/, annotation/ and labels/"):
        helen.collect(str(tmp_path / "nothing"))


def test_records_job_crops_exactly_and_lists_every_bad_input(tmp_path):
    root = str(tmp_path / "helen")
    rng = np.random.default_rng(1)
    faces = make_helen(root, rng, numbers=(1, 2, 3, 4, 5, 6))
    # 1002_1: image missing; 1003_1: a landmark outside the image; 1004_1: label map of the
    # wrong size; 1005_1: no labels folder; an extra image nobody annotated.
    os.remove(os.path.join(root, "images", "1002_1.png"))
    path = os.path.join(root, "annotation", "3.txt")
    lines = open(path).read().splitlines()
    lines[5] = "300.0 , 10.0"
    open(path, "w").write("\n".join(lines) + "\n")
    cv2.imwrite(os.path.join(root, "labels", "1004_1", "1004_1_lbl07.png"),
                np.zeros((100, 100), np.uint8))
    for f in os.listdir(os.path.join(root, "labels", "1005_1")):
        os.remove(os.path.join(root, "labels", "1005_1", f))
    os.rmdir(os.path.join(root, "labels", "1005_1"))
    cv2.imwrite(os.path.join(root, "images", "stray.png"), np.zeros((8, 8, 3), np.uint8))
    out = str(tmp_path / "records")
    manifest = build_face_records.build(out, "helen", helen_dir=root, crop_scale=SCALE,
                                        workers=1, show_progress=False)
    # 6 annotated images: the last 50 are "test" (all of them here)
    assert manifest["splits"]["test"]["examples"] == 2
    reasons = {os.path.splitext(os.path.basename(s["path"]))[0]: s["reason"]
               for s in manifest["skipped"]}
    assert sorted(reasons) == ["1002_1", "1003_1", "1004_1", "1005_1", "stray"]
    assert reasons["1002_1"].startswith("cannot read file")
    assert "landmark 4 at (300.0, 10.0) is outside the 256x256 image" in reasons["1003_1"]
    assert reasons["1004_1"] == "label map 07 is 100x100, the image is 256x256"
    assert reasons["1005_1"] == "no parsing label map for this image"
    assert reasons["stray"].startswith("no landmarks for this image")
    assert manifest["settings"]["crop"] == "tight"
    serialized = [r.numpy() for r in tf.data.TFRecordDataset(
        os.path.join(out, "test-00000-of-00001.tfrecord"))]
    got = {read_metadata(s)["name"]: s for s in serialized}
    assert sorted(got) == ["1001_1", "1006_1"]
    for name, s in got.items():
        face, labels, points = faces[name]
        parsed = parse_face(tf.constant(s), 194)
        np.testing.assert_array_equal(parsed["hr"].numpy(), face)  # 256 -> 128 area = exact
        np.testing.assert_array_equal(parsed["parsing"].numpy(), labels)
        np.testing.assert_allclose(parsed["landmarks"].numpy(), (points + 0.5) / 2 - 0.5,
                                   atol=1e-3)
        assert read_metadata(s)["source"] == "helen"
