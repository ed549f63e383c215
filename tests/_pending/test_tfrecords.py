"""TFRecord build (bad inputs, manifest, resume) and the input pipeline round trip (issue 3)."""
import json
import os
import shutil

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_prep import build_tfrecords, landmarks, patches, synthetic
from tpgan_tf.image_ops import legacy_resize
from tpgan_tf.input_pipeline import make_dataset
from tpgan_tf.parts import PART_BY_NAME, PART_NAMES
from tpgan_tf.tfrecord_schema import feature_spec

SUBJECTS = 3  # subject 3 is the test split (--test_subjects_from=3)
ILLUMINATIONS = (7, 9)
FRONTAL_REL = "data/session01/multiview/{s:03d}/01/05_1/{s:03d}_01_01_051_{i:02d}.png"
PROFILE_REL = "data/session01/multiview/{s:03d}/01/{c}/{s:03d}_01_01_{code}_{i:02d}.png"


def _profile(subject, camera, illum):
    return PROFILE_REL.format(s=subject, c=camera, code=camera.replace("_", ""), i=illum)


@pytest.fixture(scope="module")
def damaged_tree(tmp_path_factory):
    """A synthetic Multi-PIE tree with one of each kind of bad input. Returns (root, bad)."""
    root = str(tmp_path_factory.mktemp("multipie"))
    synthetic.generate(root, SUBJECTS, illuminations=ILLUMINATIONS, image_size=(320, 240),
                       seed=5, workers=1, progress=False)
    bad = {
        "corrupt": _profile(1, "04_1", 7),
        "truncated": _profile(1, "19_0", 7),
        "zero_bytes": _profile(2, "05_0", 7),
        "missing_frontal": _profile(2, "13_0", 9),
        "out_of_range": _profile(1, "08_0", 9),
        "unknown_camera": "data/session01/multiview/001/01/07_1/001_01_01_071_07.png",
        "wrong_folder": "data/session01/multiview/002/01/05_0/001_01_01_050_07.png",
    }
    full = lambda rel: os.path.join(root, *rel.split("/"))  # noqa: E731
    with open(full(bad["corrupt"]), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    data = open(full(bad["truncated"]), "rb").read()
    with open(full(bad["truncated"]), "wb") as f:
        f.write(data[: len(data) // 3])
    open(full(bad["zero_bytes"]), "wb").close()
    os.remove(full(FRONTAL_REL.format(s=2, i=9)))  # every subject-2 illum-9 profile loses it
    csv = os.path.join(root, "landmarks.csv")
    points = landmarks.read_landmark_csv(csv)
    points[bad["out_of_range"]] = points[bad["out_of_range"]] + [5000.0, 0.0]
    landmarks.write_landmark_csv(csv, points)
    for rel in (bad["unknown_camera"], bad["wrong_folder"]):
        os.makedirs(os.path.dirname(full(rel)), exist_ok=True)
        shutil.copy(full(FRONTAL_REL.format(s=1, i=7)), full(rel))
    return root, bad


@pytest.fixture(scope="module")
def built(damaged_tree, tmp_path_factory):
    root, bad = damaged_tree
    out = str(tmp_path_factory.mktemp("records"))
    manifest = build_tfrecords.build(out, multipie_root=root, test_subjects_from=3,
                                     num_shards=2, workers=2, show_progress=False)
    return out, manifest, root, bad


def _reasons(manifest):
    return {s["path"]: s["reason"] for s in manifest["skipped"]}


def test_bad_inputs_are_skipped_with_reasons(built):
    _, manifest, _, bad = built
    reasons = _reasons(manifest)
    assert "unreadable image" in reasons[bad["corrupt"]]
    assert "unreadable image" in reasons[bad["truncated"]]
    assert reasons[bad["zero_bytes"]] == "empty file (0 bytes)"
    assert reasons[bad["missing_frontal"]].startswith("missing frontal ")
    assert "outside the 320x240 image" in reasons[bad["out_of_range"]]
    assert "07_1" in reasons[bad["unknown_camera"]] or "071" in reasons[bad["unknown_camera"]]
    assert bad["wrong_folder"] in reasons
    # The rest is written: 3 subjects x 13 cameras x 2 illuminations = 78 profiles, minus
    # subject 2 illum 9 (the deleted frontal and its 12 profiles), minus corrupt, truncated,
    # zero-byte and out-of-range = 78 - 13 - 4 = 61 pairs.
    total = sum(s["examples"] for s in manifest["splits"].values())
    assert total == 61
    assert manifest["splits"]["test"]["examples"] == 26  # subject 3: untouched, 13 x 2
    assert manifest["splits"]["train"]["per_yaw"]["0"] == 3  # frontal pairs: 4 - 1 missing
    assert sum(manifest["splits"]["train"]["per_yaw"].values()) == 35


def test_shards_are_named_and_counted(built):
    out, manifest, _, _ = built
    files = sorted(f for f in os.listdir(out) if f.endswith(".tfrecord"))
    assert files == ["test-00000-of-00002.tfrecord", "test-00001-of-00002.tfrecord",
                     "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"]
    for split, info in manifest["splits"].items():
        counted = sum(sum(1 for _ in tf.data.TFRecordDataset(os.path.join(out, s["file"])))
                      for s in info["shards"])
        assert counted == info["examples"]
    on_disk = json.load(open(os.path.join(out, "manifest.json")))
    assert on_disk["splits"] == manifest["splits"]


def test_rerun_after_interrupted_shard(built, tmp_path):
    out, manifest, root, _ = built
    work = str(tmp_path / "rerun")
    shutil.copytree(out, work)
    # Simulate a crash while writing train shard 1: only its temporary file exists.
    shard = os.path.join(work, "train-00001-of-00002.tfrecord")
    os.replace(shard, shard + ".tmp-4242")
    os.remove(shard + ".json")
    kept = os.path.join(work, "train-00000-of-00002.tfrecord")
    kept_mtime = os.stat(kept).st_mtime_ns
    again = build_tfrecords.build(work, multipie_root=root, test_subjects_from=3,
                                  num_shards=2, workers=1, show_progress=False)
    assert again["splits"] == manifest["splits"]
    assert os.stat(kept).st_mtime_ns == kept_mtime  # a finished shard is not rewritten
    assert not [f for f in os.listdir(work) if ".tmp-" in f]
    assert sum(1 for _ in tf.data.TFRecordDataset(shard)) == next(
        s["examples"] for s in manifest["splits"]["train"]["shards"]
        if s["file"] == os.path.basename(shard))
    # Other flags on the same output: a clear stop, not a silent mix of two builds.
    with pytest.raises(build_tfrecords.FlagError, match="other inputs or flags"):
        build_tfrecords.build(work, multipie_root=root, test_subjects_from=3, yaw_high=60,
                              num_shards=2, workers=1, show_progress=False)


def test_flags_that_make_no_sense_stop_at_once(tmp_path, damaged_tree):
    root, _ = damaged_tree
    with pytest.raises(build_tfrecords.FlagError, match="yaw_low"):
        build_tfrecords.build(str(tmp_path), multipie_root=root, yaw_low=60, yaw_high=30)
    with pytest.raises(build_tfrecords.FlagError, match="multipie_root"):
        build_tfrecords.build(str(tmp_path), multipie_root=str(tmp_path / "nowhere"))
    with pytest.raises(build_tfrecords.FlagError, match="landmark file"):
        build_tfrecords.build(str(tmp_path), multipie_root=root,
                              landmark_csv=str(tmp_path / "none.csv"))
    assert os.listdir(tmp_path) == []  # nothing written


def _all_examples(pattern, **kwargs):
    ds = make_dataset(pattern, 64, shuffle=False, repeat=False, deterministic=True,
                      drop_remainder=False, **kwargs)
    batches = list(ds.as_numpy_iterator())
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def test_pipeline_round_trip(built):
    out, manifest, root, _ = built
    ex = _all_examples(os.path.join(out, "train-*.tfrecord"))
    n = manifest["splits"]["train"]["examples"]
    assert ex["image"].shape == (n, 128, 128, 3) and ex["frontal"].shape == (n, 128, 128, 3)
    assert ex["eye_left"].shape == (n, 40, 40, 3) and ex["nose"].shape == (n, 32, 40, 3)
    assert ex["mouth"].shape == (n, 32, 48, 3) and ex["frontal_mouth"].shape == (n, 32, 48, 3)
    assert ex["image"].min() >= 0 and ex["image"].max() <= 255 / 256  # uint8 / 256
    assert ex["label"].dtype == np.int32 and set(ex["label"]) == {1, 2}
    np.testing.assert_array_equal(ex["image64"], ex["image"][:, ::2, ::2])
    np.testing.assert_array_equal(
        legacy_resize(tf.constant(ex["frontal"][:4]), 32).numpy(), ex["frontal32"][:4])

    # Compare one negative-yaw and one positive-yaw example with the PNG + numpy patches.
    # One shard, unshuffled and deterministic: the i-th example is the shard's i-th record.
    shard = os.path.join(out, "train-00000-of-00002.tfrecord")
    ex = _all_examples(shard)
    for yaw_sign in (-1, 1):
        i = next(j for j, y in enumerate(ex["yaw"]) if np.sign(y) == yaw_sign and abs(y) >= 45)
        rec = _record_at(shard, i)
        crop = cv2.imdecode(np.frombuffer(rec["profile/png"].numpy(), np.uint8),
                            cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 256
        windows = rec["profile/windows"].numpy().reshape(4, 2)
        cut = {}
        for name, (top, left) in zip(PART_NAMES, windows):
            part = PART_BY_NAME[name]
            cut[name], _ = patches.crop_window(crop, int(top), int(left), part.height, part.width)
        if yaw_sign < 0:  # spec 1.4: flipped, eyes swapped
            np.testing.assert_array_equal(ex["image"][i], crop[:, ::-1])
            np.testing.assert_array_equal(ex["eye_left"][i], cut["eye_right"][:, ::-1])
            np.testing.assert_array_equal(ex["eye_right"][i], cut["eye_left"][:, ::-1])
            np.testing.assert_array_equal(ex["nose"][i], cut["nose"][:, ::-1])
            lm = rec["profile/landmarks"].numpy().reshape(5, 2)
            np.testing.assert_allclose(ex["landmarks"][i][0], [127 - lm[1, 0], lm[1, 1]])
        else:
            np.testing.assert_array_equal(ex["image"][i], crop)
            for name in PART_NAMES:
                np.testing.assert_array_equal(ex[name][i], cut[name])
    # After mirroring every profile faces image-right: nose x right of the eye midpoint.
    turned = np.abs(ex["yaw"]) >= 30
    eye_mid = ex["landmarks"][:, :2, 0].mean(axis=1)
    assert np.all(ex["landmarks"][turned, 2, 0] > eye_mid[turned])


def _record_at(shard, index):
    for j, record in enumerate(tf.data.TFRecordDataset(shard)):
        if j == index:
            return tf.io.parse_single_example(record, feature_spec())
    raise IndexError(index)


def test_pipeline_yaw_filter_and_determinism(built):
    out, manifest, _, _ = built
    pattern = os.path.join(out, "train-*.tfrecord")
    ex = _all_examples(pattern, yaw_low=15, yaw_high=45)
    per_yaw = manifest["splits"]["train"]["per_yaw"]
    expected = sum(v for k, v in per_yaw.items() if 15 <= abs(int(k)) <= 45)
    assert len(ex["yaw"]) == expected and np.all((np.abs(ex["yaw"]) >= 15)
                                                 & (np.abs(ex["yaw"]) <= 45))

    def first_labels(seed):
        ds = make_dataset(pattern, 6, shuffle=True, deterministic=True, seed=seed)
        return [tuple(b["yaw"]) for b in ds.take(4).as_numpy_iterator()]

    assert first_labels(1) == first_labels(1)
    assert first_labels(1) != first_labels(2)


def test_pipeline_reports_missing_shards(tmp_path):
    with pytest.raises(FileNotFoundError, match="no TFRecord shards"):
        make_dataset(str(tmp_path / "train-*.tfrecord"), 2)


def test_nose_window_rules(built, tmp_path):
    """spec 1.4: the profile's nose window follows the camera table (o = 32 at +60 degrees), or
    the centred rule o = 20 with --pose_independent_nose; the frontal always uses 20."""
    out, _, root, _ = built
    other = build_tfrecords.build(str(tmp_path), multipie_root=root, test_subjects_from=3,
                                  num_shards=1, workers=1, pose_independent_nose=True,
                                  show_progress=False)
    assert other["settings"]["pose_independent_nose"] is True

    def nose_lefts(folder):
        found = {}
        for record in tf.data.TFRecordDataset(tf.io.gfile.glob(os.path.join(folder, "test-*.tfrecord"))):
            ex = tf.io.parse_single_example(record, feature_spec())
            if int(ex["yaw"]) != 60:
                continue
            for side in ("profile", "frontal"):
                tip_x = landmarks.to_index_points(
                    ex[f"{side}/landmarks"].numpy().reshape(5, 2))[2, 0]
                found.setdefault(side, set()).add(
                    int(ex[f"{side}/windows"].numpy()[5]) - (tip_x + 1))  # left = x - o + 1
        return {side: {-o for o in offsets} for side, offsets in found.items()}

    assert nose_lefts(out) == {"profile": {32}, "frontal": {20}}
    assert nose_lefts(str(tmp_path)) == {"profile": {20}, "frontal": {20}}
