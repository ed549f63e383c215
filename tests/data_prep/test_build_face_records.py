"""The FSRNet records job (data_prep/build_face_records.py) on the built-in synthetic faces:
identity-disjoint splits, records equal to data_prep.synthetic.faces' renders, resume (finished
shards are kept), and one `error:` line for bad flags."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from data_prep import build_face_records as B
from data_prep.synthetic.faces import face_record
from tests.conftest import REPO
from tpgan_tf.data.face_records import parse_face, read_metadata


def test_synthetic_items_split_by_identity():
    by_split, skipped = B.synthetic_items(3, 2, 2, seed=5)
    assert skipped == []
    assert [i.synthetic for i in by_split["train"]] == [(5, i, v) for i in range(3) for v in (0, 1)]
    assert [i.synthetic for i in by_split["test"]] == [(5, i, v) for i in (3, 4) for v in (0, 1)]
    assert by_split["test"][0].name == "synthetic_5_00003_0"
    with pytest.raises(ValueError, match="--synthetic_views >= 1"):
        B.synthetic_items(3, 1, 0)


def test_synthetic_records_equal_the_renderer_and_resume(tmp_path):
    out = str(tmp_path / "records")
    kwargs = dict(synthetic_identities=2, synthetic_test_identities=1, synthetic_views=1,
                  seed=3, workers=1, show_progress=False)
    manifest = B.build(out, "synthetic", **kwargs)
    assert {s: v["examples"] for s, v in manifest["splits"].items()} == {"train": 2, "test": 1}
    assert manifest["skipped"] == [] and manifest["splits"]["train"]["per_source"] == {
        "synthetic": 2}
    [s] = [r.numpy() for r in tf.data.TFRecordDataset(
        os.path.join(out, "test-00000-of-00001.tfrecord"))]
    rec = face_record(3, 2, 0)
    parsed = parse_face(tf.constant(s), 68)
    np.testing.assert_array_equal(parsed["hr"].numpy(), rec.image)
    np.testing.assert_array_equal(parsed["parsing"].numpy(), rec.labels)
    np.testing.assert_array_equal(parsed["landmarks"].numpy(), rec.landmarks)
    meta = read_metadata(s)
    assert (meta["identity"], meta["landmark_scheme"], meta["label_set"]) == ("2", "ibug68",
                                                                              "helen11")
    assert meta["yaw"] == pytest.approx(rec.yaw)
    # resume: the finished shards are not written again
    shard = os.path.join(out, "train-00000-of-00001.tfrecord")
    before = os.stat(shard).st_mtime_ns
    again = B.build(out, "synthetic", **kwargs)
    assert os.stat(shard).st_mtime_ns == before
    assert again["splits"] == manifest["splits"]


def test_bad_flags_give_one_error_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "data_prep.build_face_records", "--source=helen",
         f"--helen_dir={tmp_path / 'nothing'}", f"--output_dir={tmp_path / 'out'}"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "must hold images/, annotation/ and labels/" in proc.stderr
    assert "Traceback" not in proc.stderr
