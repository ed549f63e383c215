"""The CelebA reader (data_prep/celeba.py) and its records job on tiny hand-made folders in the
documented layouts: the landmark file, the paper and release splits, the centre crop, Helen-11
label maps and CelebAMask-HQ masks (half-size, combined), bad inputs skipped and listed."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_prep import build_face_records, celeba
from data_prep.face_records_job import CELEBAMASK_TO_HELEN
from tpgan_tf.data.face_records import parse_face, read_metadata


def _landmark_file(path, rows):
    with open(path, "w") as f:
        f.write(f"{len(rows)}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y "
                "leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n")
        for name, values in rows:
            f.write(name + " " + " ".join(str(v) for v in values) + "\n")


def make_celeba(root, rng, count=4):
    """Aligned-CelebA-like images 128 x 160 (W x H) with a 128 x 128 face in rows 16..143,
    Helen-11 label maps of the image size, and a landmark file. Returns {stem: (face, labels,
    points in image pixels)}."""
    for sub in ("img", "parsing"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    faces, rows = {}, []
    for i in range(1, count + 1):
        stem = f"{i:06d}"
        face = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
        labels = rng.integers(0, 11, (128, 128), dtype=np.uint8)
        image = np.zeros((160, 128, 3), np.uint8)
        image[16:144] = face
        label_map = np.zeros((160, 128), np.uint8)
        label_map[16:144] = labels
        points = rng.uniform(20, 110, (5, 2)) + [0, 16]
        cv2.imwrite(os.path.join(root, "img", stem + ".jpg"), image[:, :, ::-1],
                    [cv2.IMWRITE_JPEG_QUALITY, 100])
        cv2.imwrite(os.path.join(root, "img", stem + ".png"), image[:, :, ::-1])
        cv2.imwrite(os.path.join(root, "parsing", stem + ".png"), label_map)
        rows.append((stem + ".png", [round(v, 3) for v in points.reshape(-1)]))
        faces[stem] = (face, labels, points)
    for i in range(1, count + 1):  # keep only the lossless copies
        os.remove(os.path.join(root, "img", f"{i:06d}.jpg"))
    _landmark_file(os.path.join(root, "landmarks.txt"), rows)
    return faces


def test_splits_follow_the_landmark_file_order():
    names = [f"{i:06d}.jpg" for i in range(1, 20_001)]
    paper = celeba._split(names, "paper")
    assert (len(paper["train"]), paper["train"][-1]) == (18_000, "018000.jpg")
    assert (paper["test"][0], paper["test"][-1], len(paper["test"])) == ("018001.jpg",
                                                                         "018100.jpg", 100)
    release = celeba._split(names, "release")
    assert (len(release["train"]), release["test"][0], len(release["test"])) == (
        19_000, "019001.jpg", 1_000)


def test_landmark_file_errors_and_bad_lines(tmp_path):
    path = str(tmp_path / "lm.txt")
    _landmark_file(path, [("a.jpg", list(range(10))), ("b.jpg", [1, 2, 3])])
    names, points, skipped = celeba.read_landmark_file(path)
    assert names == ["a.jpg", "b.jpg"] and points["b.jpg"] is None
    assert points["a.jpg"][4] == (8.0, 9.0)
    assert skipped == [{"path": "b.jpg", "reason": "landmark file line 4: expected 10 "
                        "numbers, got 3 values"}]
    _landmark_file(path, [("a.jpg", list(range(8)))])
    with pytest.raises(ValueError, match="4 points per image; supported: 5"):
        celeba.read_landmark_file(path)
    with pytest.raises(FileNotFoundError, match="--celeba_landmarks"):
        celeba.read_landmark_file(str(tmp_path / "missing.txt"))


def test_records_job_centre_crops_and_lists_bad_inputs(tmp_path):
    root = str(tmp_path / "celeba")
    faces = make_celeba(root, np.random.default_rng(0))
    os.remove(os.path.join(root, "parsing", "000002.png"))  # no label map
    cv2.imwrite(os.path.join(root, "parsing", "000003.png"), np.zeros((10, 10), np.uint8))
    out = str(tmp_path / "records")
    manifest = build_face_records.build(
        out, "celeba", celeba_images=os.path.join(root, "img"),
        celeba_landmarks=os.path.join(root, "landmarks.txt"),
        celeba_parsing=os.path.join(root, "parsing"), celeba_split="release", workers=1,
        show_progress=False)
    reasons = {os.path.basename(s["path"]): s["reason"] for s in manifest["skipped"]}
    assert reasons == {"000002.png": "no parsing label map for this image",
                       "000003.png": "label map is 10x10, the image is 128x160"}
    assert manifest["splits"]["test"]["examples"] == 2
    records = [r.numpy() for r in tf.data.TFRecordDataset(
        os.path.join(out, "test-00000-of-00001.tfrecord"))]
    for s in records:
        meta = read_metadata(s)
        face, labels, points = faces[meta["name"]]
        parsed = parse_face(tf.constant(s), 5)
        # the centre box of a 128 x 160 image is rows 16..143: the face, unscaled
        np.testing.assert_array_equal(parsed["hr"].numpy(), face)
        np.testing.assert_array_equal(parsed["parsing"].numpy(), labels)
        np.testing.assert_allclose(parsed["landmarks"].numpy(), points - [0, 16], atol=1e-3)
        assert (meta["landmark_scheme"], meta["source"]) == ("celeba5", "celeba")


def test_celebamask_masks_are_combined_to_helen_labels(tmp_path):
    # A CelebA-HQ-like 64 x 64 image with 32 x 32 masks in CelebAMask-HQ's sub-folders.
    root = tmp_path / "hq"
    (root / "img").mkdir(parents=True)
    image = np.full((64, 64, 3), 120, np.uint8)
    cv2.imwrite(str(root / "img" / "7.png"), image)
    _landmark_file(str(root / "lm.txt"), [("7.png", [20, 30, 44, 30, 32, 40, 24, 50, 40, 50])])
    masks = {"skin": np.s_[4:28, 4:28], "hair": np.s_[0:6, :], "nose": np.s_[14:18, 14:18],
             "cloth": np.s_[28:, :]}
    (root / "anno" / "0").mkdir(parents=True)
    for name, where in masks.items():
        mask = np.zeros((32, 32), np.uint8)
        mask[where] = 255
        cv2.imwrite(str(root / "anno" / "0" / f"00007_{name}.png"), mask)
    manifest = build_face_records.build(
        str(tmp_path / "out"), "celeba", celeba_images=str(root / "img"),
        celeba_landmarks=str(root / "lm.txt"), celeba_parsing=str(root / "anno"),
        celeba_parsing_format="celebamask", celeba_split="release", workers=1,
        show_progress=False)
    assert manifest["skipped"] == [] and manifest["splits"]["test"]["examples"] == 1
    [s] = [r.numpy() for r in tf.data.TFRecordDataset(
        str(tmp_path / "out" / "test-00000-of-00001.tfrecord"))]
    labels = parse_face(tf.constant(s), 5)["parsing"].numpy()
    expected = np.zeros((64, 64), np.uint8)  # cloth is background
    expected[8:56, 8:56] = CELEBAMASK_TO_HELEN["skin"]
    expected[0:12, :] = CELEBAMASK_TO_HELEN["hair"]  # painted after the skin
    expected[28:36, 28:36] = CELEBAMASK_TO_HELEN["nose"]
    np.testing.assert_array_equal(labels, cv2.resize(expected, (128, 128),
                                                     interpolation=cv2.INTER_NEAREST))
