"""The shared training loop: iterations of a task until a count, with the non-finite guard,
progress lines, TensorBoard summaries and checkpoints.

    result = run_training(task, batches, saver, num_iterations, summary_dir=..., log=print)

Every `log_every` iterations: one progress line (the task's own part, examples/s, ETA) and
the TensorBoard scalars of every value the iteration returned; every `image_summary_every`:
the task's summary images; on both, the task's `observe(batch)` adds its extra signals to the
iteration (the loop owns this cadence); every `checkpoint_every` and at the end: a
checkpoint. A
non-finite value raises NonFiniteLossError before the iteration counter moves and before
anything is saved, so the last good checkpoint stays the latest. A `stop` callable (e.g. a
time budget: benchmarks/learning_curves.py) ends the run early, with a checkpoint of the
iteration reached.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from typing import Callable, Iterator

from tpgan_tf.core.summaries import SummaryWriter


@dataclasses.dataclass
class LoopResult:
    """What `run_training` did."""

    start_iteration: int  # restored from a checkpoint (0 for a fresh run)
    end_iteration: int
    last_values: dict  # the last iteration's values as floats
    seconds: float


def format_eta(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def run_training(task, batches: Iterator, saver, num_iterations: int,
                 summary_dir: str | None = None, log: Callable[[str], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> LoopResult:
    """Runs iterations until `task.iteration == num_iterations`, or until `stop()` (asked
    before every iteration) is True: then the iteration reached is checkpointed too.

    task: a built core.task.Task. batches: an iterator of (distributed) batches, already
    restored with the checkpoint if it is part of it. saver: a checkpointing.CheckpointSaver
    (or None). summary_dir: where the chief writes TensorBoard events (None: no summaries).
    """
    tc = task.config.train
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    writer = SummaryWriter(summary_dir if task.worker.is_chief else None)
    start = int(task.iteration.numpy())
    values: dict = {}
    raw = None
    t_start = time.perf_counter()
    t_window, it_window = t_start, start
    saved = None  # the last iteration checkpointed here
    while int(task.iteration.numpy()) < num_iterations:
        if stop is not None and stop():
            break
        it = int(task.iteration.numpy()) + 1  # the count after this iteration
        log_now = it % tc.log_every == 0 or it == num_iterations
        show_now = it % tc.image_summary_every == 0 or it == num_iterations
        raw, images = task.iterate(next(batches), observe=log_now or show_now)
        if log_now:
            values = {k: float(v) for k, v in raw.items()}
            now = time.perf_counter()
            rate = (it - it_window) * tc.batch_size / max(now - t_window, 1e-9)
            eta = (num_iterations - it) * tc.batch_size / max(rate, 1e-9)
            t_window, it_window = now, it
            log(f"iter {it}/{num_iterations} | {task.log_line(values)} | {rate:.2f} ex/s | "
                f"ETA {format_eta(eta)}")
            writer.scalars({**values, "perf/examples_per_second": rate}, it)
        if show_now:
            writer.images(task.summary_images(images), it)
        if saver is not None and (it % tc.checkpoint_every == 0 or it == num_iterations):
            saver.save(it)
            saved = it
    end = int(task.iteration.numpy())
    if saver is not None and end > start and saved != end:  # stopped early
        saver.save(end)
    writer.flush()
    if not values and raw is not None:
        values = {k: float(v) for k, v in raw.items()}
    return LoopResult(start, end, values, time.perf_counter() - t_start)
