"""Multi-PIE (raw layout + 5-point landmarks) -> aligned pairs in sharded TFRecords.

    python -m data_prep.build_tfrecords --multipie_root=/data/MultiPIE \
        --landmarks=/data/MultiPIE/landmarks.csv --output_dir=/data/tpgan_records --setting=2

Input, either
  * `--source=raw` (default): the raw layout `<root>/data/session0S/multiview/SSS/RR/CC_C/
    SSS_SS_RR_CCC_II.png` and a landmark CSV in raw-image coordinates (data_prep/landmarks.py);
    every image is aligned here (spec 1.2);
  * `--source=aligned`: the original code's hand-made folders, a flat `--aligned_dir` of
    `SSS_SS_RR_CCC_II_cropped.png` 128x128 crops and `--t5pt_dir` of `SSS_SS_RR_CCC_trans.5pt`
    files (crop coordinates, spec 1.3).
Output in `--output_dir`: `<split>-00000-of-000NN.tfrecord` shards (one Example per (profile,
frontal) pair, tpgan_tf/tfrecord_schema.py), a `.json` sidecar per finished shard, and
`manifest.json` (counts per split and pose, every skipped input with its reason, padded patches).

Robustness: a bad input (corrupt or empty image, missing frontal, missing or out-of-range
landmarks, unknown camera, wrong folder) is skipped and listed; the job still finishes. Each shard
is written under a temporary name and renamed when complete (its sidecar first), so an
interrupted run leaves no shard that looks complete, and a rerun with the same flags skips the
finished shards.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import random
import sys
import time

import cv2
import numpy as np
from absl import app, flags

from data_prep import alignment, landmarks, multipie, patches
from tpgan_tf.parts import IMAGE_SIZE, PART_NAMES

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_enum("source", "raw", ["raw", "aligned"],
                      "raw: Multi-PIE raw layout + landmark CSV; aligned: FS_aligned crops + .5pt.")
    flags.DEFINE_string("multipie_root", None, "Multi-PIE root (holds data/session0S/...) for --source=raw.")
    flags.DEFINE_string("landmarks", None, "Landmark CSV (raw-image coordinates); default "
                        "<multipie_root>/landmarks.csv.")
    flags.DEFINE_string("aligned_dir", None, "Flat folder of *_cropped.png crops (--source=aligned).")
    flags.DEFINE_string("t5pt_dir", None, "Folder of *_trans.5pt files (--source=aligned).")
    flags.DEFINE_string("output_dir", None, "Where the shards and manifest.json go.")
    flags.DEFINE_integer("setting", 2, "Multi-PIE protocol for the subject split (spec 6.3): 1 or 2.")
    flags.DEFINE_integer("test_subjects_from", 0, "If > 0, replaces the setting's split: subjects >= "
                         "this id are 'test', the others 'train' (recording 01, every session).")
    flags.DEFINE_integer("yaw_low", 0, "Keep pairs with yaw_low <= |yaw| <= yaw_high.")
    flags.DEFINE_integer("yaw_high", 90, "Keep pairs with yaw_low <= |yaw| <= yaw_high.")
    flags.DEFINE_integer("num_shards", 0, "Shards per split; 0 = one per ~1000 pairs.")
    flags.DEFINE_integer("workers", 0, "Parallel worker processes; 0 = one per CPU core.")
    flags.DEFINE_integer("seed", 2017, "Seed of the pair-to-shard assignment.")
    flags.DEFINE_bool("pose_independent_nose", False,
                      "Cut every nose patch with the centred rule o = 20 (spec 1.4) instead of the "
                      "camera table, e.g. for a model meant for photos whose camera is unknown.")
    flags.DEFINE_bool("overwrite", False, "Rebuild every shard even if a finished one exists.")


MANIFEST = "manifest.json"
PAIRS_PER_SHARD = 1000


class FlagError(ValueError):
    """A flag value that makes no sense; the job stops before doing any work."""


@dataclasses.dataclass(frozen=True)
class Task:
    """One pair to process: image paths (absolute) and their landmark sources."""

    profile_path: str
    frontal_path: str
    profile_rel: str
    frontal_rel: str
    camera: str  # folder form "05_0"
    profile_points: tuple | None  # [5][2] raw (source=raw) or .5pt integers (source=aligned)
    frontal_points: tuple | None
    aligned: bool
    nose_offset: int  # spec 1.4: the camera's table entry, or 20 (pose-independent rule)
    fields: tuple  # (subject, session, recording, illumination, yaw)


# ----------------------------------------------------------------------------- worker side

def _read_image(path: str) -> tuple[np.ndarray | None, str | None]:
    """RGB uint8 image, or (None, reason)."""
    try:
        size = os.path.getsize(path)
    except OSError as err:
        return None, f"cannot read file ({err.strerror})"
    if size == 0:
        return None, "empty file (0 bytes)"
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        return None, "unreadable image (corrupt, truncated or not an image)"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), None


def _prepare_side(path: str, points, aligned: bool, nose_offset: int) -> tuple[dict | None, str | None]:
    """Load, align (raw source) and cut the patch windows of one side of a pair."""
    if points is None:
        return None, "no landmarks for this image"
    image, reason = _read_image(path)
    if image is None:
        return None, reason
    if aligned:
        if image.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            return None, f"aligned crop is {image.shape[1]}x{image.shape[0]}, expected 128x128"
        index_points = np.asarray(points, dtype=np.int64)  # spec 1.3: used as 0-based indices
        problem = landmarks.check_landmarks(index_points, IMAGE_SIZE, IMAGE_SIZE)
        if problem:
            return None, f"landmarks: {problem}"
        crop, float_points = image, landmarks.from_index_points(index_points)
    else:
        problem = landmarks.check_landmarks(points, image.shape[1], image.shape[0])
        if problem:
            return None, f"landmarks: {problem}"
        face = alignment.align_face(image, np.asarray(points, dtype=np.float64))
        crop, float_points, index_points = face.image, face.landmarks, face.landmarks_rounded
    windows = patches.part_windows(index_points, nose_offset)
    padded = {}
    for name, (top, left, h, w) in windows.items():
        padded[name] = top < 0 or left < 0 or top + h > IMAGE_SIZE or left + w > IMAGE_SIZE
    ok, png = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    if not ok:
        return None, "PNG encoding failed"
    return {"png": png.tobytes(), "landmarks": np.asarray(float_points, np.float32),
            "windows": np.array([windows[n][:2] for n in PART_NAMES], np.int64),
            "padded": np.array([padded[n] for n in PART_NAMES], np.int64)}, None


_frontal_cache: "collections.OrderedDict[str, tuple]" = collections.OrderedDict()


def _prepare_frontal(task: Task):
    # Every profile of one (subject, session, recording, illumination) shares its frontal, and
    # shards keep such groups together: remember the last few frontals of this worker.
    key = task.frontal_path
    if key not in _frontal_cache:
        _frontal_cache[key] = _prepare_side(task.frontal_path, task.frontal_points,
                                            task.aligned, patches.GT_NOSE_OFFSET)
        if len(_frontal_cache) > 64:
            _frontal_cache.popitem(last=False)
    return _frontal_cache[key]


def process_pair(task: Task) -> tuple[dict | None, dict | None]:
    """Task -> (record for tfrecord_schema.make_example, None) or (None, skipped entry)."""
    frontal, reason = _prepare_frontal(task)
    if frontal is None:
        return None, {"path": task.profile_rel,
                      "reason": f"frontal {task.frontal_rel}: {reason}"}
    profile, reason = _prepare_side(task.profile_path, task.profile_points, task.aligned,
                                    task.nose_offset)
    if profile is None:
        return None, {"path": task.profile_rel, "reason": reason}
    subject, session, recording, illumination, yaw = task.fields
    record = {"camera": task.camera, "subject": subject, "session": session,
              "recording": recording, "illumination": illumination, "yaw": yaw,
              "profile/path": task.profile_rel, "frontal/path": task.frontal_rel}
    for side, data in (("profile", profile), ("frontal", frontal)):
        for k, v in data.items():
            record[f"{side}/{k}"] = v
    return record, None


def _init_worker():
    cv2.setNumThreads(1)  # the pool gives the parallelism


# ----------------------------------------------------------------------------- planning

def _split_of(key: multipie.ImageKey, setting: int, test_from: int) -> str | None:
    if test_from > 0:
        if key.recording != multipie.NEUTRAL_RECORDING:
            return None
        return "test" if key.subject >= test_from else "train"
    return multipie.split_of(key, setting)


def _collect_raw(root: str, landmark_csv: str):
    keys, skipped = multipie.scan(root)
    points = landmarks.read_landmark_csv(landmark_csv)
    path_of = lambda k: os.path.join(root, *k.relative_path().split("/"))  # noqa: E731
    return keys, skipped, path_of, lambda k: points.get(k.relative_path()), k_rel


def k_rel(key: multipie.ImageKey) -> str:
    return key.relative_path()


def _collect_aligned(aligned_dir: str, t5pt_dir: str):
    keys, skipped, files = [], [], {}
    for name in sorted(os.listdir(aligned_dir)):
        if not name.lower().endswith(".png"):
            continue
        stem = name[:-len(".png")]
        if not stem.endswith("_cropped"):
            skipped.append(multipie.Skipped(name, "name does not end in _cropped.png"))
            continue
        try:
            key = multipie.ImageKey.parse_filename(stem[:-len("_cropped")] + ".png")
        except ValueError as err:
            skipped.append(multipie.Skipped(name, str(err)))
            continue
        keys.append(key)
        files[key] = name

    def points_of(key):
        path = landmarks.trans5pt_path(t5pt_dir, key)
        if not os.path.exists(path):
            return None
        try:
            return landmarks.read_5pt(path).astype(np.int64)
        except ValueError:
            return None

    return (keys, skipped, lambda k: os.path.join(aligned_dir, files[k]), points_of,
            lambda k: files[k])


def plan_tasks(pairs, path_of, points_of, rel_of, aligned: bool,
               pose_independent_nose: bool = False) -> list[Task]:
    tasks = []
    for profile, frontal in pairs:
        pp, fp = points_of(profile), points_of(frontal)
        tasks.append(Task(
            profile_path=path_of(profile), frontal_path=path_of(frontal),
            profile_rel=rel_of(profile), frontal_rel=rel_of(frontal),
            camera=profile.camera,
            profile_points=None if pp is None else tuple(map(tuple, np.asarray(pp).tolist())),
            frontal_points=None if fp is None else tuple(map(tuple, np.asarray(fp).tolist())),
            aligned=aligned,
            nose_offset=patches.nose_offset_for(None if pose_independent_nose else profile.camera),
            fields=(profile.subject, profile.session, profile.recording, profile.illumination,
                    profile.yaw)))
    return tasks


def assign_shards(tasks: list[Task], num_shards: int, seed: int) -> list[list[Task]]:
    """Deterministic split into shards; pairs sharing a frontal stay in one shard."""
    groups = collections.defaultdict(list)
    for t in tasks:
        groups[t.frontal_rel].append(t)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    shards = [[] for _ in range(num_shards)]
    for i, name in enumerate(order):
        shards[i % num_shards].extend(groups[name])
    return shards


def _fingerprint(settings: dict, shard: list[Task]) -> str:
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for t in shard:
        h.update(f"{t.profile_rel}|{t.frontal_rel}|{t.profile_points}|{t.frontal_points}".encode())
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------- writing

def _write_shard(path: str, shard: list[Task], pool, progress, fingerprint: str) -> dict:
    """Writes one shard atomically (temporary name, sidecar, rename). Returns its summary."""
    import tensorflow as tf  # only the parent process needs TF

    from tpgan_tf.tfrecord_schema import make_example

    tmp = f"{path}.tmp-{os.getpid()}"
    summary = {"fingerprint": fingerprint, "examples": 0, "per_yaw": {}, "skipped": [],
               "padded": []}
    per_yaw = collections.Counter()
    with tf.io.TFRecordWriter(tmp) as writer:
        for record, skipped in pool.imap(process_pair, shard, chunksize=8):
            progress.update(1)
            if record is None:
                summary["skipped"].append(skipped)
                continue
            writer.write(make_example(record))
            summary["examples"] += 1
            per_yaw[int(record["yaw"])] += 1
            for side in ("profile", "frontal"):
                parts = [n for n, p in zip(PART_NAMES, record[f"{side}/padded"]) if p]
                if parts:
                    summary["padded"].append({"path": record[f"{side}/path"], "parts": parts})
    summary["per_yaw"] = {str(k): v for k, v in sorted(per_yaw.items())}
    _atomic_json(path + ".json", summary)
    os.replace(tmp, path)  # the shard appears complete only now
    return summary


def _atomic_json(path: str, obj) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _finished(path: str, fingerprint: str) -> dict | None:
    """The sidecar of a finished shard built with the same inputs, else None."""
    if not (os.path.exists(path) and os.path.exists(path + ".json")):
        return None
    with open(path + ".json") as f:
        summary = json.load(f)
    if summary.get("fingerprint") != fingerprint:
        raise FlagError(f"{path} was built from other inputs or flags; use --overwrite or "
                        "another --output_dir")
    return summary


def build(output_dir: str, *, source: str = "raw", multipie_root: str | None = None,
          landmark_csv: str | None = None, aligned_dir: str | None = None,
          t5pt_dir: str | None = None, setting: int = 2, test_subjects_from: int = 0,
          yaw_low: int = 0, yaw_high: int = 90, num_shards: int = 0, workers: int = 0,
          seed: int = 2017, overwrite: bool = False, pose_independent_nose: bool = False,
          show_progress: bool = True) -> dict:
    """Builds the shards and manifest.json; returns the manifest. See the module docstring."""
    from tqdm import tqdm

    settings = dict(source=source, setting=setting, test_subjects_from=test_subjects_from,
                    yaw_low=yaw_low, yaw_high=yaw_high, seed=seed,
                    pose_independent_nose=pose_independent_nose)
    _check_settings(source, multipie_root, landmark_csv, aligned_dir, t5pt_dir, setting,
                    test_subjects_from, yaw_low, yaw_high, num_shards, workers)
    if source == "raw":
        landmark_csv = landmark_csv or os.path.join(multipie_root, "landmarks.csv")
        keys, skipped, path_of, points_of, rel_of = _collect_raw(multipie_root, landmark_csv)
    else:
        keys, skipped, path_of, points_of, rel_of = _collect_aligned(aligned_dir, t5pt_dir)
    skipped = [dataclasses.asdict(s) for s in skipped]
    pairs, missing = multipie.make_pairs(keys, yaw_low, yaw_high)
    skipped += [dataclasses.asdict(s) for s in missing]
    by_split = collections.defaultdict(list)
    for pair in pairs:
        split = _split_of(pair.profile, setting, test_subjects_from)
        if split is not None:
            by_split[split].append(pair)
    os.makedirs(output_dir, exist_ok=True)
    for name in os.listdir(output_dir):  # leftovers of an interrupted run
        if ".tmp-" in name:
            os.remove(os.path.join(output_dir, name))

    workers = workers or os.cpu_count() or 1
    manifest = {"settings": settings, "splits": {}, "skipped": skipped, "padded": []}
    start = time.time()
    ctx = multiprocessing.get_context("spawn")  # the workers never import TensorFlow
    with ctx.Pool(workers, initializer=_init_worker) as pool:
        for split in sorted(by_split):
            tasks = plan_tasks(by_split[split], path_of, points_of, rel_of, source == "aligned",
                               pose_independent_nose)
            count = num_shards or max(1, math.ceil(len(tasks) / PAIRS_PER_SHARD))
            shards = assign_shards(tasks, count, seed)
            info = {"examples": 0, "pairs": len(tasks), "shards": [], "per_yaw": {}}
            per_yaw = collections.Counter()
            with tqdm(total=len(tasks), desc=f"{split} pairs", unit="pair",
                      disable=not show_progress, file=sys.stderr) as progress:
                for index, shard in enumerate(shards):
                    from tpgan_tf.tfrecord_schema import shard_name
                    path = os.path.join(output_dir, shard_name(split, index, count))
                    fingerprint = _fingerprint(settings, shard)
                    summary = None if overwrite else _finished(path, fingerprint)
                    if summary is None:
                        summary = _write_shard(path, shard, pool, progress, fingerprint)
                    else:
                        progress.update(len(shard))
                    info["shards"].append({"file": os.path.basename(path),
                                           "examples": summary["examples"]})
                    info["examples"] += summary["examples"]
                    per_yaw.update({int(k): v for k, v in summary["per_yaw"].items()})
                    manifest["skipped"] += summary["skipped"]
                    manifest["padded"] += summary["padded"]
            info["per_yaw"] = {str(k): v for k, v in sorted(per_yaw.items())}
            manifest["splits"][split] = info
    manifest["seconds"] = round(time.time() - start, 2)
    manifest["input_images"] = len(keys)
    _atomic_json(os.path.join(output_dir, MANIFEST), manifest)
    return manifest


def _check_settings(source, root, landmark_csv, aligned_dir, t5pt_dir, setting, test_from,
                    yaw_low, yaw_high, num_shards, workers) -> None:
    if source == "raw":
        if not root or not os.path.isdir(os.path.join(root, "data")):
            raise FlagError(f"--multipie_root={root!r} must be a folder holding data/session0S/...")
        csv = landmark_csv or os.path.join(root, "landmarks.csv")
        if not os.path.isfile(csv):
            raise FlagError(f"landmark file {csv!r} not found (--landmarks)")
    else:
        for flag, value in (("--aligned_dir", aligned_dir), ("--t5pt_dir", t5pt_dir)):
            if not value or not os.path.isdir(value):
                raise FlagError(f"{flag}={value!r} must be an existing folder for --source=aligned")
    if setting not in (1, 2):
        raise FlagError(f"--setting must be 1 or 2, got {setting}")
    if test_from < 0:
        raise FlagError(f"--test_subjects_from must be >= 0, got {test_from}")
    if not 0 <= yaw_low <= yaw_high <= 90:
        raise FlagError(f"need 0 <= --yaw_low <= --yaw_high <= 90, got {yaw_low}..{yaw_high}")
    if num_shards < 0 or workers < 0:
        raise FlagError("--num_shards and --workers must be >= 0")


def main(argv):
    del argv
    if not FLAGS.output_dir:
        raise app.UsageError("--output_dir is required")
    try:
        manifest = build(FLAGS.output_dir, source=FLAGS.source, multipie_root=FLAGS.multipie_root,
                         landmark_csv=FLAGS.landmarks, aligned_dir=FLAGS.aligned_dir,
                         t5pt_dir=FLAGS.t5pt_dir, setting=FLAGS.setting,
                         test_subjects_from=FLAGS.test_subjects_from, yaw_low=FLAGS.yaw_low,
                         yaw_high=FLAGS.yaw_high, num_shards=FLAGS.num_shards,
                         workers=FLAGS.workers, seed=FLAGS.seed, overwrite=FLAGS.overwrite,
                         pose_independent_nose=FLAGS.pose_independent_nose)
    except FlagError as err:
        raise app.UsageError(str(err)) from None
    counts = ", ".join(f"{s}: {v['examples']} pairs in {len(v['shards'])} shards"
                       for s, v in manifest["splits"].items())
    rate = manifest["input_images"] / max(manifest["seconds"], 1e-6)
    print(f"wrote {counts}; skipped {len(manifest['skipped'])} inputs; "
          f"{manifest['input_images']} input images in {manifest['seconds']} s "
          f"({rate:.1f} images/s); manifest: {os.path.join(FLAGS.output_dir, MANIFEST)}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
