"""tf.train.Feature constructors shared by the record schemas (no TensorFlow ops, protos only)."""
from __future__ import annotations

import tensorflow as tf


def bytes_feature(values) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def ints_feature(values) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def floats_feature(values) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def example(feature: dict) -> bytes:
    """A serialised tf.train.Example of {name: Feature}."""
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
