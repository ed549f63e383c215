"""The main job end to end on the built-in synthetic data (`make demo`; no downloads).

    python -m experiments.run_demo --workdir=runs/demo

Steps (each is skipped when its output already exists, so an interrupted demo resumes):
  1. render synthetic multi-view faces in the raw Multi-PIE layout   -> <workdir>/multipie
  2. build the TFRecord shards (alignment, patches, manifest)         -> <workdir>/records
  3. read one training batch through the input pipeline and save a picture of it
  4. build the models of the `demo` preset and print their sizes
"""
from __future__ import annotations

import json
import os

from absl import app, flags, logging


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("workdir", "runs/demo", "Where every output of the demo goes.")
    flags.DEFINE_integer("subjects", 24, "Synthetic identities (the last quarter is the test split).")
    flags.DEFINE_integer("seed", 0, "Seed of the synthetic identities.")


FLAGS = flags.FLAGS

ILLUMINATIONS = (4, 7, 10)


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def make_data(workdir: str, subjects: int, seed: int) -> str:
    """Steps 1-2. Returns the records folder."""
    from data_prep import build_tfrecords, synthetic

    root = os.path.join(workdir, "multipie")
    records = os.path.join(workdir, "records")
    _step("1. synthetic multi-view faces (raw Multi-PIE layout)")
    if os.path.exists(os.path.join(root, "landmarks.csv")):
        print(f"already there: {root}")
    else:
        summary = synthetic.generate(root, subjects, illuminations=ILLUMINATIONS, seed=seed)
        print(f"{summary['images']} images of {subjects} identities in {root} "
              f"({summary['images_per_second']:.0f} images/s)")
    _step("2. TFRecords: alignment, patches, shards, manifest")
    test_from = subjects - max(1, subjects // 4) + 1
    manifest = build_tfrecords.build(records, multipie_root=root, test_subjects_from=test_from)
    for split, info in manifest["splits"].items():
        print(f"{split}: {info['examples']} pairs in {len(info['shards'])} shards")
    print(f"skipped inputs: {len(manifest['skipped'])}; manifest: "
          f"{os.path.join(records, 'manifest.json')}")
    return records


def show_batch(records: str, workdir: str) -> str:
    """Step 3: one batch through the input pipeline, saved as a picture sheet."""
    import cv2
    import numpy as np

    from tpgan_tf.input_pipeline import make_dataset

    _step("3. input pipeline: one training batch")
    batch = next(iter(make_dataset(os.path.join(records, "train-*.tfrecord"), 10, seed=0)))
    for key in ("image", "eye_left", "nose", "mouth", "frontal", "label", "yaw"):
        print(f"  {key:<10} {tuple(batch[key].shape)} {batch[key].dtype.name}")
    columns = [np.concatenate([batch["image"][i], batch["frontal"][i]], axis=0)
               for i in range(batch["image"].shape[0])]
    sheet = (np.concatenate(columns, axis=1) * 256).astype(np.uint8)
    path = os.path.join(workdir, "batch.png")
    cv2.imwrite(path, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"profiles (mirrored to face right) over their frontals: {path}")
    return path


def show_models() -> dict:
    """Step 4: the demo preset's models and their sizes."""
    from experiments.model_summary import parameter_counts
    from tpgan_tf.config import get_config

    _step("4. TP-GAN models of the `demo` preset")
    counts = parameter_counts(get_config("demo"))
    print(json.dumps(counts))
    return counts


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    os.makedirs(FLAGS.workdir, exist_ok=True)
    records = make_data(FLAGS.workdir, FLAGS.subjects, FLAGS.seed)
    show_batch(records, FLAGS.workdir)
    show_models()
    print(f"\nDone. Everything is in {os.path.abspath(FLAGS.workdir)}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
