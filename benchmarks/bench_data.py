"""Measures the data path of issue 3 on this machine and prints the figures.

    python -m benchmarks.bench_data [--subjects=20] [--workdir=/tmp/tpgan_bench_data]

1. TFRecord build: input images per second with the default worker count (one per core).
2. Input pipeline: training examples per second at batch 10 (decode, patches, mirroring,
   pyramids), without and with the in-memory cache, after a warm-up.
The synthetic generator has its own benchmark (benchmarks/bench_synthetic.py).
"""
from __future__ import annotations

import os
import shutil
import time

from absl import app, flags

flags.DEFINE_integer("subjects", 20, "Synthetic identities to render.")
flags.DEFINE_string("workdir", "/tmp/tpgan_bench_data", "Scratch folder (deleted first).")
flags.DEFINE_integer("batches", 300, "Batches timed per pipeline configuration.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from data_prep import build_tfrecords, synthetic

    shutil.rmtree(FLAGS.workdir, ignore_errors=True)
    root = os.path.join(FLAGS.workdir, "multipie")
    records = os.path.join(FLAGS.workdir, "records")
    summary = synthetic.generate(root, FLAGS.subjects, illuminations=(7, 9),
                                 image_size=(320, 240), seed=0, progress=False)
    print(f"synthetic: {summary['images']} images of 320x240")

    start = time.perf_counter()
    manifest = build_tfrecords.build(records, multipie_root=root, show_progress=False)
    seconds = time.perf_counter() - start
    print(f"build_tfrecords: {manifest['input_images']} input images in {seconds:.1f} s = "
          f"{manifest['input_images'] / seconds:.1f} images/s with {os.cpu_count()} workers "
          "(incl. worker start-up)")

    from tpgan_tf.input_pipeline import make_dataset

    pattern = os.path.join(records, "train-*.tfrecord")
    for cache in (False, True):
        ds = make_dataset(pattern, 10, cache=cache)
        it = iter(ds)
        for _ in range(60 if cache else 20):  # warm-up (fills the cache when on)
            next(it)
        start = time.perf_counter()
        for _ in range(FLAGS.batches):
            next(it)
        rate = FLAGS.batches * 10 / (time.perf_counter() - start)
        print(f"input pipeline (batch 10, cache={cache}): {rate:.0f} examples/s")


if __name__ == "__main__":
    app.run(main)
