"""The TFRecord Example layout of one (profile, frontal) pair: written by data_prep, read by input_pipeline.

One tf.train.Example per pair:
    profile/png, frontal/png          aligned 128x128 RGB faces, PNG-encoded (spec 1.2)
    profile/landmarks, frontal/...    float32[10]: the 5 points (x0, y0, ..., x4, y4), 0-based crop
                                      pixel coordinates, order left eye, right eye, nose, left mouth,
                                      right mouth ("left" = image-left)
    profile/windows, frontal/...      int64[8]: (top, left) of the eye_left, eye_right, nose, mouth
                                      patch windows (spec 1.4; may reach outside the image: the
                                      pipeline zero-pads, as data_prep.patches does)
    profile/padded, frontal/...       int64[4]: 1 where that window leaves the image
    subject, session, recording, illumination, yaw   int64 scalars (yaw in degrees, signed)
    camera                            bytes, the folder form ("05_0")
    profile/path, frontal/path        bytes, the source image paths relative to the Multi-PIE root
Shards are named `<split>-00000-of-000NN.tfrecord`.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

SIDES = ("profile", "frontal")
INT_FIELDS = ("subject", "session", "recording", "illumination", "yaw")
SHARD_PATTERN = "{split}-{index:05d}-of-{count:05d}.tfrecord"


def shard_name(split: str, index: int, count: int) -> str:
    return SHARD_PATTERN.format(split=split, index=index, count=count)


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _floats(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def make_example(record: dict) -> bytes:
    """Serialises one pair. `record` holds, per side in SIDES, `<side>/png` (bytes),
    `<side>/landmarks` ([5, 2]), `<side>/windows` ([4, 2] int), `<side>/padded` ([4] bool),
    `<side>/path` (str); plus the INT_FIELDS and `camera` (str)."""
    feature = {"camera": _bytes([record["camera"].encode()])}
    for name in INT_FIELDS:
        feature[name] = _ints([record[name]])
    for side in SIDES:
        feature[f"{side}/png"] = _bytes([record[f"{side}/png"]])
        feature[f"{side}/path"] = _bytes([record[f"{side}/path"].encode()])
        feature[f"{side}/landmarks"] = _floats(np.asarray(record[f"{side}/landmarks"]).reshape(10))
        feature[f"{side}/windows"] = _ints(np.asarray(record[f"{side}/windows"]).reshape(8))
        feature[f"{side}/padded"] = _ints(np.asarray(record[f"{side}/padded"]).reshape(4))
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString()


def feature_spec() -> dict:
    """The tf.io.parse_example spec of `make_example`."""
    spec = {"camera": tf.io.FixedLenFeature([], tf.string)}
    for name in INT_FIELDS:
        spec[name] = tf.io.FixedLenFeature([], tf.int64)
    for side in SIDES:
        spec[f"{side}/png"] = tf.io.FixedLenFeature([], tf.string)
        spec[f"{side}/path"] = tf.io.FixedLenFeature([], tf.string)
        spec[f"{side}/landmarks"] = tf.io.FixedLenFeature([10], tf.float32)
        spec[f"{side}/windows"] = tf.io.FixedLenFeature([8], tf.int64)
        spec[f"{side}/padded"] = tf.io.FixedLenFeature([4], tf.int64)
    return spec
