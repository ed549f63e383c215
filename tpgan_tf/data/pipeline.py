"""tf.data helpers shared by the models' input pipelines: finding shards, reading them
interleaved (and sharded per input pipeline under tf.distribute), and the common options.

A model's inputs module parses and batches the records; everything before the parse is here.
"""
from __future__ import annotations

import os

import tensorflow as tf

SHARD_GLOB = "{split}-*.tfrecord"  # the names tpgan_tf/data/shards.py writes


def split_pattern(data_dir: str, split: str) -> str:
    """`<data_dir>/<split>-*.tfrecord`."""
    return os.path.join(data_dir, SHARD_GLOB.format(split=split))


def list_shards(file_pattern: str) -> list[str]:
    """Sorted shard paths matching `file_pattern`; FileNotFoundError when there are none."""
    files = sorted(tf.io.gfile.glob(file_pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord shards match {file_pattern!r}; build them with "
                                "`python -m data_prep.build_tfrecords`")
    return files


def options(deterministic: bool) -> tf.data.Options:
    opts = tf.data.Options()
    opts.deterministic = deterministic
    return opts


def read_records(file_pattern: str, *, shuffle: bool, deterministic: bool,
                 seed: int | None = None,
                 input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Serialized records of every shard matching `file_pattern`, interleaved.

    With several input pipelines (tf.distribute, `input_context.num_input_pipelines > 1`) each
    pipeline reads its own subset of shards when there are enough shards, otherwise every
    num_input_pipelines-th record, so the pipelines never read the same example.
    shuffle: shuffle the shard order (reshuffled every epoch); deterministic with a seed.
    """
    files = list_shards(file_pattern)
    ds = tf.data.Dataset.from_tensor_slices(files)
    pipelines = input_context.num_input_pipelines if input_context else 1
    pipeline_id = input_context.input_pipeline_id if input_context else 0
    by_file = pipelines > 1 and len(files) >= pipelines
    if by_file:
        ds = ds.shard(pipelines, pipeline_id)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if pipelines > 1 and not by_file:
        ds = ds.shard(pipelines, pipeline_id)
    return ds


def cache_shuffle_repeat(ds: tf.data.Dataset, *, cache: bool, shuffle: bool,
                         shuffle_buffer: int, seed: int | None, repeat: bool) -> tf.data.Dataset:
    """The common middle of a training pipeline, after the parse: optionally cache the parsed
    examples in memory, shuffle them in a `shuffle_buffer` (reshuffled every epoch, deterministic
    with a seed), and repeat forever."""
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds
