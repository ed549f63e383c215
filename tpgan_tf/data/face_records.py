"""The TFRecord Example layout of one face for super-resolution (FSRNet, fsrnet spec 13): written
by `python -m data_prep.build_face_records`, read by tpgan_tf/models/fsrnet/inputs.py.

One tf.train.Example per face:
    hr/png             the HR face crop, 128 x 128 RGB PNG (the degradation of spec 1, the
                       heatmaps and the one-hot parsing maps are made in the input pipeline)
    landmarks          float32[2N]: (x0, y0, x1, y1, ...) in 0-based pixel-centre coordinates
                       of the crop (pixel (r, c) has its centre at x = c, y = r)
    num_landmarks      int64: N (194 Helen, 68 iBUG, 5 CelebA or MTCNN)
    landmark_scheme    bytes: "helen194" | "ibug68" | "celeba5" (point order; the NME's eyes)
    parsing/png        the per-pixel label map, 128 x 128 single-channel PNG of uint8 ids
    label_set          bytes: the ids' label set ("helen11": tpgan_tf/models/fsrnet/prior_sets.py)
    name               bytes: the source image's name (file stem), unique within a data set
    identity           bytes: who it is where known (the synthetic identity), else ""
    source             bytes: "helen" | "celeba" | "synthetic" | "folder"
    yaw                float32: yaw in degrees where known (synthetic faces), else NaN
Shards are `<split>-00000-of-000NN.tfrecord` (tpgan_tf/data/shards.py).
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tpgan_tf.data import features
from tpgan_tf.data.features import bytes_feature as _bytes
from tpgan_tf.data.features import floats_feature as _floats
from tpgan_tf.data.features import ints_feature as _ints

FACE_SIZE = 128  # fsrnet spec 1: HR 128 x 128
STRING_FIELDS = ("landmark_scheme", "label_set", "name", "identity", "source")


def make_example(record: dict) -> bytes:
    """Serialises one face. `record` holds hr_png, parsing_png (PNG bytes), landmarks [N, 2],
    the STRING_FIELDS (str) and yaw (float or None)."""
    points = np.asarray(record["landmarks"], np.float32).reshape(-1, 2)
    yaw = record.get("yaw")
    feature = {"hr/png": _bytes([record["hr_png"]]), "parsing/png": _bytes([record["parsing_png"]]),
               "landmarks": _floats(points.reshape(-1)), "num_landmarks": _ints([len(points)]),
               "yaw": _floats([math.nan if yaw is None else float(yaw)])}
    for name in STRING_FIELDS:
        feature[name] = _bytes([str(record.get(name, "")).encode()])
    return features.example(feature)


def feature_spec() -> dict:
    """The tf.io.parse_single_example spec of `make_example` (landmarks of any count)."""
    spec = {"hr/png": tf.io.FixedLenFeature([], tf.string),
            "parsing/png": tf.io.FixedLenFeature([], tf.string),
            "landmarks": tf.io.VarLenFeature(tf.float32),
            "num_landmarks": tf.io.FixedLenFeature([], tf.int64),
            "yaw": tf.io.FixedLenFeature([], tf.float32)}
    for name in STRING_FIELDS:
        spec[name] = tf.io.FixedLenFeature([], tf.string)
    return spec


def parse_face(serialized: tf.Tensor, num_landmarks: int, size: int = FACE_SIZE) -> dict:
    """One serialized face -> {"hr": uint8 [size, size, 3], "parsing": uint8 [size, size],
    "landmarks": float32 [num_landmarks, 2], "name", "source": string, "yaw": float32}.

    A record with another landmark count fails a tf.debugging assertion naming both counts
    (the config's prior set must match the records: fsrnet config priors.num_landmarks)."""
    ex = tf.io.parse_single_example(serialized, feature_spec())
    hr = tf.ensure_shape(tf.io.decode_png(ex["hr/png"], channels=3), [size, size, 3])
    parsing = tf.ensure_shape(tf.io.decode_png(ex["parsing/png"], channels=1), [size, size, 1])
    check = tf.debugging.assert_equal(
        ex["num_landmarks"], tf.constant(num_landmarks, tf.int64),
        message=f"face record landmark count differs from the config's "
                f"priors.num_landmarks={num_landmarks} (build the records for this prior set "
                "or choose the matching preset)")
    with tf.control_dependencies([check]):
        points = tf.reshape(tf.sparse.to_dense(ex["landmarks"]), [num_landmarks, 2])
    return {"hr": hr, "parsing": parsing[..., 0], "landmarks": points, "name": ex["name"],
            "source": ex["source"], "yaw": ex["yaw"]}


def read_metadata(serialized: bytes) -> dict:
    """The non-image fields of one serialized face as Python values (tests, tools)."""
    ex = tf.train.Example.FromString(serialized).features.feature
    out = {name: ex[name].bytes_list.value[0].decode() for name in STRING_FIELDS}
    n = int(ex["num_landmarks"].int64_list.value[0])
    out["landmarks"] = np.asarray(ex["landmarks"].float_list.value, np.float32).reshape(n, 2)
    out["yaw"] = float(ex["yaw"].float_list.value[0])
    return out
