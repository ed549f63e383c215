"""Face images -> FSRNet face records (tpgan_tf/data/face_records.py): HR 128 x 128 crops,
landmarks and parsing label maps in `train-*` / `test-*` shards (a sibling of
data_prep/build_tfrecords.py, sharing its driver, shard writer and manifest).

    # Helen (fsrnet spec 8.1: 2,280 train / 50 test; --helen_split=helen for Helen's 2,000 / 330)
    python -m data_prep.build_face_records --source=helen --helen_dir=/data/helen \\
        --output_dir=/data/fsrnet/helen
    # CelebA (spec 8.2: first 18,000 train, next 100 test; --celeba_split=release: last 1,000)
    python -m data_prep.build_face_records --source=celeba \\
        --celeba_images=/data/celeba/img_align_celeba \\
        --celeba_landmarks=/data/celeba/list_landmarks_align_celeba.txt \\
        --celeba_parsing=/data/celeba/parsing --output_dir=/data/fsrnet/celeba
    # the built-in synthetic faces (68 iBUG points, Helen-11 labels; no downloads)
    python -m data_prep.build_face_records --source=synthetic --synthetic_identities=150 \\
        --synthetic_test_identities=12 --synthetic_views=4 --output_dir=runs/fsrnet_records
    # any folder of face photos without labels: MTCNN's five points, parsing maps drawn
    # from them (--folder_test=N: the last N faces are test; default all train)
    python -m data_prep.build_face_records --source=folder --folder=/data/my_faces \\
        --output_dir=/data/fsrnet/my_faces

The folder layouts each source reads: data_prep/helen.py, data_prep/celeba.py,
data_prep/folder.py; the crops: data_prep/face_crops.py (folder: also FSRNet's five-point
template crop, tpgan_tf/models/fsrnet/crop_rule.py). Output in --output_dir: the shards, a
`.json` sidecar per finished shard and manifest.json (settings, counts per split and source,
every skipped input with its reason, the crops that needed padding). A bad input (unreadable
image, missing, wrong-count or out-of-range landmarks, a missing or unreadable label map or one
of the wrong size; for the folder source no usable face) is skipped and listed (the first ten
also on the console); an interrupted run leaves no shard that looks complete and a rerun with
the same flags skips the finished shards. LR images, heatmaps and one-hot parsing maps are
made in the training input pipeline, not stored.
"""
from __future__ import annotations

import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS
SOURCES = ("helen", "celeba", "synthetic", "folder")
SHOWN_SKIPPED = 10  # skipped inputs named on the console (all are in manifest.json)


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_enum("source", None, list(SOURCES), "Which faces: helen, celeba, synthetic or "
                      "folder (any photos, data_prep/folder.py).")
    flags.DEFINE_string("output_dir", None, "Where the shards and manifest.json go.")
    flags.DEFINE_string("helen_dir", None, "Helen folder: images/, annotation/, labels/ "
                        "(data_prep/helen.py).")
    flags.DEFINE_enum("helen_split", "fsrnet", ["fsrnet", "helen"], "fsrnet: the last 50 "
                      "annotation files are test (spec 8.1); helen: trainnames/testnames.txt.")
    flags.DEFINE_float("crop_scale", 1.2, "Tight crops: box side / larger landmark extent.")
    flags.DEFINE_string("celeba_images", None, "Folder of CelebA images (img_align_celeba).")
    flags.DEFINE_string("celeba_landmarks", None, "Landmark file in the layout of "
                        "list_landmarks_align_celeba.txt (5 or 68 points).")
    flags.DEFINE_string("celeba_parsing", None, "Parsing labels: <stem>.png Helen-11 label maps, "
                        "or CelebAMask-HQ-mask-anno/ with --celeba_parsing_format=celebamask.")
    flags.DEFINE_enum("celeba_parsing_format", "labelmap", ["labelmap", "celebamask"],
                      "Layout of --celeba_parsing (data_prep/celeba.py).")
    flags.DEFINE_enum("celeba_split", "paper", ["paper", "release"], "paper: first 18,000 "
                      "train, next 100 test; release: the last 1,000 test.")
    flags.DEFINE_enum("celeba_crop", "center", ["center", "tight"], "CelebA crop box.")
    flags.DEFINE_integer("celeba_crop_offset", 0, "Center crop: move the box down by N pixels.")
    flags.DEFINE_integer("synthetic_identities", 150, "Synthetic training identities.")
    flags.DEFINE_integer("synthetic_test_identities", 12, "Synthetic test identities (others).")
    flags.DEFINE_integer("synthetic_views", 4, "Views per synthetic identity.")
    flags.DEFINE_integer("seed", 0, "Seed of the synthetic identities.")
    flags.DEFINE_string("folder", None, "--source=folder: a folder of face photos (any depth).")
    flags.DEFINE_enum("folder_crop", "template", ["template", "center"], "template: FSRNet's "
                      "five-point crop (--crop_template); center: the largest centred square "
                      "(folders of ready face crops).")
    flags.DEFINE_list("crop_template", None, "Ten numbers x0,y0,...,x4,y4: the five crop "
                      "points of --folder_crop=template (default: crop_rule.TEMPLATE, the "
                      "models' priors.crop_template default).")
    flags.DEFINE_integer("folder_test", 0, "The last N faces (path order) go to test; 0: all "
                         "train.")
    flags.DEFINE_float("min_confidence", None, "MTCNN confidence a face needs (default "
                       "detection.MIN_CONFIDENCE, 0.9).")
    flags.DEFINE_float("folder_max_enlarge", 1.25, "Skip faces their crop would enlarge more "
                       "than this.")
    flags.DEFINE_integer("num_shards", 0, "Shards per split; 0 = one per ~1000 records.")
    flags.DEFINE_integer("workers", 0, "Parallel worker processes; 0 = one per CPU core.")
    flags.DEFINE_integer("shard_seed", 2017, "Seed of the record-to-shard assignment.")
    flags.DEFINE_bool("overwrite", False, "Rebuild every shard even if a finished one exists.")


def synthetic_items(identities: int, test_identities: int, views: int, seed: int = 0):
    """({"train", "test": FaceItems}, []) of the built-in faces: identities 0 .. identities-1
    for training, the next `test_identities` for testing, `views` views each."""
    from data_prep.face_records_job import FaceItem

    if identities < 1 or test_identities < 0 or views < 1:
        raise ValueError(f"need --synthetic_identities >= 1, --synthetic_test_identities >= 0 "
                         f"and --synthetic_views >= 1, got {identities}, {test_identities}, "
                         f"{views}")

    def items(first, stop):
        return [FaceItem(source="synthetic", name=f"synthetic_{seed}_{i:05d}_{v}",
                         landmark_scheme="ibug68", num_landmarks=68, synthetic=(seed, i, v))
                for i in range(first, stop) for v in range(views)]

    by_split = {"train": items(0, identities)}
    if test_identities:
        by_split["test"] = items(identities, identities + test_identities)
    return by_split, []


def build(output_dir: str, source: str, *, helen_dir: str | None = None,
          helen_split: str = "fsrnet", crop_scale: float = 1.2,
          celeba_images: str | None = None, celeba_landmarks: str | None = None,
          celeba_parsing: str | None = None, celeba_parsing_format: str = "labelmap",
          celeba_split: str = "paper", celeba_crop: str = "center", celeba_crop_offset: int = 0,
          synthetic_identities: int = 150, synthetic_test_identities: int = 12,
          synthetic_views: int = 4, seed: int = 0, folder: str | None = None,
          folder_crop: str = "template", crop_template=None, folder_test: int = 0,
          min_confidence: float | None = None, folder_max_enlarge: float = 1.25,
          num_shards: int = 0, workers: int = 0,
          shard_seed: int = 2017, overwrite: bool = False, show_progress: bool = True) -> dict:
    """Builds the shards and manifest.json of one source; returns the manifest."""
    from data_prep import build_tfrecords, celeba, helen
    from data_prep import folder as folder_source
    from data_prep.face_records_job import JOB

    if num_shards < 0 or workers < 0:
        raise ValueError("--num_shards and --workers must be >= 0")
    if crop_scale <= 0:
        raise ValueError(f"--crop_scale must be > 0, got {crop_scale}")
    settings = {"source": source}
    if source == "helen":
        if not helen_dir:
            raise ValueError("--source=helen needs --helen_dir")
        by_split, skipped = helen.collect(helen_dir, helen_split, crop_scale)
        settings.update(helen_split=helen_split, crop="tight", crop_scale=crop_scale)
    elif source == "celeba":
        by_split, skipped = celeba.collect(
            celeba_images, celeba_landmarks, celeba_parsing, split=celeba_split,
            parsing_format=celeba_parsing_format, crop=celeba_crop,
            crop_offset=celeba_crop_offset, crop_scale=crop_scale)
        settings.update(celeba_split=celeba_split, parsing_format=celeba_parsing_format,
                        crop=celeba_crop, crop_offset=celeba_crop_offset, crop_scale=crop_scale)
    elif source == "synthetic":
        by_split, skipped = synthetic_items(synthetic_identities, synthetic_test_identities,
                                            synthetic_views, seed)
        settings.update(identities=synthetic_identities,
                        test_identities=synthetic_test_identities, views=synthetic_views,
                        seed=seed)
    elif source == "folder":
        if not folder:
            raise ValueError("--source=folder needs --folder")
        if crop_template is not None:
            try:
                crop_template = [float(v) for v in crop_template]
            except ValueError:
                raise ValueError(f"--crop_template: ten numbers x0,y0,...,x4,y4, got "
                                 f"{crop_template}") from None
        by_split, skipped = folder_source.collect(
            folder, crop=folder_crop, template=crop_template, test_count=folder_test,
            min_confidence=min_confidence, max_enlarge=folder_max_enlarge,
            show_progress=show_progress)
        settings.update(folder=os.path.abspath(folder), crop=folder_crop,
                        template=(folder_source.resolve_template(crop_template).tolist()
                                  if folder_crop == "template" else []),
                        test=folder_test, min_confidence=min_confidence,
                        max_enlarge=folder_max_enlarge, landmarks="mtcnn5",
                        parsing="drawn from the five points (data_prep/drawn_parsing.py)")
    else:
        raise ValueError(f"--source must be one of {SOURCES}, got {source!r}")
    return build_tfrecords.write_splits(
        output_dir, JOB, by_split, skipped, settings, count_name="source", note_name="padded",
        num_shards=num_shards, workers=workers, seed=shard_seed, overwrite=overwrite,
        show_progress=show_progress, unit="face")


def main(argv):
    del argv
    from tpgan_tf.data.shards import ShardConflictError

    for name in ("source", "output_dir"):
        if not getattr(FLAGS, name):
            raise app.UsageError(f"--{name} is required")
    try:
        manifest = build(
            FLAGS.output_dir, FLAGS.source, helen_dir=FLAGS.helen_dir,
            helen_split=FLAGS.helen_split, crop_scale=FLAGS.crop_scale,
            celeba_images=FLAGS.celeba_images, celeba_landmarks=FLAGS.celeba_landmarks,
            celeba_parsing=FLAGS.celeba_parsing,
            celeba_parsing_format=FLAGS.celeba_parsing_format, celeba_split=FLAGS.celeba_split,
            celeba_crop=FLAGS.celeba_crop, celeba_crop_offset=FLAGS.celeba_crop_offset,
            synthetic_identities=FLAGS.synthetic_identities,
            synthetic_test_identities=FLAGS.synthetic_test_identities,
            synthetic_views=FLAGS.synthetic_views, seed=FLAGS.seed, folder=FLAGS.folder,
            folder_crop=FLAGS.folder_crop, crop_template=FLAGS.crop_template,
            folder_test=FLAGS.folder_test, min_confidence=FLAGS.min_confidence,
            folder_max_enlarge=FLAGS.folder_max_enlarge, num_shards=FLAGS.num_shards,
            workers=FLAGS.workers, shard_seed=FLAGS.shard_seed,
            overwrite=FLAGS.overwrite)
    except (ShardConflictError, ValueError, FileNotFoundError, FileExistsError, KeyError) as err:
        message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        print(f"error: {message}", file=sys.stderr)  # data_prep does not import experiments/
        sys.exit(1)
    skipped = manifest["skipped"]
    for entry in skipped[:SHOWN_SKIPPED]:
        print(f"skipped {entry['path']}: {entry['reason']}", file=sys.stderr)
    if len(skipped) > SHOWN_SKIPPED:
        print(f"... and {len(skipped) - SHOWN_SKIPPED} more skipped inputs (manifest.json)",
              file=sys.stderr)
    counts = ", ".join(f"{s}: {v['examples']} faces in {len(v['shards'])} shards"
                       for s, v in manifest["splits"].items())
    print(f"wrote {counts}; skipped {len(manifest['skipped'])} inputs in "
          f"{manifest['seconds']} s; manifest: {os.path.join(FLAGS.output_dir, 'manifest.json')}",
          file=sys.stdout)


if __name__ == "__main__":
    define_flags()
    app.run(main)
