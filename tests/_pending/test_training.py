"""The training schedule of spec 5, checkpoints / exact resume, the guards (issue 4).

One tiny trainer (width 1/16, batch 2, deterministic ops) is built once per module and shared;
building and tracing its two step functions dominates the run time (~2 min on 2 CPU cores).
The tests run in file order and each one states the trainer state it needs.
"""
from __future__ import annotations

import glob
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.batch_contract import random_dataset, random_examples
from tpgan_tf import checkpointing, distribution
from tpgan_tf import losses as L
from tpgan_tf.config import apply_overrides, get_config
from tpgan_tf.lightcnn import build_lightcnn, save_h5_weights
from tpgan_tf.trainer import (MissingIdentityWeightsError, NonFiniteLossError, Trainer,
                              check_identity_weights, run_training)

LR = 1e-4  # spec 5


class Run:
    """The shared tiny run: trainer, its input iterator, checkpoint saver and model_dir."""

    def __init__(self, tmp):
        self.cfg = get_config("tiny")
        distribution.enable_determinism(self.cfg.train.seed)
        self.lightcnn_path = str(tmp / "lightcnn_tiny.h5")
        save_h5_weights(build_lightcnn(self.cfg.model.lightcnn_width), self.lightcnn_path)
        self.trainer = Trainer(self.cfg, lightcnn_weights=self.lightcnn_path)
        self.iterator = iter(random_dataset(8, self.cfg.train.batch_size))
        self.model_dir = str(tmp / "run")
        self.saver = self.new_saver()

    def new_saver(self):
        ckpt = checkpointing.make_checkpoint(self.trainer, self.iterator)
        return checkpointing.CheckpointSaver(ckpt, self.model_dir,
                                             self.cfg.train.keep_checkpoints)

    def iterate(self, n):
        values = []
        for _ in range(n):
            v, _ = self.trainer.train_iteration(next(self.iterator))
            values.append({k: float(x) for k, x in v.items()})
        return values


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return Run(tmp_path_factory.mktemp("training"))


def _weights(model):
    return {v.path: np.array(v.numpy()) for v in model.weights}


def _max_abs_change(before, model, variables):
    return max(float(np.max(np.abs(before[v.path] - v.numpy()))) for v in variables)


def test_one_iteration_updates_d_and_g_not_lightcnn_and_local_nets_get_both_losses(run):
    t = run.trainer
    assert int(t.iteration.numpy()) == 0
    g0, d0, lc0 = _weights(t.generator), _weights(t.discriminator), _weights(t.lightcnn)
    [values] = run.iterate(1)

    # The schedule: 1 D step, 2 G steps (each applying g_optim and rot_optim).
    assert int(t.iteration.numpy()) == 1
    assert int(t.d_optim.iterations.numpy()) == 1
    assert int(t.g_optim.iterations.numpy()) == 2
    assert int(t.rot_optim.iterations.numpy()) == 2
    # Every trainable variable of D and G moved; the frozen Light-CNN did not.
    for v in t.d_vars:
        assert not np.array_equal(d0[v.path], v.numpy()), v.path
    unchanged = [v.path for v in t.g_vars if np.array_equal(g0[v.path], v.numpy())]
    assert unchanged == []
    for path, w in _weights(t.lightcnn).items():
        np.testing.assert_array_equal(w, lc0[path])
    assert t.lightcnn.trainable_weights == []
    # rot_optim holds slots for the four local nets only, and they are non-zero.
    local_paths = {v.path for v in t.local_vars}
    assert len(t.local_vars) < len(t.g_vars)
    assert all(p.startswith("generator/local_pathway/") for p in local_paths)
    rot_momenta = [m for m in t.rot_optim._momentums]
    assert len(rot_momenta) == len(t.local_vars)
    assert all(float(np.max(np.abs(m.numpy()))) > 0 for m in rot_momenta)
    # One Adam moves a weight by at most ~lr per step (2 steps -> 2 lr). The global pathway
    # has one optimiser; the local nets have two, so where both gradients agree they move
    # by up to ~4 lr: the local nets received g_loss AND rot_loss updates.
    global_vars = [v for v in t.g_vars if v.path not in local_paths]
    assert _max_abs_change(g0, t.generator, global_vars) <= 2 * LR * 1.01
    assert _max_abs_change(g0, t.generator, t.local_vars) > 2.5 * LR

    # Every term is logged and finite; g_loss / rot_loss are the spec 4.3 combinations of them.
    expected = {f"d/{k}" for k in ("d_loss", "d_real", "d_fake")}
    for k in (1, 2):
        expected |= {f"g{k}/{n}" for n in ("g_loss", "rot_loss", *L.TERM_NAMES)}
    assert set(values) == expected
    assert all(np.isfinite(list(values.values())))
    terms = {n: values[f"g2/{n}"] for n in L.TERM_NAMES}
    assert values["g2/g_loss"] == pytest.approx(
        float(L.combine_generator_loss(terms, run.cfg.loss)), rel=1e-5)
    assert values["g2/rot_loss"] == pytest.approx(
        3.0 * sum(terms[f"part_{p}"] for p in ("eye_left", "eye_right", "nose", "mouth")),
        rel=1e-5)
    assert values["d/d_loss"] == pytest.approx(values["d/d_real"] + values["d/d_fake"], rel=1e-6)
    # Untrained G outputs ~0 against GT ~U(0,1): L1_128 = 128*128*mean|.| ~ 16384 * 0.5.
    assert 4000 < values["g1/l1_128"] < 12000


def test_resume_from_checkpoint_equals_uninterrupted_run(run):
    """k iterations, save, m more (= the uninterrupted run); then restore the checkpoint into
    the same, already advanced objects and run m again: any state missing from the checkpoint
    (optimiser slots, BN statistics, z / dropout random state, data position) would differ."""
    t = run.trainer
    k = int(t.iteration.numpy())
    path = run.saver.save(k)
    straight = run.iterate(2)
    w_straight = t.weights_snapshot()
    z_state = t.z_rng.state.numpy().copy()

    run.saver.checkpoint.restore(path).assert_existing_objects_matched()
    assert int(t.iteration.numpy()) == k
    resumed = run.iterate(2)
    assert resumed == straight  # bit-identical losses
    w_resumed = t.weights_snapshot()
    assert w_resumed.keys() == w_straight.keys()
    for name, w in w_straight.items():
        np.testing.assert_array_equal(w_resumed[name], w, err_msg=name)
    np.testing.assert_array_equal(t.z_rng.state.numpy(), z_state)
    # The checkpoint really holds the optimiser slots, the seeds and the data position.
    names = [n for n, _ in tf.train.list_variables(path)]
    for needle in ("rot_optim", "g_optim", "d_optim", "z_rng", "data_iterator",
                   "seed_generator", "moving_mean"):
        assert any(needle in n for n in names), needle


def test_half_written_checkpoint_is_never_resumed(run):
    t = run.trainer
    good_iteration = int(t.iteration.numpy())
    good = run.saver.save(good_iteration)
    # A process killed while writing a newer checkpoint leaves its files but no state entry.
    bad = os.path.join(run.model_dir, f"ckpt-{good_iteration + 7}")
    with open(bad + ".index", "wb") as f:
        f.write(b"\x00truncated")
    with open(bad + ".data-00000-of-00001", "wb") as f:
        f.write(b"\x00" * 100)
    os.makedirs(bad + "_temp", exist_ok=True)
    run.iterate(1)  # move away from the good state

    saver = run.new_saver()
    assert saver.latest == good
    assert saver.restore_latest() == good
    assert int(t.iteration.numpy()) == good_iteration
    for p in glob.glob(bad + "*"):
        if os.path.isdir(p):
            os.rmdir(p)
        else:
            os.remove(p)


def test_training_loop_logs_summaries_and_keeps_n_checkpoints(run, tmp_path):
    t = run.trainer
    start = int(t.iteration.numpy())
    lines = []
    summary_dir = str(tmp_path / "train")
    end = start + 3
    result = run_training(t, run.iterator, run.saver, end, summary_dir=summary_dir,
                          log=lines.append)
    assert (result.start_iteration, result.end_iteration) == (start, end)
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


def test_non_finite_loss_stops_with_the_term_and_iteration_and_saves_nothing(run):
    t = run.trainer
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
    assert not all(np.isfinite(w).all() for w in t.weights_snapshot().values())
    run.saver.restore_latest()
    assert all(np.isfinite(w).all() for w in t.weights_snapshot().values())


def test_missing_identity_weights_is_an_error_that_says_how_to_get_them():
    cfg = get_config("tiny")
    with pytest.raises(MissingIdentityWeightsError) as info:
        Trainer(cfg)  # raises before building anything
    message = str(info.value)
    assert "--lightcnn_weights" in message
    assert "python -m experiments.convert_lightcnn" in message
    assert "python -m experiments.pretrain_lightcnn" in message
    assert "--override=loss.identity=0" in message
    # Switching the identity loss off explicitly is allowed.
    check_identity_weights(apply_overrides(cfg, ["loss.identity=0"]), None)


def test_train_script_refuses_to_start_without_identity_weights(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.getcwd())
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.train", "--config=tiny",
         f"--data_dir={tmp_path}", f"--model_dir={tmp_path / 'run'}"],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1
    assert "experiments.pretrain_lightcnn" in proc.stderr
    assert not (tmp_path / "run").exists()  # nothing was built or written


def test_identity_dropout_state_is_part_of_the_generator(run):
    # The identity head's dropout draws from a Keras seed generator: it must be a variable of
    # G so that the checkpoint (test above) carries it.
    assert any("seed_generator" in v.path for v in run.trainer.generator.variables)


@pytest.mark.slow
def test_resume_with_new_objects_through_the_train_entry_point(tmp_path):
    """experiments.train.train: 3 iterations straight vs 1, then a NEW trainer, iterator and
    checkpoint (as a restarted process builds them) resuming to 3: identical checkpoints."""
    from experiments.train import train

    cfg = get_config("tiny")
    cfg.train.checkpoint_every = 1
    lightcnn_path = str(tmp_path / "lightcnn.h5")
    save_h5_weights(build_lightcnn(cfg.model.lightcnn_width), lightcnn_path)
    kwargs = dict(lightcnn_weights=lightcnn_path, deterministic=True, log=lambda s: None,
                  dataset_fn=lambda b: random_dataset(8, b))
    straight = train(cfg, None, str(tmp_path / "a"), num_iterations=3, **kwargs)
    first = train(cfg, None, str(tmp_path / "b"), num_iterations=1, **kwargs)
    resumed = train(cfg, None, str(tmp_path / "b"), num_iterations=3, **kwargs)
    assert (first.start_iteration, resumed.start_iteration) == (0, 1)
    assert resumed.last_values == straight.last_values
    a = tf.train.load_checkpoint(str(tmp_path / "a" / "ckpt-3"))
    b = tf.train.load_checkpoint(str(tmp_path / "b" / "ckpt-3"))
    names = sorted(a.get_variable_to_shape_map())
    assert names == sorted(b.get_variable_to_shape_map())
    assert len(names) > 3000  # G, D, three optimisers with slots, counters, random state
    for name in names:
        if name.endswith("ITERATOR_STATE") or name == "_CHECKPOINTABLE_OBJECT_GRAPH":
            continue
        np.testing.assert_array_equal(a.get_tensor(name), b.get_tensor(name), err_msg=name)
