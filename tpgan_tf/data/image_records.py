"""The TFRecord Example layout of one aligned Multi-PIE-style face image: written by
`data_prep.build_image_records`, read by DR-GAN's inputs and evaluation (drgan spec 7: DR-GAN
needs single images with subject and pose, no frontal ground truth and no patches).

One tf.train.Example per image:
    image/png          aligned 128x128 RGB face, PNG-encoded (the same tpgan spec 1.2
                       alignment as the pair records, tpgan_tf.faces.alignment.align_face)
    image/landmarks    float32[10]: the 5 points (x0, y0, ..., x4, y4), 0-based crop pixel
                       coordinates, order left eye, right eye, nose, left mouth, right mouth
    subject, session, recording, illumination, yaw   int64 scalars (yaw in degrees, signed)
    pose               int64: the view index in the job's pose set (0 = the most negative yaw:
                       (yaw + max_yaw) / 15, so 0..8 for +-60, 0..12 for +-90)
    camera             bytes, the folder form ("05_0")
    path               bytes, the source image path relative to the Multi-PIE root
Shards are named `<split>-00000-of-000NN.tfrecord` (tpgan_tf/data/shards.py).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.data import features
from tpgan_tf.data.features import bytes_feature as _bytes
from tpgan_tf.data.features import floats_feature as _floats
from tpgan_tf.data.features import ints_feature as _ints

INT_FIELDS = ("subject", "session", "recording", "illumination", "yaw", "pose")
IMAGE_SIZE = 128  # the aligned crop (tpgan spec 1.2)


def make_example(record: dict) -> bytes:
    """Serialises one image. `record` holds `image/png` (bytes), `image/landmarks` ([5, 2]),
    `path` (str), `camera` (str) and the INT_FIELDS."""
    feature = {"image/png": _bytes([record["image/png"]]),
               "image/landmarks": _floats(np.asarray(record["image/landmarks"]).reshape(10)),
               "camera": _bytes([record["camera"].encode()]),
               "path": _bytes([record["path"].encode()])}
    for name in INT_FIELDS:
        feature[name] = _ints([record[name]])
    return features.example(feature)


def feature_spec() -> dict:
    """The tf.io.parse_example spec of `make_example`."""
    spec = {"image/png": tf.io.FixedLenFeature([], tf.string),
            "image/landmarks": tf.io.FixedLenFeature([10], tf.float32),
            "camera": tf.io.FixedLenFeature([], tf.string),
            "path": tf.io.FixedLenFeature([], tf.string)}
    for name in INT_FIELDS:
        spec[name] = tf.io.FixedLenFeature([], tf.int64)
    return spec


def parse_image(serialized: tf.Tensor) -> dict:
    """One serialized image Example -> {"image": uint8 [128, 128, 3], "landmarks": float32
    [5, 2], INT_FIELDS as int32 scalars, "camera", "path": string}."""
    ex = tf.io.parse_single_example(serialized, feature_spec())
    image = tf.io.decode_png(ex["image/png"], channels=3)
    out = {"image": tf.ensure_shape(image, [IMAGE_SIZE, IMAGE_SIZE, 3]),
           "landmarks": tf.reshape(ex["image/landmarks"], [5, 2]),
           "camera": ex["camera"], "path": ex["path"]}
    for name in INT_FIELDS:
        out[name] = tf.cast(ex[name], tf.int32)
    return out
