"""The resumable, atomic shard writer (tpgan_tf/data/shards.py): shard names and assignment,
fingerprints, and the resume of an interrupted pair-records build (tests/conftest.py
`pair_records`): finished shards are kept, a half-written one is redone, other inputs stop."""
import os
import shutil

import pytest
import tensorflow as tf

from data_prep import build_tfrecords
from tpgan_tf.data import shards


def test_rerun_after_interrupted_shard(pair_records, tmp_path):
    out, manifest, root, _ = pair_records
    work = str(tmp_path / "rerun")
    shutil.copytree(out, work)
    # Simulate a crash while writing train shard 1: only its temporary file exists.
    shard = os.path.join(work, "train-00001-of-00002.tfrecord")
    os.replace(shard, shard + ".tmp-4242")
    os.remove(shard + ".json")
    kept = os.path.join(work, "train-00000-of-00002.tfrecord")
    kept_mtime = os.stat(kept).st_mtime_ns
    again = build_tfrecords.build(work, multipie_root=root, test_subjects_from=3,
                                  num_shards=2, workers=1, show_progress=False)
    assert again["splits"] == manifest["splits"]
    assert os.stat(kept).st_mtime_ns == kept_mtime  # a finished shard is not rewritten
    assert not [f for f in os.listdir(work) if ".tmp-" in f]
    assert sum(1 for _ in tf.data.TFRecordDataset(shard)) == next(
        s["examples"] for s in manifest["splits"]["train"]["shards"]
        if s["file"] == os.path.basename(shard))
    # Other flags on the same output: a clear stop, not a silent mix of two builds.
    with pytest.raises(shards.ShardConflictError, match="other inputs or flags"):
        build_tfrecords.build(work, multipie_root=root, test_subjects_from=3, yaw_high=60,
                              num_shards=2, workers=1, show_progress=False)


def test_shard_names_and_counts():
    assert shards.shard_name("train", 3, 12) == "train-00003-of-00012.tfrecord"
    assert shards.shard_count(0) == 1 and shards.shard_count(1000) == 1
    assert shards.shard_count(1001) == 2 and shards.shard_count(10, num_shards=4) == 4


def test_assign_shards_is_deterministic_and_keeps_groups_together():
    items = [(g, i) for g in "abcdefg" for i in range(3)]  # 7 groups of 3
    group_of = lambda item: item[0]  # noqa: E731
    first = shards.assign_shards(items, 3, seed=5, group_of=group_of)
    assert first == shards.assign_shards(items, 3, seed=5, group_of=group_of)
    # Which shard a group goes to does not depend on the input order.
    backwards = shards.assign_shards(items[::-1], 3, seed=5, group_of=group_of)
    assert [sorted(s) for s in backwards] == [sorted(s) for s in first]
    assert sorted(x for shard in first for x in shard) == sorted(items)
    for shard in first:
        groups = {g for g, _ in shard}
        assert all(sum(1 for g2, _ in shard if g2 == g) == 3 for g in groups)
    assert sorted(len(s) for s in first) == [6, 6, 9]  # groups dealt round-robin
    assert first != shards.assign_shards(items, 3, seed=6, group_of=group_of)


def test_fingerprint_depends_on_settings_and_items():
    key = str
    base = shards.fingerprint({"a": 1, "b": 2}, [1, 2], key)
    assert base == shards.fingerprint({"b": 2, "a": 1}, [1, 2], key)  # key order irrelevant
    assert base != shards.fingerprint({"a": 1, "b": 3}, [1, 2], key)
    assert base != shards.fingerprint({"a": 1, "b": 2}, [2, 1], key)
    assert len(base) == 16


def test_remove_leftovers_deletes_only_temporary_files(tmp_path):
    for name in ("train-00000-of-00001.tfrecord", "train-00000-of-00001.tfrecord.tmp-12",
                 "manifest.json.tmp-3", "manifest.json"):
        (tmp_path / name).write_text("x")
    shards.remove_leftovers(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "train-00000-of-00001.tfrecord"]
