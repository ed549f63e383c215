"""FSRNet SavedModel latency (batch 1) and throughput (batch 32) against the eager Keras call.

    python -m benchmarks.bench_fsrnet_serving [--configs=demo,paper] [--repeats=10]

For each config preset (random weights; the speed does not depend on them):
  eager       generator(x, training=False) called eagerly on the bicubic-upsampled input x
              [B, 128, 128, 3]: the Keras model alone;
  savedmodel  tf.saved_model.load(export).signatures["super_resolve"]: uint8 16 x 16 faces ->
              uint8 128 x 128, i.e. the eager call's work PLUS the in-graph bicubic upsampling
              and the uint8 conversion (Task.serving_examples gives the requests);
  session     the same signature through TF Serving's loader (tf.compat.v1 Session +
              saved_model.loader.load).
Latency = median seconds per call at batch 1; throughput = faces per second at batch 32
(median call). The last line is JSON.
"""
from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time

from absl import app, flags, logging

flags.DEFINE_list("configs", ["demo"], "FSRNet config presets to measure.")
flags.DEFINE_integer("repeats", 10, "Timed calls at batch 1 (after one warm-up call).")
flags.DEFINE_integer("batch", 32, "Batch size of the throughput measurement.")
flags.DEFINE_integer("batch_repeats", 3, "Timed calls at --batch.")
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


def measure(config_name: str, repeats: int, batch: int, batch_repeats: int,
            session: bool) -> dict:
    """{mode: {"latency_b1_s", "throughput_faces_s"}} + build / export / load seconds."""
    import tensorflow as tf

    from tpgan_tf.core.runner import load_trained
    from tpgan_tf.serving.export import export_task

    start = time.perf_counter()
    task, cfg, _ = load_trained(preset=config_name, task="fsrnet")
    build_s = time.perf_counter() - start
    examples = {b: task.serving_examples(b)["super_resolve"]["lr"] for b in (1, batch)}
    resolver = task.super_resolver()
    eager_x = {b: resolver.upsample(tf.constant(v)) for b, v in examples.items()}
    workdir = tempfile.mkdtemp(prefix="fsrnet_bench_serving_")
    try:
        start = time.perf_counter()
        path = export_task(task, workdir)
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        loaded = tf.saved_model.load(path)
        load_s = time.perf_counter() - start
        serve = loaded.signatures["super_resolve"]
        modes = {
            "eager": lambda b: task.generator(eager_x[b], training=False)["sr"].numpy(),
            "savedmodel": lambda b: serve(lr=tf.constant(examples[b]))["sr"].numpy(),
        }
        out = {}
        for mode, fn in modes.items():
            latency = _median_seconds(lambda: fn(1), repeats)
            per_batch = _median_seconds(lambda: fn(batch), batch_repeats)
            out[mode] = {"latency_b1_s": round(latency, 4),
                         "throughput_faces_s": round(batch / per_batch, 2)}
        if session:
            out["session"] = _session_timing(path, examples, repeats, batch_repeats, batch)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"config": config_name, "parameters": task.parameter_counts()["generator"],
            "build_s": round(build_s, 1), "export_s": round(export_s, 1),
            "load_s": round(load_s, 1), **out}


def _session_timing(path, examples, repeats, batch_repeats, batch) -> dict:
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        sig = meta.signature_def["super_resolve"]
        feed_name, fetch = sig.inputs["lr"].name, sig.outputs["sr"].name

        def run(b):
            return sess.run(fetch, feed_dict={feed_name: examples[b]})

        latency = _median_seconds(lambda: run(1), repeats)
        per_batch = _median_seconds(lambda: run(batch), batch_repeats)
    return {"latency_b1_s": round(latency, 4), "throughput_faces_s": round(batch / per_batch, 2)}


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    from benchmarks.bench_train_step import cpu_name

    rows = [measure(c, FLAGS.repeats, FLAGS.batch, FLAGS.batch_repeats, FLAGS.session)
            for c in FLAGS.configs]
    print(f"\nCPU: {cpu_name()}\n")
    print(f"| config | params | mode | latency batch 1 (s) | faces/s at batch {FLAGS.batch} |")
    print("|---|---|---|---|---|")
    for r in rows:
        for mode in ("eager", "savedmodel", "session"):
            if mode in r:
                print(f"| {r['config']} | {r['parameters']:,} | {mode} | "
                      f"{r[mode]['latency_b1_s']} | {r[mode]['throughput_faces_s']} |")
    print(json.dumps({"cpu": cpu_name(), "batch": FLAGS.batch, "results": rows}))


if __name__ == "__main__":
    app.run(main)
