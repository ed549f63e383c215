"""Times one TP-GAN training iteration (1 D step + 2 G steps, spec 5) and relates it to this
machine's measured matmul throughput (issue 4, "Measured").

    python -m benchmarks.bench_train_step --preset=demo                 # one configuration
    python -m benchmarks.bench_train_step --preset=demo --sweep         # jit x precision
    python -m benchmarks.bench_train_step --preset=paper --iterations=2

Every configuration runs in its own subprocess (the dtype policy and XLA are process-wide,
and peak memory is per process) and prints one JSON line:
    seconds_per_iteration, examples_per_second (global batch / seconds),
    flops_per_iteration (2*MACs of every Conv2D / Conv2DBackpropInput / Conv2DBackpropFilter /
        DepthwiseConv2dNative / MatMul of the traced D and G step graphs, forward and backward,
        whose result is used; element-wise ops are not counted),
    achieved_gflops (flops_per_iteration / seconds), matmul_gflops (a 4096^2 matmul in the
        same process and dtype), fraction_of_matmul, build / trace+first-call seconds, and
        peak_rss_mb (ru_maxrss of the process).
The Light-CNN has random weights here (its cost does not depend on them).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("preset", "demo", "Config preset: paper, demo or tiny.")
    flags.DEFINE_multi_string("override", [], "section.field=value overrides.")
    flags.DEFINE_integer("batch_size", 10, "Global batch (the issue measures batch 10).")
    flags.DEFINE_integer("iterations", 3, "Timed iterations (after one warm-up iteration).")
    flags.DEFINE_bool("jit_compile", False, "XLA-compile the steps.")
    flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16", "mixed_float16"],
                      "Keras dtype policy.")
    flags.DEFINE_bool("sweep", False, "Run jit off/on x float32/mixed_bfloat16, one subprocess "
                                      "each, and print a table.")


# ------------------------------------------------------------------ FLOP counting
def _shape(t):
    return [int(d) if d is not None else None for d in t.shape]


def _op_flops(op) -> int:
    """2 * multiply-adds of one conv / matmul graph op (0 for other ops or unknown shapes)."""
    t = op.type
    try:
        if t == "Conv2D":
            n, ho, wo, co = _shape(op.outputs[0])
            kh, kw, ci, _ = _shape(op.inputs[1])
            return 2 * n * ho * wo * kh * kw * ci * co
        if t in ("Conv2DBackpropInput", "Conv2DBackpropFilter"):
            # Same MACs as the forward conv: out_backprop [N, Ho, Wo, Co] x filter [kh,kw,Ci,Co].
            n, ho, wo, co = _shape(op.inputs[2])
            if t == "Conv2DBackpropInput":
                kh, kw, ci, _ = _shape(op.inputs[1])
            else:
                kh, kw, ci, _ = _shape(op.outputs[0])
            return 2 * n * ho * wo * kh * kw * ci * co
        if t.startswith("DepthwiseConv2dNative"):
            if t == "DepthwiseConv2dNative":
                n, ho, wo, c = _shape(op.outputs[0])
                kh, kw, _, _ = _shape(op.inputs[1])
            else:  # backprop ops: out_backprop is input 2
                n, ho, wo, c = _shape(op.inputs[2])
                kh = kw = 3
            return 2 * n * ho * wo * kh * kw * c
        if t in ("MatMul", "BatchMatMulV2"):
            a, b = _shape(op.inputs[0]), _shape(op.inputs[1])
            ta = op.get_attr("transpose_a") if t == "MatMul" else op.get_attr("adj_x")
            tb = op.get_attr("transpose_b") if t == "MatMul" else op.get_attr("adj_y")
            m, k = (a[-1], a[-2]) if ta else (a[-2], a[-1])
            n = b[-2] if tb else b[-1]
            batch = 1
            for d in a[:-2]:
                batch *= d
            return 2 * batch * m * k * n
    except (TypeError, ValueError, IndexError):
        return 0
    return 0


def graph_flops(graph, seen=None) -> int:
    """Sum of _op_flops over a graph and the function graphs it calls."""
    seen = set() if seen is None else seen
    # Ops whose result nobody uses (e.g. the input gradient of a first layer, which the
    # gradient function builds and grappler prunes) are not executed: skip them.
    total = sum(_op_flops(op) for op in graph.get_operations()
                if any(out.consumers() for out in op.outputs))
    for name, fn in getattr(graph, "_functions", {}).items():
        if name in seen:
            continue
        seen.add(name)
        fg = getattr(fn, "graph", None)
        if fg is None and hasattr(fn, "definition"):
            continue
        if fg is not None:
            total += graph_flops(fg, seen)
    return total


# ------------------------------------------------------------------ one configuration
def matmul_gflops(dtype: str, n: int = 4096, repeats: int = 8) -> float:
    """Throughput of an n x n matmul chain in `dtype` (GFLOP/s), best of 3."""
    import tensorflow as tf

    a = tf.random.normal([n, n], dtype=tf.float32)
    a = tf.cast(a, dtype)
    b = tf.cast(tf.random.normal([n, n]) / n ** 0.5, dtype)

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, b)
        return tf.reduce_sum(tf.cast(x[:1, :1], tf.float32))

    chain(a).numpy()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        chain(a).numpy()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 * repeats / best / 1e9


def run_one(preset, overrides, batch_size, iterations, jit_compile, precision) -> dict:
    import keras
    import tensorflow as tf

    from tests.batch_contract import random_examples
    from tpgan_tf import distribution
    from tpgan_tf.config import apply_overrides, get_config
    from tpgan_tf.lightcnn import build_lightcnn
    from tpgan_tf.trainer import Trainer

    cfg = apply_overrides(get_config(preset),
                          [*overrides, f"train.batch_size={batch_size}"])
    keras.utils.set_random_seed(0)
    compute = {"float32": "float32", "mixed_bfloat16": "bfloat16",
               "mixed_float16": "float16"}[precision]
    mm = matmul_gflops("float32")
    mm_compute = mm if compute == "float32" else matmul_gflops(compute)
    distribution.set_precision(precision)
    t0 = time.perf_counter()
    lightcnn = build_lightcnn(cfg.model.lightcnn_width) if cfg.loss.identity > 0 else None
    trainer = Trainer(cfg, lightcnn=lightcnn, jit_compile=jit_compile)
    build_s = time.perf_counter() - t0
    batch = {k: tf.constant(v) for k, v in random_examples(batch_size, seed=0).items()}

    t0 = time.perf_counter()
    d_graph = trainer.d_step.get_concrete_function(batch).graph
    g_graph = trainer.g_step.get_concrete_function(batch).graph
    trace_s = time.perf_counter() - t0
    if jit_compile:  # the XLA-compiled inner functions are not visible as ops: count w/o jit
        flops = None
    else:
        flops = graph_flops(d_graph) + cfg.train.generator_steps_per_iteration * graph_flops(
            g_graph)
    t0 = time.perf_counter()
    trainer.train_iteration(batch)  # warm-up: graph optimisation / XLA compilation
    first_s = time.perf_counter() - t0
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        trainer.train_iteration(batch)
        times.append(time.perf_counter() - t0)
    sec = sorted(times)[len(times) // 2]  # median
    result = {
        "preset": preset, "overrides": overrides, "batch_size": batch_size,
        "jit_compile": jit_compile, "precision": precision, "width": cfg.model.width,
        "iterations_timed": iterations, "seconds_per_iteration": round(sec, 3),
        "seconds_all": [round(t, 3) for t in times],
        "examples_per_second": round(batch_size / sec, 3),
        "build_seconds": round(build_s, 1), "trace_seconds": round(trace_s, 1),
        "first_iteration_seconds": round(first_s, 1),
        "matmul_gflops_float32": round(mm, 1),
        "matmul_gflops_compute_dtype": round(mm_compute, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if flops is not None:
        result["flops_per_iteration"] = flops
        result["achieved_gflops"] = round(flops / sec / 1e9, 1)
        result["fraction_of_matmul"] = round(flops / sec / 1e9 / mm_compute, 3)
    return result


def _subprocess(args: list[str]) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_train_step", *args],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"args": args, "error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv):
    del argv
    if FLAGS.sweep:
        base = [f"--preset={FLAGS.preset}", f"--batch_size={FLAGS.batch_size}",
                f"--iterations={FLAGS.iterations}"] + [f"--override={o}" for o in FLAGS.override]
        rows = []
        for precision in ("float32", "mixed_bfloat16"):
            for jit in (False, True):
                r = _subprocess(base + [f"--precision={precision}",
                                        f"--jit_compile={str(jit).lower()}"])
                rows.append(r)
                print(json.dumps(r), flush=True)
        flops = next((r.get("flops_per_iteration") for r in rows
                      if r.get("flops_per_iteration")), None)
        print("\n| precision | jit | s/iteration | examples/s | GFLOP/s | of matmul | "
              "peak RSS MB |\n|---|---|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                print(f"| {r['args']} | error |")
                continue
            gf = flops / r["seconds_per_iteration"] / 1e9 if flops else float("nan")
            print(f"| {r['precision']} | {r['jit_compile']} | {r['seconds_per_iteration']} | "
                  f"{r['examples_per_second']} | {gf:.1f} | "
                  f"{gf / r['matmul_gflops_compute_dtype']:.2f} of "
                  f"{r['matmul_gflops_compute_dtype']} | {r['peak_rss_mb']} |")
        if flops:
            print(f"\nmodel FLOPs per iteration (batch {FLAGS.batch_size}): {flops / 1e9:.1f} G")
        return
    print(json.dumps(run_one(FLAGS.preset, FLAGS.override, FLAGS.batch_size, FLAGS.iterations,
                             FLAGS.jit_compile, FLAGS.precision)), flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
