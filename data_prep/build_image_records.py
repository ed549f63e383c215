"""Multi-PIE (or the built-in synthetic faces, which are in its raw layout) -> single-image
TFRecords for DR-GAN (tpgan_tf/data/image_records.py; drgan spec 5.1 protocol).

    # the DR-GAN protocol: 9 views within +-60, subjects 001-200 train, 201-346 test
    python -m data_prep.build_image_records --multipie_root=/data/MultiPIE \\
        --landmarks=/data/MultiPIE/landmarks.csv --output_dir=/data/drgan_records
    # 13 views within +-90
    python -m data_prep.build_image_records ... --max_yaw=90
    # the synthetic demo faces (python -m data_prep.synthetic --output_dir=faces ...)
    python -m data_prep.build_image_records --multipie_root=faces --output_dir=recs \\
        --test_subjects_from=19

The sibling of data_prep/build_tfrecords.py (TP-GAN's pairs), with the same machinery
(data_prep/build_tfrecords.write_splits, tpgan_tf/data/shards.py): output in --output_dir is
`<split>-00000-of-000NN.tfrecord` shards, a `.json` sidecar per finished shard and
`manifest.json` (settings, counts per split and yaw, every skipped input with its reason). A
bad input is skipped and listed; an interrupted run leaves no shard that looks complete; a
rerun with the same flags skips the finished shards. Planning: data_prep/multipie_images.py.
"""
from __future__ import annotations

import os
import sys

from absl import app, flags

from data_prep import multipie, multipie_images
from data_prep.build_tfrecords import FlagError, write_splits

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_enum("source", "raw", ["raw", "aligned"],
                      "raw: Multi-PIE raw layout + landmark CSV; aligned: FS_aligned crops + .5pt.")
    flags.DEFINE_string("multipie_root", None, "Multi-PIE root (holds data/session0S/...) for "
                        "--source=raw.")
    flags.DEFINE_string("landmarks", None, "Landmark CSV (raw-image coordinates); default "
                        "<multipie_root>/landmarks.csv.")
    flags.DEFINE_string("aligned_dir", None, "Flat folder of *_cropped.png crops (--source=aligned).")
    flags.DEFINE_string("t5pt_dir", None, "Folder of *_trans.5pt files (--source=aligned).")
    flags.DEFINE_string("output_dir", None, "Where the shards and manifest.json go.")
    flags.DEFINE_integer("max_yaw", 60, "Pose set: 60 = the 9 views within +-60 (drgan spec "
                         "5.1), 90 = 13 views.")
    flags.DEFINE_integer("test_subjects_from", 0, "If > 0, replaces the protocol's split: "
                         "subjects >= this id are 'test', the others 'train' (recording 01).")
    flags.DEFINE_integer("num_shards", 0, "Shards per split; 0 = one per ~1000 records.")
    flags.DEFINE_integer("workers", 0, "Parallel worker processes; 0 = one per CPU core.")
    flags.DEFINE_integer("seed", 2017, "Seed of the record-to-shard assignment.")
    flags.DEFINE_bool("overwrite", False, "Rebuild every shard even if a finished one exists.")


def _check_settings(source, root, landmark_csv, aligned_dir, t5pt_dir, max_yaw, test_from,
                    num_shards, workers) -> None:
    if source == "raw":
        if not root or not os.path.isdir(os.path.join(root, "data")):
            raise FlagError(f"--multipie_root={root!r} must be a folder holding data/session0S/...")
        csv = landmark_csv or os.path.join(root, "landmarks.csv")
        if not os.path.isfile(csv):
            raise FlagError(f"landmark file {csv!r} not found (--landmarks)")
    elif source == "aligned":
        for flag, value in (("--aligned_dir", aligned_dir), ("--t5pt_dir", t5pt_dir)):
            if not value or not os.path.isdir(value):
                raise FlagError(f"{flag}={value!r} must be an existing folder for --source=aligned")
    else:
        raise FlagError(f"--source must be raw or aligned, got {source!r}")
    if max_yaw not in multipie_images.POSE_SETS:
        raise FlagError(f"--max_yaw must be 60 (9 views) or 90 (13 views), got {max_yaw}")
    if test_from < 0:
        raise FlagError(f"--test_subjects_from must be >= 0, got {test_from}")
    if num_shards < 0 or workers < 0:
        raise FlagError("--num_shards and --workers must be >= 0")


def build(output_dir: str, *, source: str = "raw", multipie_root: str | None = None,
          landmark_csv: str | None = None, aligned_dir: str | None = None,
          t5pt_dir: str | None = None, max_yaw: int = 60, test_subjects_from: int = 0,
          num_shards: int = 0, workers: int = 0, seed: int = 2017, overwrite: bool = False,
          show_progress: bool = True) -> dict:
    """The image job (DR-GAN): builds the shards and manifest.json; returns the manifest."""
    _check_settings(source, multipie_root, landmark_csv, aligned_dir, t5pt_dir, max_yaw,
                    test_subjects_from, num_shards, workers)
    settings = dict(layout="images", source=source, max_yaw=max_yaw,
                    test_subjects_from=test_subjects_from, seed=seed,
                    protocol="drgan spec 5.1: recording 01, subjects 001-200 train"
                    if not test_subjects_from else
                    f"recording 01, subjects >= {test_subjects_from} test")
    if source == "raw":
        sources = multipie.collect_raw(
            multipie_root, landmark_csv or os.path.join(multipie_root, "landmarks.csv"))
    else:
        sources = multipie.collect_aligned(aligned_dir, t5pt_dir)
    by_split, skipped = multipie_images.items_by_split(
        sources, max_yaw=max_yaw, test_subjects_from=test_subjects_from)
    return write_splits(output_dir, multipie_images.JOB, by_split, skipped, settings,
                        count_name="yaw", note_name="notes", num_shards=num_shards,
                        workers=workers, seed=seed, overwrite=overwrite,
                        show_progress=show_progress, unit="image",
                        extra={"input_images": len(sources.keys),
                               "pose_set": {"max_yaw": max_yaw,
                                            "views": 2 * max_yaw // 15 + 1}})


def main(argv):
    del argv
    from tpgan_tf.data.shards import ShardConflictError

    if not FLAGS.output_dir:
        raise app.UsageError("--output_dir is required")
    try:
        manifest = build(FLAGS.output_dir, source=FLAGS.source,
                         multipie_root=FLAGS.multipie_root, landmark_csv=FLAGS.landmarks,
                         aligned_dir=FLAGS.aligned_dir, t5pt_dir=FLAGS.t5pt_dir,
                         max_yaw=FLAGS.max_yaw, test_subjects_from=FLAGS.test_subjects_from,
                         num_shards=FLAGS.num_shards, workers=FLAGS.workers, seed=FLAGS.seed,
                         overwrite=FLAGS.overwrite)
    except (FlagError, ShardConflictError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    counts = ", ".join(f"{s}: {v['examples']} images in {len(v['shards'])} shards"
                       for s, v in manifest["splits"].items())
    print(f"wrote {counts}; skipped {len(manifest['skipped'])} inputs; "
          f"{manifest['input_images']} input images in {manifest['seconds']} s; manifest: "
          f"{os.path.join(FLAGS.output_dir, 'manifest.json')}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
