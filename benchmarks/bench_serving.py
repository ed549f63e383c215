"""SavedModel latency (batch 1) and throughput (batch 32) against the eager call, for any model.

    python -m benchmarks.bench_serving --model=tpgan --configs=demo [--repeats=10]
    python -m benchmarks.bench_serving --model=fsrnet --configs=demo --signature=super_resolve
    python -m benchmarks.bench_serving --model=tpgan --configs=paper --repeats=3 \\
        --batch_repeats=1 --nosession

For each config preset (random weights; speed does not depend on them) and one signature
(default: serving_default), on the model's own valid requests (its serving module's `examples`):
  eager       the signature's function run eagerly, op by op (tf.config.run_functions_eagerly):
              the Keras networks called eagerly plus the signature's pre/post-processing;
  savedmodel  tf.saved_model.load(export).signatures[signature]: the exported graph;
  session     the same signature through TF Serving's loader (tf.compat.v1 Session +
              saved_model.loader.load), the closest we can get to the server here.
Latency = median seconds per call at batch 1; throughput = examples per second at --batch
(median call). Target: savedmodel <= 1.1 x eager at batch 1. The last line is JSON.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time

from absl import app, flags

flags.DEFINE_string("model", "tpgan", "Registered model.")
flags.DEFINE_list("configs", ["demo"], "Config presets to measure.")
flags.DEFINE_string("signature", "serving_default", "Signature to time.")
flags.DEFINE_integer("repeats", 10, "Timed calls per measurement (after one warm-up call).")
flags.DEFINE_integer("batch", 32, "Batch size of the throughput measurement.")
flags.DEFINE_integer("batch_repeats", None, "Timed calls at --batch (default: max(2, "
                     "repeats // 3)); 1 for full-size models, whose batch of 32 takes minutes.")
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


def measure(model: str, config_name: str, signature: str, repeats: int, batch: int,
            session: bool, batch_repeats: int | None = None) -> dict:
    """Times one preset; returns {mode: {"latency_b1_s", "throughput_per_s"}} + meta."""
    import tensorflow as tf

    from benchmarks.bench_train_step import cpu_name
    from tpgan_tf.core.runner import load_trained
    from tpgan_tf.serving.export import export_task

    start = time.perf_counter()
    task, cfg, _ = load_trained(None, config_name, task=model)
    build_s = time.perf_counter() - start
    module = task.serving.for_task(task)
    endpoints = module.endpoints()
    if signature not in endpoints:
        raise ValueError(f"{model} has no signature {signature!r}; one of {sorted(endpoints)}")
    fn, _ = endpoints[signature]
    examples = {b: module.examples(cfg, b)[signature] for b in (1, batch)}
    workdir = tempfile.mkdtemp(prefix="bench_serving_")
    try:
        start = time.perf_counter()
        path = export_task(task, workdir)
        export_s = time.perf_counter() - start
        loaded = tf.saved_model.load(path)
        serve = loaded.signatures[signature]
        as_tensors = {b: {k: tf.constant(v) for k, v in ex.items()} for b, ex in examples.items()}

        def eager(b):
            tf.config.run_functions_eagerly(True)
            try:
                return tf.nest.map_structure(lambda t: t.numpy(), fn(**as_tensors[b]))
            finally:
                tf.config.run_functions_eagerly(False)

        calls = {"eager": eager,
                 "savedmodel": lambda b: {k: v.numpy() for k, v in serve(**as_tensors[b]).items()}}
        if session:
            graph = tf.Graph()
            sess = tf.compat.v1.Session(graph=graph)
            with graph.as_default():
                meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
            sig = meta.signature_def[signature]
            outputs = [o.name for o in sig.outputs.values()]
            calls["session"] = lambda b: sess.run(outputs, {
                sig.inputs[k].name: v for k, v in examples[b].items()})
        result = {"model": model, "config": config_name, "signature": signature,
                  "parameters": {k: v for k, v in task.parameter_counts().items()},
                  "build_s": round(build_s, 1), "export_s": round(export_s, 1),
                  "batch": batch, "cpu": cpu_name()}
        for mode, call in calls.items():
            latency = _median_seconds(lambda: call(1), repeats)
            per_batch = _median_seconds(lambda: call(batch),
                                        batch_repeats or max(2, repeats // 3))
            result[mode] = {"latency_b1_s": round(latency, 4),
                            "throughput_per_s": round(batch / per_batch, 2)}
            print(f"{config_name:6s} {mode:10s} batch 1: {latency * 1000:8.1f} ms   "
                  f"batch {batch}: {batch / per_batch:7.2f} examples/s", flush=True)
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
    import tensorflow as tf

    results = [measure(FLAGS.model, name, FLAGS.signature, FLAGS.repeats, FLAGS.batch,
                       FLAGS.session, FLAGS.batch_repeats) for name in FLAGS.configs]
    print(json.dumps({"cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
                      "results": results}))


if __name__ == "__main__":
    app.run(main)
