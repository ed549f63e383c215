"""The shared training loop (tpgan_tf/core/loop.py) on the tiny TP-GAN run: progress lines,
TensorBoard scalars and images, checkpoints kept, and the non-finite guard (core/task.py
Task.iterate) that stops without counting or saving the failed iteration.

The run (tests/conftest.py `tiny_training`) is shared with other test modules; every test
here asserts relative to the iteration it finds.
"""
from __future__ import annotations

import glob
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.batch_contract import random_examples
from tpgan_tf.core.loop import format_eta, run_training
from tpgan_tf.core.task import NonFiniteLossError, Task
from tpgan_tf.models.tpgan import losses as L


def test_training_loop_logs_summaries_and_keeps_n_checkpoints(tiny_training, tmp_path):
    run = tiny_training
    t = run.task
    start = int(t.iteration.numpy())
    lines = []
    summary_dir = str(tmp_path / "train")
    end = start + 3
    result = run_training(t, run.iterator, run.saver, end, summary_dir=summary_dir,
                          log=lines.append)
    assert (result.start_iteration, result.end_iteration) == (start, end)
    assert set(result.last_values) >= {"d/d_loss", "g2/g_loss"} and result.seconds > 0
    # tiny: log_every 1, checkpoint_every 2, image_summary_every 2, keep 2.
    assert len(lines) == 3
    assert lines[-1].startswith(f"iter {end}/{end} | d_loss ")
    assert "ex/s" in lines[-1] and "ETA 0:00:00" in lines[-1]
    kept = run.saver.manager.checkpoints
    assert len(kept) == run.cfg.train.keep_checkpoints
    assert kept[-1].endswith(f"ckpt-{end}")
    tags, image_steps = set(), []
    for event_file in glob.glob(os.path.join(summary_dir, "events.*")):
        for event in tf.compat.v1.train.summary_iterator(event_file):
            for value in event.summary.value:
                tags.add(value.tag)
                if "img128" in value.tag:
                    image_steps.append(event.step)
                    grid = tf.image.decode_png(
                        tf.make_ndarray(value.tensor)[2]).shape  # [rows*128, 6*128, 3]
                    assert grid == (2 * 128, 6 * 128, 3)
    for k in (1, 2):
        assert {f"g{k}/{n}" for n in L.TERM_NAMES} <= tags
    assert {"d/d_loss", "d/d_real", "d/d_fake", "perf/examples_per_second"} <= tags
    assert sorted(image_steps) == [i for i in range(start + 1, end + 1) if i % 2 == 0 or i == end]


def test_stop_ends_the_run_early_and_checkpoints_the_iteration_reached(tiny_training):
    """`stop` (a time budget in benchmarks/learning_curves.py) is asked before every
    iteration; the iteration reached is saved even off the checkpoint cadence (tiny: every
    2), and a stop before the first iteration trains and saves nothing."""
    run = tiny_training
    t = run.task
    start = int(t.iteration.numpy())
    steps = 1 if start % 2 == 0 else 2  # end on an odd iteration: not a cadence save
    asked = []

    def stop():
        asked.append(int(t.iteration.numpy()))
        return len(asked) > steps

    result = run_training(t, run.iterator, run.saver, start + 10, log=lambda s: None,
                          stop=stop)
    end = start + steps
    assert (result.start_iteration, result.end_iteration) == (start, end)
    assert asked == list(range(start, end + 1))
    assert run.saver.latest.endswith(f"ckpt-{end}") and end % 2 == 1
    assert set(result.last_values) >= {"d/d_loss"}
    nothing = run_training(t, run.iterator, run.saver, end + 10, log=lambda s: None,
                           stop=lambda: True)
    assert (nothing.start_iteration, nothing.end_iteration) == (end, end)
    assert run.saver.latest.endswith(f"ckpt-{end}")


def test_non_finite_loss_stops_with_the_term_and_iteration_and_saves_nothing(tiny_training):
    run = tiny_training
    t = run.task
    good_iteration = int(t.iteration.numpy())
    good = run.saver.save(good_iteration)
    nan_batch = {k: tf.constant(v) for k, v in random_examples(2, seed=5).items()}
    nan_batch["image"] = tf.tensor_scatter_nd_update(
        nan_batch["image"], [[1, 60, 60, 0]], [np.nan])

    with pytest.raises(NonFiniteLossError) as info:
        run_training(t, iter([nan_batch]), run.saver, good_iteration + 5, log=lambda s: None)
    message = str(info.value)
    assert f"iteration {good_iteration + 1}:" in message
    assert "d/d_loss = nan" in message and "g1/l1_128=nan" in message
    assert int(t.iteration.numpy()) == good_iteration  # the failed iteration is not counted
    assert run.saver.latest == good  # nothing saved over the last good checkpoint
    assert not glob.glob(os.path.join(run.model_dir, f"ckpt-{good_iteration + 1}.*"))
    # Recovery: the last good checkpoint restores finite weights.
    assert not all(np.isfinite(w).all() for w in t.trainable_snapshot().values())
    run.saver.restore_latest()
    assert all(np.isfinite(w).all() for w in t.trainable_snapshot().values())


def test_check_finite_names_the_first_bad_value_by_hand():
    Task.check_finite({"a": tf.constant(1.0), "b": 2.0}, 3)  # all finite: no error
    with pytest.raises(NonFiniteLossError) as info:
        Task.check_finite({"a": 1.0, "b": float("inf"), "c": float("nan")}, 12)
    message = str(info.value)
    assert message.startswith("non-finite loss at iteration 12: b = inf ")
    assert "b=inf, c=nan" in message and "nothing was saved" in message


def test_format_eta():
    assert format_eta(0) == "0:00:00"
    assert format_eta(59.9) == "0:00:59"
    assert format_eta(3 * 3600 + 62) == "3:01:02"
    assert format_eta(-5) == "0:00:00"
