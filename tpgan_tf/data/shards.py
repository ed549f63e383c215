"""The resumable, atomic, sharded TFRecord writer shared by every records job (data_prep).

A job turns its inputs into *items* (picklable), splits them into shards (`assign_shards`:
deterministic, items of one group kept together), and `write_split` runs a per-item function
in worker processes that never import TensorFlow. Each item gives a record (serialised in the
parent by the job's `to_example`) or a skipped entry {"path", "reason"}; a bad input never
stops the job.

Atomicity and resume: each shard is written as `<shard>.tmp-<pid>`, then its `.json` sidecar
(fingerprint of the settings and items, counts, skipped inputs, notes), then renamed to its
final name, so an interrupted run leaves no shard that looks complete; a rerun with the same
inputs and settings skips every finished shard (a finished shard built from other inputs is an
error unless overwrite). `manifest.json` is written last, atomically.

Shard names: `<split>-00000-of-000NN.tfrecord` (data/pipeline.py reads `<split>-*.tfrecord`).
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import math
import os
import random
from typing import Any, Callable, Sequence

from tpgan_tf.core import files

SHARD_PATTERN = "{split}-{index:05d}-of-{count:05d}.tfrecord"
MANIFEST = "manifest.json"
EXAMPLES_PER_SHARD = 1000


class ShardConflictError(ValueError):
    """A finished shard exists that was built from other inputs or settings."""


def shard_name(split: str, index: int, count: int) -> str:
    return SHARD_PATTERN.format(split=split, index=index, count=count)


def shard_count(num_items: int, num_shards: int = 0) -> int:
    """num_shards if > 0, else one shard per EXAMPLES_PER_SHARD items (at least one)."""
    return num_shards or max(1, math.ceil(num_items / EXAMPLES_PER_SHARD))


def assign_shards(items: Sequence, num_shards: int, seed: int,
                  group_of: Callable[[Any], str]) -> list[list]:
    """Deterministic split of `items` into `num_shards` lists; items with the same
    group_of(item) stay in one shard (e.g. every profile sharing a frontal)."""
    groups = collections.defaultdict(list)
    for item in items:
        groups[group_of(item)].append(item)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    shards = [[] for _ in range(num_shards)]
    for i, name in enumerate(order):
        shards[i % num_shards].extend(groups[name])
    return shards


def fingerprint(settings: dict, shard: Sequence, item_key: Callable[[Any], str]) -> str:
    """A short hash of the settings and of every item of a shard (its inputs)."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for item in shard:
        h.update(item_key(item).encode())
    return h.hexdigest()[:16]


@dataclasses.dataclass
class RecordsJob:
    """What a records job gives `write_split`.

    process: item -> (record or None, skipped {"path", "reason"} or None); runs in the
        worker processes (module-level function, no TensorFlow).
    to_example: record -> serialised tf.train.Example bytes (parent process).
    item_key: item -> str identifying its inputs (for the fingerprint).
    group_of: item -> str, items kept in one shard.
    count_by: record -> a key counted per shard and split (e.g. the yaw), or None.
    notes: record -> list of dicts for the manifest (e.g. zero-padded patch windows).
    """

    process: Callable
    to_example: Callable
    item_key: Callable[[Any], str]
    group_of: Callable[[Any], str]
    count_by: Callable[[dict], Any] | None = None
    notes: Callable[[dict], list] | None = None


def remove_leftovers(output_dir: str) -> None:
    """Deletes the temporary files of an interrupted run."""
    os.makedirs(output_dir, exist_ok=True)
    for name in os.listdir(output_dir):
        if ".tmp-" in name:
            os.remove(os.path.join(output_dir, name))


def _finished(path: str, fp: str) -> dict | None:
    """The sidecar of a finished shard built with the same inputs, else None."""
    if not (os.path.exists(path) and os.path.exists(path + ".json")):
        return None
    with open(path + ".json") as f:
        summary = json.load(f)
    if summary.get("fingerprint") != fp:
        raise ShardConflictError(f"{path} was built from other inputs or flags; use "
                                 "--overwrite or another --output_dir")
    return summary


def _write_shard(path: str, shard: Sequence, job: RecordsJob, pool, progress, fp: str) -> dict:
    """Writes one shard atomically (temporary name, sidecar, rename). Returns its summary."""
    import tensorflow as tf  # only the parent process needs TF

    tmp = f"{path}.tmp-{os.getpid()}"
    summary = {"fingerprint": fp, "examples": 0, "counts": {}, "skipped": [], "notes": []}
    counts = collections.Counter()
    with tf.io.TFRecordWriter(tmp) as writer:
        for record, skipped in pool.imap(job.process, shard, chunksize=8):
            progress.update(1)
            if record is None:
                summary["skipped"].append(skipped)
                continue
            writer.write(job.to_example(record))
            summary["examples"] += 1
            if job.count_by is not None:
                counts[job.count_by(record)] += 1
            if job.notes is not None:
                summary["notes"] += job.notes(record)
    summary["counts"] = {str(k): v for k, v in sorted(counts.items())}
    files.write_json_atomic(path + ".json", summary)
    os.replace(tmp, path)  # the shard appears complete only now
    return summary


def write_split(output_dir: str, split: str, items: Sequence, job: RecordsJob, pool, *,
                settings: dict, num_shards: int = 0, seed: int = 2017, overwrite: bool = False,
                progress=None) -> dict:
    """Writes (or skips, when finished) every shard of one split.

    Returns {"examples", "items", "shards": [{"file", "examples"}], "counts": {key: n},
    "skipped": [...], "notes": [...]} summed over the shards.
    """
    progress = progress or _NoProgress()
    count = shard_count(len(items), num_shards)
    shards = assign_shards(items, count, seed, job.group_of)
    info = {"examples": 0, "items": len(items), "shards": [], "counts": {}, "skipped": [],
            "notes": []}
    counts = collections.Counter()
    for index, shard in enumerate(shards):
        path = os.path.join(output_dir, shard_name(split, index, count))
        fp = fingerprint(settings, shard, job.item_key)
        summary = None if overwrite else _finished(path, fp)
        if summary is None:
            summary = _write_shard(path, shard, job, pool, progress, fp)
        else:
            progress.update(len(shard))
        info["shards"].append({"file": os.path.basename(path), "examples": summary["examples"]})
        info["examples"] += summary["examples"]
        counts.update({k: v for k, v in summary["counts"].items()})
        info["skipped"] += summary["skipped"]
        info["notes"] += summary["notes"]
    info["counts"] = dict(sorted(counts.items(), key=lambda kv: _sort_key(kv[0])))
    return info


class _NoProgress:
    def update(self, n: int) -> None:
        pass


def _sort_key(key: str):
    try:
        return (0, float(key))
    except ValueError:
        return (1, key)


def write_manifest(output_dir: str, manifest: dict) -> str:
    path = os.path.join(output_dir, MANIFEST)
    files.write_json_atomic(path, manifest)
    return path
