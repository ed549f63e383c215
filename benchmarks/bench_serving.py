"""SavedModel latency (batch 1) and throughput (batch 32) against the eager Keras call.

    python -m benchmarks.bench_serving [--configs=demo] [--repeats=10]
    python -m benchmarks.bench_serving --configs=paper --repeats=3 --batch_repeats=1 --nosession

For each config preset (random weights; speed does not depend on them):
  eager     generator(inputs, training=False) called eagerly on the prepared training-input
            dict (image, 4 patches, z): the Keras model alone, no pre/post-processing.
  savedmodel  tf.saved_model.load(export).signatures["serving_default"]: uint8 faces +
            landmarks -> uint8 frontals, i.e. the eager call's work PLUS the in-graph facing
            side, patch cutting, mirroring and uint8 conversion.
  session   the same signature through TF Serving's loader (tf.compat.v1 Session +
            saved_model.loader.load), the closest we can get to the server here.
Latency = median seconds per call at batch 1; throughput = images per second at batch 32
(median call). Target (issue 5): savedmodel <= 1.1 x eager at batch 1. The last line is JSON.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time

from absl import app, flags, logging

flags.DEFINE_list("configs", ["demo"], "Config presets to measure (demo, paper, tiny).")
flags.DEFINE_integer("repeats", 10, "Timed calls per measurement (after one warm-up call).")
flags.DEFINE_integer("batch", 32, "Batch size of the throughput measurement.")
flags.DEFINE_integer("batch_repeats", None, "Timed calls at --batch (default: max(2, "
                     "repeats // 3)); 1 for the paper size, whose batch of 32 takes minutes.")
flags.DEFINE_bool("session", True, "Also time TF Serving's session loader.")
FLAGS = flags.FLAGS


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: graph optimisation, memory pools
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(config_name: str, repeats: int, batch: int, session: bool,
            batch_repeats: int | None = None) -> dict:
    """Times one preset; returns {mode: {"latency_b1_s", "throughput_img_s"}} + meta."""
    import numpy as np
    import tensorflow as tf

    from experiments.export import synthetic_faces
    from tpgan_tf.export import export_for_serving
    from tpgan_tf.inference import Frontalizer, generator_inputs, load_generator

    start = time.perf_counter()
    generator, cfg, _ = load_generator(config=config_name)
    build_s = time.perf_counter() - start
    faces, points = synthetic_faces(8)
    reps = -(-batch // len(faces))
    images = {1: faces[:1], batch: np.concatenate([faces] * reps)[:batch]}
    landmarks = {1: points[:1], batch: np.concatenate([points] * reps)[:batch]}

    eager_inputs = {}
    for b in images:
        inputs, _ = generator_inputs(tf.constant(images[b]), tf.constant(landmarks[b]))
        inputs["z"] = tf.zeros([b, generator.z_dim])
        eager_inputs[b] = inputs

    workdir = tempfile.mkdtemp(prefix="tpgan_bench_serving_")
    try:
        start = time.perf_counter()
        path = export_for_serving(Frontalizer(generator), workdir, config=cfg)
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        loaded = tf.saved_model.load(path)
        load_s = time.perf_counter() - start
        serve = loaded.signatures["serving_default"]

        calls = {
            "eager": lambda b: generator(eager_inputs[b], training=False)["img128"].numpy(),
            "savedmodel": lambda b: serve(image=tf.constant(images[b]),
                                          landmarks=tf.constant(landmarks[b]))["frontal"].numpy(),
        }
        if session:
            graph = tf.Graph()
            sess = tf.compat.v1.Session(graph=graph)
            with graph.as_default():
                meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
            sig = meta.signature_def["serving_default"]
            calls["session"] = lambda b: sess.run(sig.outputs["frontal"].name, {
                sig.inputs["image"].name: images[b], sig.inputs["landmarks"].name: landmarks[b]})
        result = {"config": config_name, "generator_params": int(generator.count_params()),
                  "build_s": round(build_s, 1), "export_s": round(export_s, 1),
                  "load_s": round(load_s, 1), "batch": batch}
        for mode, call in calls.items():
            latency = _median_seconds(lambda: call(1), repeats)
            per_batch = _median_seconds(lambda: call(batch),
                                        batch_repeats or max(2, repeats // 3))
            result[mode] = {"latency_b1_s": round(latency, 4),
                            "throughput_img_s": round(batch / per_batch, 2)}
            print(f"{config_name:6s} {mode:10s} batch 1: {latency * 1000:8.1f} ms   "
                  f"batch {batch}: {batch / per_batch:7.2f} images/s", flush=True)
        if session:
            sess.close()
        ratio = result["savedmodel"]["latency_b1_s"] / result["eager"]["latency_b1_s"]
        result["savedmodel_over_eager_b1"] = round(ratio, 3)
        print(f"{config_name:6s} SavedModel / eager latency at batch 1: {ratio:.2f} "
              f"(target <= 1.1: {'met' if ratio <= 1.1 else 'NOT met'})", flush=True)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv):
    del argv
    if not FLAGS["verbosity"].present:  # TF's INFO lines (one per captured variable) drown
        logging.set_verbosity(logging.WARNING)  # the output; --verbosity=0 brings them back
    import tensorflow as tf

    results = [measure(name, FLAGS.repeats, FLAGS.batch, FLAGS.session, FLAGS.batch_repeats)
               for name in FLAGS.configs]
    print(json.dumps({"cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
                      "results": results}))


if __name__ == "__main__":
    app.run(main)
