"""The TFRecord Example layout of one (profile, frontal) pair of Multi-PIE-style images: written by
`data_prep.build_tfrecords` (`--layout=pairs`), read by TP-GAN's inputs and evaluation.

One tf.train.Example per pair:
    profile/png, frontal/png          aligned 128x128 RGB faces, PNG-encoded (tpgan spec 1.2)
    profile/landmarks, frontal/...    float32[10]: the 5 points (x0, y0, ..., x4, y4), 0-based crop
                                      pixel coordinates, order left eye, right eye, nose, left mouth,
                                      right mouth ("left" = image-left)
    profile/windows, frontal/...      int64[8]: (top, left) of the eye_left, eye_right, nose, mouth
                                      patch windows (tpgan spec 1.4; may reach outside the image: the
                                      pipeline zero-pads, as tpgan_tf.faces.parts does)
    profile/padded, frontal/...       int64[4]: 1 where that window leaves the image
    subject, session, recording, illumination, yaw   int64 scalars (yaw in degrees, signed)
    camera                            bytes, the folder form ("05_0")
    profile/path, frontal/path        bytes, the source image paths relative to the Multi-PIE root
Shards are named `<split>-00000-of-000NN.tfrecord` (tpgan_tf/data/shards.py).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.data import features
from tpgan_tf.data.features import bytes_feature as _bytes
from tpgan_tf.data.features import floats_feature as _floats
from tpgan_tf.data.features import ints_feature as _ints

SIDES = ("profile", "frontal")
INT_FIELDS = ("subject", "session", "recording", "illumination", "yaw")


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
    return features.example(feature)


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


def decode_faces(serialized: tf.Tensor) -> dict:
    """One pair -> {"profile", "frontal": uint8 [128, 128, 3], "subject": int32, "yaw": int32}
    (the aligned images only: no patches, no mirroring; e.g. for identity-network training)."""
    ex = tf.io.parse_single_example(serialized, {
        "profile/png": tf.io.FixedLenFeature([], tf.string),
        "frontal/png": tf.io.FixedLenFeature([], tf.string),
        "subject": tf.io.FixedLenFeature([], tf.int64),
        "yaw": tf.io.FixedLenFeature([], tf.int64)})
    out = {side: tf.ensure_shape(tf.io.decode_png(ex[f"{side}/png"], channels=3),
                                 [128, 128, 3]) for side in SIDES}
    out["subject"] = tf.cast(ex["subject"], tf.int32)
    out["yaw"] = tf.cast(ex["yaw"], tf.int32)
    return out
