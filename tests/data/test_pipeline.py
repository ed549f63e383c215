"""tf.data helpers shared by the input pipelines (tpgan_tf/data/pipeline.py): finding shards,
reading them, and each input pipeline's own share under tf.distribute."""
import os

import pytest
import tensorflow as tf

from tpgan_tf.data import pipeline


def _write_shards(folder, split, count, per_shard):
    for s in range(count):
        path = os.path.join(folder, f"{split}-{s:05d}-of-{count:05d}.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for i in range(per_shard):
                writer.write(f"{split}:{s}:{i}".encode())


def _read(pattern, **kwargs):
    ds = pipeline.read_records(pattern, shuffle=False, deterministic=True, **kwargs)
    return [r.decode() for r in ds.as_numpy_iterator()]


def test_split_pattern_and_list_shards(tmp_path):
    assert pipeline.split_pattern("/data", "train") == "/data/train-*.tfrecord"
    pattern = pipeline.split_pattern(str(tmp_path), "train")
    with pytest.raises(FileNotFoundError, match="no TFRecord shards match .*train-\\*.tfrecord"):
        pipeline.list_shards(pattern)
    _write_shards(str(tmp_path), "train", 3, 2)
    _write_shards(str(tmp_path), "test", 1, 2)
    assert [os.path.basename(p) for p in pipeline.list_shards(pattern)] == [
        f"train-0000{i}-of-00003.tfrecord" for i in range(3)]


def test_read_records_reads_everything_once(tmp_path):
    _write_shards(str(tmp_path), "train", 3, 4)
    got = _read(pipeline.split_pattern(str(tmp_path), "train"))
    assert sorted(got) == sorted(f"train:{s}:{i}" for s in range(3) for i in range(4))
    shuffled = pipeline.read_records(pipeline.split_pattern(str(tmp_path), "train"),
                                     shuffle=True, deterministic=True, seed=3)
    assert sorted(r.decode() for r in shuffled.as_numpy_iterator()) == sorted(got)


@pytest.mark.parametrize("shards", [4, 1])  # by file, and by record when too few files
def test_input_pipelines_read_disjoint_shares(tmp_path, shards):
    _write_shards(str(tmp_path), "train", shards, 8 // shards)
    pattern = pipeline.split_pattern(str(tmp_path), "train")
    shares = [set(_read(pattern, input_context=tf.distribute.InputContext(2, i, 1)))
              for i in range(2)]
    assert shares[0].isdisjoint(shares[1])
    assert len(shares[0]) == len(shares[1]) == 4
    assert shares[0] | shares[1] == set(_read(pattern))


def test_options_carry_determinism():
    assert pipeline.options(True).deterministic is True
    assert pipeline.options(False).deterministic is False
