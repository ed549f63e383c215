"""Throughput of the synthetic renderers: the Multi-PIE writer (`data_prep.synthetic.generate`)
and the FSRNet face records (`data_prep.synthetic.face_records`).

Times `generate` for a fixed number of images (subjects x 13 cameras x illuminations) at the
raw 640x480 size and at 320x240, with 1 worker and with the default worker count, and
prints images/s (including identity set-up and PNG writing). Then times `face_records` in
one process for face_identities x face_views records of 128x128 (identity tables, rendering
at 512 and downsampling included; no file writing).

    PYTHONPATH=. python benchmarks/bench_synthetic.py [--num_subjects=8] [--face_identities=8]
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time

from absl import app, flags

from data_prep import synthetic

flags.DEFINE_integer("num_subjects", 8, "Subjects per run (x 13 cameras x illuminations).")
flags.DEFINE_list("illuminations", ["03", "07", "11"], "Flash indices per camera.")
flags.DEFINE_list("sizes", ["640x480", "320x240"], "Image sizes WIDTHxHEIGHT.")
flags.DEFINE_integer("face_identities", 8, "Identities of the face-records run (0 = skip).")
flags.DEFINE_integer("face_views", 8, "Views per identity of the face-records run.")
FLAGS = flags.FLAGS


def _run(size: tuple[int, int], workers: int) -> dict:
    out = tempfile.mkdtemp(prefix="bench_synthetic_")
    try:
        return synthetic.generate(out, FLAGS.num_subjects,
                                  illuminations=[int(i) for i in FLAGS.illuminations],
                                  image_size=size, seed=0, workers=workers, progress=False)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv) -> None:
    del argv
    default_workers = os.cpu_count() or 1
    print(f"{'size':>9} {'workers':>7} {'images':>6} {'seconds':>8} {'images/s':>9}")
    for text in FLAGS.sizes:
        size = tuple(int(v) for v in text.lower().split("x"))
        for workers in sorted({1, default_workers}):
            s = _run(size, workers)
            print(f"{text:>9} {s['workers']:>7} {s['images']:>6} {s['seconds']:>8.2f} "
                  f"{s['images_per_second']:>9.1f}", flush=True)
    if FLAGS.face_identities > 0:
        start = time.perf_counter()
        count = sum(1 for _ in synthetic.face_records(0, 0, FLAGS.face_identities,
                                                      FLAGS.face_views))
        seconds = time.perf_counter() - start
        print(f"{'faces128':>9} {1:>7} {count:>6} {seconds:>8.2f} {count / seconds:>9.1f}",
              flush=True)


if __name__ == "__main__":
    app.run(main)
