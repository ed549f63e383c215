"""Times one training iteration of a registered model and relates it to this machine's matmul
throughput in the same process and dtype.

    python -m benchmarks.bench_train_step --model=tpgan --preset=demo             # one run
    python -m benchmarks.bench_train_step --model=tpgan --preset=demo --sweep     # 3 x 2 grid
    python -m benchmarks.bench_train_step --model=tpgan --preset=paper --sweep --iterations=1
    python -m benchmarks.bench_train_step ... --sweep --malloc=both   # also with glibc keep
    python -m benchmarks.bench_train_step ... --sweep --sweep_precisions=float32 --sweep_xla=off

Every configuration runs in its own subprocess (the dtype policy and XLA are process-wide,
and peak memory is per process) and prints one JSON line:
    seconds_per_iteration (median), examples_per_second (global batch / seconds),
    flops_per_iteration (2*MACs of every Conv2D / Conv2DBackpropInput / Conv2DBackpropFilter /
        DepthwiseConv2dNative / MatMul of the traced iteration, forward and backward, whose
        result is used, counted once per call; element-wise ops are not counted; measured
        without XLA, whose compiled clusters hide their ops),
    achieved_gflops, matmul_gflops_compute_dtype (a 4096^2 matmul chain in the compute dtype,
        same process), fraction_of_matmul, build / trace / first-iteration seconds,
    page_faults_per_iteration (minor faults) and peak_rss_mb.
The sweep is precision {float32, mixed_float16, mixed_bfloat16} x XLA {off, on}. --malloc=keep
runs with the project's default `runtime.keep_freed_memory=true` (glibc keeps freed memory,
tpgan_tf/core/memory.py), --malloc=default with glibc's own settings; `both` measures each
configuration both ways (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<large> in the environment
does what keep does). Random batches (Task.random_batch) and random frozen identity weights:
the cost does not depend on them.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
COMPUTE_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def define_flags() -> None:
    flags.DEFINE_string("model", "tpgan", "Registered model.")
    flags.DEFINE_string("preset", "demo", "Config preset of the model.")
    flags.DEFINE_multi_string("override", [], "section.field=value overrides.")
    flags.DEFINE_integer("batch_size", None, "Global batch (default: the preset's).")
    flags.DEFINE_integer("iterations", 3, "Timed iterations (after one warm-up iteration).")
    flags.DEFINE_bool("jit_compile", False, "XLA-compile the steps.")
    flags.DEFINE_enum("precision", "float32", list(PRECISIONS), "Keras dtype policy.")
    flags.DEFINE_bool("sweep", False, "Run precision x XLA, one subprocess each, and print a "
                                      "table.")
    flags.DEFINE_enum("malloc", "keep", ["default", "keep", "both"],
                      "glibc allocation settings of the measured process (see module doc).")
    flags.DEFINE_list("sweep_precisions", list(PRECISIONS), "With --sweep: these precisions.")
    flags.DEFINE_list("sweep_xla", ["off", "on"], "With --sweep: XLA off, on or both.")


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


def graph_flops(graph, memo=None) -> int:
    """FLOPs of a graph: its own ops plus, for every call of a function (PartitionedCall,
    StatefulPartitionedCall, While/If bodies are not followed), that function's FLOPs once
    per call. Ops whose result nobody uses (pruned by grappler) are skipped."""
    memo = {} if memo is None else memo
    functions = getattr(graph, "_functions", {})
    total = 0
    for op in graph.get_operations():
        if not any(out.consumers() for out in op.outputs) and op.outputs:
            continue
        total += _op_flops(op)
        if op.type in ("PartitionedCall", "StatefulPartitionedCall"):
            name = op.get_attr("f").name
            if name not in memo:
                fn = functions.get(name)
                fg = getattr(fn, "graph", None)
                memo[name] = 0
                memo[name] = graph_flops(fg, memo) if fg is not None else 0
            total += memo[name]
    return total


# ------------------------------------------------------------------ one configuration
def matmul_gflops(dtype: str, n: int = 4096, repeats: int = 8) -> float:
    """Throughput of an n x n matmul chain in `dtype` (GFLOP/s), best of 3."""
    import tensorflow as tf

    a = tf.cast(tf.random.normal([n, n], dtype=tf.float32), dtype)
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


def _weight_overrides(cfg) -> list[str]:
    """Random weight files for the frozen networks the config reads (the timing does not
    depend on their values), as overrides of its `weights` section."""
    weights = getattr(cfg, "weights", None)
    if weights is None or getattr(weights, "lightcnn", None) is None or weights.lightcnn:
        return []
    from tpgan_tf.identity.lightcnn import build_lightcnn
    from tpgan_tf.identity.weights import save_h5_weights

    path = os.path.join(tempfile.mkdtemp(prefix="bench_"), "lightcnn.h5")
    save_h5_weights(build_lightcnn(cfg.model.lightcnn_width), path)
    return [f"weights.lightcnn={path}"]


def run_one(model, preset, overrides, batch_size, iterations, jit_compile, precision) -> dict:
    import tensorflow as tf

    from tpgan_tf.core import runner
    from tpgan_tf.core.config import apply_overrides, get_config

    cfg = get_config(preset, model)
    batch_size = batch_size or cfg.train.batch_size
    cfg = apply_overrides(cfg, [*overrides, f"train.batch_size={batch_size}",
                                f"runtime.mixed_precision={precision}",
                                f"runtime.jit_compile={str(jit_compile).lower()}"])
    compute = COMPUTE_DTYPE[precision]
    mm = matmul_gflops("float32")
    mm_compute = mm if compute == "float32" else matmul_gflops(compute)
    t0 = time.perf_counter()
    task, cfg = runner.setup(apply_overrides(cfg, _weight_overrides(cfg)))
    build_s = time.perf_counter() - t0
    batch = task.random_batch(batch_size)

    flops = None
    if not jit_compile:  # XLA clusters hide their ops: count FLOPs without jit
        t0 = time.perf_counter()
        graph = tf.function(task.steady_state_iteration).get_concrete_function(batch).graph
        flops = graph_flops(graph)
        trace_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    task.iterate(batch)  # warm-up: tracing, graph optimisation / XLA compilation
    first_s = time.perf_counter() - t0
    if jit_compile:
        trace_s = first_s
    times, faults = [], []
    for _ in range(iterations):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        task.iterate(batch)
        times.append(time.perf_counter() - t0)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    sec = statistics.median(times)
    result = {
        "model": model, "preset": preset, "overrides": overrides, "batch_size": batch_size,
        "jit_compile": jit_compile, "precision": precision,
        "malloc_keep": cfg.runtime.keep_freed_memory,
        "iterations_timed": iterations, "seconds_per_iteration": round(sec, 3),
        "seconds_all": [round(t, 3) for t in times],
        "examples_per_second": round(batch_size / sec, 3),
        "build_seconds": round(build_s, 1), "trace_seconds": round(trace_s, 1),
        "first_iteration_seconds": round(first_s, 1),
        "page_faults_per_iteration": int(statistics.median(faults)),
        "matmul_gflops_float32": round(mm, 1),
        "matmul_gflops_compute_dtype": round(mm_compute, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu": cpu_name(),
    }
    if flops is not None:
        result["flops_per_iteration"] = flops
        result["achieved_gflops"] = round(flops / sec / 1e9, 1)
        result["fraction_of_matmul"] = round(flops / sec / 1e9 / mm_compute, 3)
    return result


def cpu_name() -> str:
    """The CPU model and its widest vector / matrix extensions (from /proc/cpuinfo)."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    name = next((ln.split(":", 1)[1].strip() for ln in text.splitlines()
                 if ln.startswith("model name")), "unknown")
    flags_line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    ext = [e for e in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f" {e}" in flags_line]
    return f"{name} ({', '.join(ext)})"


def _subprocess(args: list[str], keep_memory: bool) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    args = [*args, f"--override=runtime.keep_freed_memory={str(keep_memory).lower()}"]
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_train_step", *args],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"args": args, "error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict]) -> None:
    """The sweep as Markdown; FLOPs of a jit row come from the non-jit row of its precision."""
    flops = {r["precision"]: r["flops_per_iteration"] for r in rows
             if r.get("flops_per_iteration")}
    print("\n| precision | XLA | glibc keep | s/iteration | examples/s | GFLOP/s | of matmul "
          "(GFLOP/s) | faults/iteration | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {' '.join(r['args'])} | error: {r['error'].strip().splitlines()[-1][:80]} |")
            continue
        f = flops.get(r["precision"])
        gf = f / r["seconds_per_iteration"] / 1e9 if f else float("nan")
        print(f"| {r['precision']} | {'on' if r['jit_compile'] else 'off'} | "
              f"{'yes' if r['malloc_keep'] else 'no'} | {r['seconds_per_iteration']} | "
              f"{r['examples_per_second']} | {gf:.1f} | {gf / r['matmul_gflops_compute_dtype']:.0%}"
              f" ({r['matmul_gflops_compute_dtype']}) | {r['page_faults_per_iteration']} | "
              f"{r['peak_rss_mb']} |")
    if flops:
        print(f"\nmodel FLOPs per iteration: {next(iter(flops.values())) / 1e9:.1f} G; CPU: "
              f"{rows[0].get('cpu', 'unknown')}")


def main(argv):
    del argv
    if FLAGS.sweep:
        base = [f"--model={FLAGS.model}", f"--preset={FLAGS.preset}",
                f"--iterations={FLAGS.iterations}"] + [f"--override={o}" for o in FLAGS.override]
        if FLAGS.batch_size:
            base.append(f"--batch_size={FLAGS.batch_size}")
        keeps = {"default": [False], "keep": [True], "both": [False, True]}[FLAGS.malloc]
        rows = []
        for precision in FLAGS.sweep_precisions:
            for jit in [x == "on" for x in FLAGS.sweep_xla]:
                for keep in keeps:
                    r = _subprocess(base + [f"--precision={precision}",
                                            f"--jit_compile={str(jit).lower()}"], keep)
                    rows.append(r)
                    print(json.dumps(r), flush=True)
        print_table(rows)
        return
    print(json.dumps(run_one(FLAGS.model, FLAGS.preset, FLAGS.override, FLAGS.batch_size,
                             FLAGS.iterations, FLAGS.jit_compile, FLAGS.precision)), flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
