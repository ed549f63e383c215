"""Raw data sets -> sharded TFRecords (tpgan_tf/data/shards.py), one layout per model family.

    # TP-GAN: (profile, frontal) pairs from Multi-PIE (tpgan spec 1.2, 1.4, 6.2, 6.3)
    python -m data_prep.build_tfrecords --multipie_root=/data/MultiPIE \\
        --landmarks=/data/MultiPIE/landmarks.csv --output_dir=/data/tpgan_records --setting=2

--layout=pairs (default, data_prep/multipie_pairs.py) with --source=raw (the raw layout and a
landmark CSV in raw-image coordinates) or --source=aligned (the original's `FS_aligned` crops
and `FS_t5pt` files). The other layouts: README.

Output in `--output_dir`: `<split>-00000-of-000NN.tfrecord` shards, a `.json` sidecar per
finished shard, and `manifest.json` (settings, counts per split and pose, every skipped input
with its reason, notes such as zero-padded patch windows). A bad input is skipped and listed;
an interrupted run leaves no shard that looks complete and a rerun with the same flags skips
the finished shards.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time

import cv2
from absl import app, flags

from data_prep import multipie

FLAGS = flags.FLAGS
LAYOUTS = ("pairs",)


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_enum("layout", "pairs", list(LAYOUTS), "What one record holds: pairs "
                      "(TP-GAN: profile + frontal).")
    flags.DEFINE_enum("source", "raw", ["raw", "aligned"],
                      "raw: Multi-PIE raw layout + landmark CSV; aligned: FS_aligned crops + .5pt.")
    flags.DEFINE_string("multipie_root", None, "Multi-PIE root (holds data/session0S/...) for --source=raw.")
    flags.DEFINE_string("landmarks", None, "Landmark CSV (raw-image coordinates); default "
                        "<multipie_root>/landmarks.csv.")
    flags.DEFINE_string("aligned_dir", None, "Flat folder of *_cropped.png crops (--source=aligned).")
    flags.DEFINE_string("t5pt_dir", None, "Folder of *_trans.5pt files (--source=aligned).")
    flags.DEFINE_string("output_dir", None, "Where the shards and manifest.json go.")
    flags.DEFINE_integer("setting", 2, "Multi-PIE protocol for the subject split (tpgan spec 6.3): 1 or 2.")
    flags.DEFINE_integer("test_subjects_from", 0, "If > 0, replaces the setting's split: subjects >= "
                         "this id are 'test', the others 'train' (recording 01, every session).")
    flags.DEFINE_integer("yaw_low", 0, "Keep pairs with yaw_low <= |yaw| <= yaw_high.")
    flags.DEFINE_integer("yaw_high", 90, "Keep pairs with yaw_low <= |yaw| <= yaw_high.")
    flags.DEFINE_integer("num_shards", 0, "Shards per split; 0 = one per ~1000 records.")
    flags.DEFINE_integer("workers", 0, "Parallel worker processes; 0 = one per CPU core.")
    flags.DEFINE_integer("seed", 2017, "Seed of the record-to-shard assignment.")
    flags.DEFINE_bool("pose_independent_nose", False,
                      "Cut every nose patch with the centred rule o = 20 (tpgan spec 1.4) instead of the "
                      "camera table, e.g. for a model meant for photos whose camera is unknown.")
    flags.DEFINE_bool("overwrite", False, "Rebuild every shard even if a finished one exists.")


class FlagError(ValueError):
    """A flag value that makes no sense; the job stops before doing any work."""


def _init_worker():
    cv2.setNumThreads(1)  # the pool gives the parallelism


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


def write_splits(output_dir: str, job, by_split: dict, skipped: list, settings: dict, *,
                 count_name: str, note_name: str, num_shards: int = 0, workers: int = 0,
                 seed: int = 2017, overwrite: bool = False, show_progress: bool = True,
                 unit: str = "record", extra: dict | None = None) -> dict:
    """Writes every split of a job with a worker pool and the manifest; returns the manifest
    (per split: examples, `<unit>s` planned, shards, counts under "per_<count_name>"; notes
    under `note_name`; `extra` entries added)."""
    from tqdm import tqdm

    from tpgan_tf.data import shards

    shards.remove_leftovers(output_dir)
    manifest = {"settings": settings, "splits": {}, "skipped": list(skipped), note_name: []}
    start = time.time()
    ctx = multiprocessing.get_context("spawn")  # the workers never import TensorFlow
    with ctx.Pool(workers or os.cpu_count() or 1, initializer=_init_worker) as pool:
        for split, items in by_split.items():
            with tqdm(total=len(items), desc=f"{split} {unit}s", unit=unit,
                      disable=not show_progress, file=sys.stderr) as progress:
                info = shards.write_split(output_dir, split, items, job, pool,
                                          settings=settings, num_shards=num_shards, seed=seed,
                                          overwrite=overwrite, progress=progress)
            manifest["skipped"] += info.pop("skipped")
            manifest[note_name] += info.pop("notes")
            info[f"per_{count_name}"] = info.pop("counts")
            info[f"{unit}s"] = info.pop("items")
            manifest["splits"][split] = info
    manifest["seconds"] = round(time.time() - start, 2)
    manifest.update(extra or {})
    shards.write_manifest(output_dir, manifest)
    return manifest


def build(output_dir: str, *, source: str = "raw", multipie_root: str | None = None,
          landmark_csv: str | None = None, aligned_dir: str | None = None,
          t5pt_dir: str | None = None, setting: int = 2, test_subjects_from: int = 0,
          yaw_low: int = 0, yaw_high: int = 90, num_shards: int = 0, workers: int = 0,
          seed: int = 2017, overwrite: bool = False, pose_independent_nose: bool = False,
          show_progress: bool = True) -> dict:
    """The pair job (TP-GAN): builds the shards and manifest.json; returns the manifest."""
    from data_prep import multipie_pairs

    settings = dict(source=source, setting=setting, test_subjects_from=test_subjects_from,
                    yaw_low=yaw_low, yaw_high=yaw_high, seed=seed,
                    pose_independent_nose=pose_independent_nose)
    _check_settings(source, multipie_root, landmark_csv, aligned_dir, t5pt_dir, setting,
                    test_subjects_from, yaw_low, yaw_high, num_shards, workers)
    if source == "raw":
        sources = multipie.collect_raw(
            multipie_root, landmark_csv or os.path.join(multipie_root, "landmarks.csv"))
    else:
        sources = multipie.collect_aligned(aligned_dir, t5pt_dir)
    by_split, skipped = multipie_pairs.items_by_split(
        sources, setting=setting, test_subjects_from=test_subjects_from, yaw_low=yaw_low,
        yaw_high=yaw_high, pose_independent_nose=pose_independent_nose)
    return write_splits(output_dir, multipie_pairs.JOB, by_split, skipped, settings,
                        count_name="yaw", note_name="padded", num_shards=num_shards,
                        workers=workers, seed=seed, overwrite=overwrite,
                        show_progress=show_progress, unit="pair",
                        extra={"input_images": len(sources.keys)})


def main(argv):
    del argv
    from tpgan_tf.data.shards import ShardConflictError

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
    except (FlagError, ShardConflictError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    counts = ", ".join(f"{s}: {v['examples']} records in {len(v['shards'])} shards"
                       for s, v in manifest["splits"].items())
    rate = manifest["input_images"] / max(manifest["seconds"], 1e-6)
    print(f"wrote {counts}; skipped {len(manifest['skipped'])} inputs; "
          f"{manifest['input_images']} input images in {manifest['seconds']} s "
          f"({rate:.1f} images/s); manifest: {os.path.join(FLAGS.output_dir, 'manifest.json')}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
