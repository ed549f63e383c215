"""The pair-records job (data_prep/build_tfrecords.py with data_prep/multipie_pairs.py): bad
inputs skipped with their reasons, shard names and the manifest, flag errors, the nose-window
rules of tpgan spec 1.4 (issue 3). The records are built once per session from a damaged synthetic
tree (tests/conftest.py `damaged_multipie`, `pair_records`); the resume of the shard writer is
in tests/data/test_shards.py, the input pipeline in tests/models/tpgan/test_inputs.py."""
import json
import os

import pytest
import tensorflow as tf

from data_prep import build_tfrecords
from tpgan_tf.data.pair_records import feature_spec
from tpgan_tf.faces import landmarks


def _reasons(manifest):
    return {s["path"]: s["reason"] for s in manifest["skipped"]}


def test_bad_inputs_are_skipped_with_reasons(pair_records):
    _, manifest, _, bad = pair_records
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


def test_shards_are_named_and_counted(pair_records):
    out, manifest, _, _ = pair_records
    files = sorted(f for f in os.listdir(out) if f.endswith(".tfrecord"))
    assert files == ["test-00000-of-00002.tfrecord", "test-00001-of-00002.tfrecord",
                     "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"]
    for split, info in manifest["splits"].items():
        counted = sum(sum(1 for _ in tf.data.TFRecordDataset(os.path.join(out, s["file"])))
                      for s in info["shards"])
        assert counted == info["examples"]
    on_disk = json.load(open(os.path.join(out, "manifest.json")))
    assert on_disk["splits"] == manifest["splits"]


def test_flags_that_make_no_sense_stop_at_once(tmp_path, damaged_multipie):
    root, _ = damaged_multipie
    with pytest.raises(build_tfrecords.FlagError, match="yaw_low"):
        build_tfrecords.build(str(tmp_path), multipie_root=root, yaw_low=60, yaw_high=30)
    with pytest.raises(build_tfrecords.FlagError, match="multipie_root"):
        build_tfrecords.build(str(tmp_path), multipie_root=str(tmp_path / "nowhere"))
    with pytest.raises(build_tfrecords.FlagError, match="landmark file"):
        build_tfrecords.build(str(tmp_path), multipie_root=root,
                              landmark_csv=str(tmp_path / "none.csv"))
    assert os.listdir(tmp_path) == []  # nothing written


def test_nose_window_rules(pair_records, tmp_path):
    """spec 1.4: the profile's nose window follows the camera table (o = 32 at +60 degrees), or
    the centred rule o = 20 with --pose_independent_nose; the frontal always uses 20."""
    out, _, root, _ = pair_records
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
