"""The face-record schema (tpgan_tf/data/face_records.py): a record survives the round trip
through make_example and parse_face bit for bit; the landmark-count check names both counts."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.data import face_records as R


def _record(n=5, yaw=12.5):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    labels = rng.integers(0, 11, (128, 128), dtype=np.uint8)
    points = rng.uniform(0, 127, (n, 2)).astype(np.float32)
    record = {"hr_png": cv2.imencode(".png", image[:, :, ::-1])[1].tobytes(),
              "parsing_png": cv2.imencode(".png", labels)[1].tobytes(), "landmarks": points,
              "landmark_scheme": "celeba5", "label_set": "helen11", "name": "000001",
              "identity": "", "source": "celeba", "yaw": yaw}
    return record, image, labels, points


def test_round_trip_of_every_field():
    record, image, labels, points = _record()
    serialized = R.make_example(record)
    parsed = R.parse_face(tf.constant(serialized), num_landmarks=5)
    np.testing.assert_array_equal(parsed["hr"].numpy(), image)
    np.testing.assert_array_equal(parsed["parsing"].numpy(), labels)
    np.testing.assert_array_equal(parsed["landmarks"].numpy(), points)
    assert parsed["name"].numpy() == b"000001" and parsed["source"].numpy() == b"celeba"
    assert parsed["yaw"].numpy() == pytest.approx(12.5)
    meta = R.read_metadata(serialized)
    assert (meta["landmark_scheme"], meta["label_set"], meta["identity"]) == ("celeba5",
                                                                              "helen11", "")
    np.testing.assert_array_equal(meta["landmarks"], points)


def test_unknown_yaw_is_nan_and_a_wrong_landmark_count_fails_naming_it():
    record, *_ = _record(yaw=None)
    serialized = R.make_example(record)
    assert math.isnan(R.read_metadata(serialized)["yaw"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="priors.num_landmarks=68"):
        R.parse_face(tf.constant(serialized), num_landmarks=68)
