"""TP-GAN's task (tpgan_tf/models/tpgan/task.py): the training schedule of spec 5, the exact
resume from a checkpoint, the guards (missing identity weights, the identity head's dropout
state in the checkpoint).

The tiny training run (tests/conftest.py `tiny_training`: width 1/16, batch 2, deterministic
ops) is built once per session and shared with tests/core/test_loop.py and
test_checkpointing.py; building and tracing its two step functions dominates the run time
(~1 min on 2 CPU cores). No test depends on the order: each one restores the run's initial
state (`reset`) or asserts relative to the state it finds.
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.models.tpgan import losses as L
from tpgan_tf.models.tpgan.task import MissingIdentityWeightsError, TpganTask

LR = 1e-4  # spec 5


def _weights(model):
    return {v.path: np.array(v.numpy()) for v in model.weights}


def _max_abs_change(before, model, variables):
    return max(float(np.max(np.abs(before[v.path] - v.numpy()))) for v in variables)


def test_one_iteration_updates_d_and_g_not_lightcnn_and_local_nets_get_both_losses(tiny_training):
    run = tiny_training
    run.reset()  # the first iteration of a fresh run
    t = run.task
    assert int(t.iteration.numpy()) == 0
    g0, d0, lc0 = _weights(t.generator), _weights(t.discriminator), _weights(t.lightcnn)
    [values] = run.iterate(1)

    # The schedule: 1 D step, 2 G steps (each applying g_optim and rot_optim).
    assert int(t.iteration.numpy()) == 1
    assert int(t.optimizers["d_optim"].iterations.numpy()) == 1
    assert int(t.optimizers["g_optim"].iterations.numpy()) == 2
    assert int(t.optimizers["rot_optim"].iterations.numpy()) == 2
    # Every trainable variable of D and G moved; the frozen Light-CNN did not.
    for v in t.optimizer_variables["d_optim"]:
        assert not np.array_equal(d0[v.path], v.numpy()), v.path
    unchanged = [v.path for v in t.optimizer_variables["g_optim"] if np.array_equal(g0[v.path], v.numpy())]
    assert unchanged == []
    for path, w in _weights(t.lightcnn).items():
        np.testing.assert_array_equal(w, lc0[path])
    assert t.lightcnn.trainable_weights == []
    # rot_optim holds slots for the four local nets only, and they are non-zero.
    local_paths = {v.path for v in t.optimizer_variables["rot_optim"]}
    assert len(t.optimizer_variables["rot_optim"]) < len(t.optimizer_variables["g_optim"])
    assert all(p.startswith("generator/local_pathway/") for p in local_paths)
    rot_momenta = [m for m in t.optimizers["rot_optim"]._momentums]
    assert len(rot_momenta) == len(t.optimizer_variables["rot_optim"])
    assert all(float(np.max(np.abs(m.numpy()))) > 0 for m in rot_momenta)
    # One Adam moves a weight by at most ~lr per step (2 steps -> 2 lr). The global pathway
    # has one optimiser; the local nets have two, so where both gradients agree they move
    # by up to ~4 lr: the local nets received g_loss AND rot_loss updates.
    global_vars = [v for v in t.optimizer_variables["g_optim"] if v.path not in local_paths]
    assert _max_abs_change(g0, t.generator, global_vars) <= 2 * LR * 1.01
    assert _max_abs_change(g0, t.generator, t.optimizer_variables["rot_optim"]) > 2.5 * LR

    # Every term is logged and finite; g_loss / rot_loss are the spec 4.3 combinations of them.
    expected = {f"d/{k}" for k in ("d_loss", "d_real", "d_fake")}
    for k in (1, 2):
        expected |= {f"g{k}/{n}" for n in ("g_loss", "rot_loss", *L.TERM_NAMES)}
    assert set(values) == expected | {"schedule/d_steps", "schedule/g_steps"}
    assert values["schedule/d_steps"] == 1.0 and values["schedule/g_steps"] == 2.0
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


def test_resume_from_checkpoint_equals_uninterrupted_run(tiny_training):
    """k iterations, save, m more (= the uninterrupted run); then restore the checkpoint into
    the same, already advanced objects and run m again: any state missing from the checkpoint
    (optimiser slots, BN statistics, z / dropout random state, data position) would differ."""
    run = tiny_training
    t = run.task
    k = int(t.iteration.numpy())
    path = run.saver.save(k)
    straight = run.iterate(2)
    w_straight = t.trainable_snapshot()
    z_state = t.z_rng.state.numpy().copy()

    run.saver.checkpoint.restore(path).assert_existing_objects_matched()
    assert int(t.iteration.numpy()) == k
    resumed = run.iterate(2)
    assert resumed == straight  # bit-identical losses
    w_resumed = t.trainable_snapshot()
    assert w_resumed.keys() == w_straight.keys()
    for name, w in w_straight.items():
        np.testing.assert_array_equal(w_resumed[name], w, err_msg=name)
    np.testing.assert_array_equal(t.z_rng.state.numpy(), z_state)
    # The checkpoint really holds the optimiser slots, the seeds and the data position.
    names = [n for n, _ in tf.train.list_variables(path)]
    for needle in ("rot_optim", "g_optim", "d_optim", "z_rng", "data_iterator",
                   "seed_generator", "moving_mean"):
        assert any(needle in n for n in names), needle


def test_missing_identity_weights_is_an_error_that_says_how_to_get_them():
    cfg = get_config("tiny", "tpgan")
    with pytest.raises(MissingIdentityWeightsError) as info:
        TpganTask(cfg).build()  # raises before building anything
    message = str(info.value)
    assert "--weights=lightcnn=PATH" in message and "weights.lightcnn" in message
    assert "python -m experiments.convert_lightcnn" in message
    assert "python -m experiments.pretrain_lightcnn" in message
    assert "--override=loss.identity=0" in message
    # Switching the identity loss off explicitly is allowed.
    TpganTask.check_weights(apply_overrides(cfg, ["loss.identity=0"]))


def test_identity_dropout_state_is_part_of_the_generator(tiny_training):
    # The identity head's dropout draws from a Keras seed generator: it must be a variable of
    # G so that the checkpoint (test above) carries it.
    assert any("seed_generator" in v.path for v in tiny_training.task.generator.variables)


def test_weight_files_are_config_and_spec_counts_of_the_task():
    cfg = get_config("tiny", "tpgan")
    with pytest.raises(ValueError, match="weights has no field 'vgg16'"):
        apply_overrides(cfg, ["weights.vgg16=x.h5"])
    assert apply_overrides(cfg, ["weights.lightcnn=x.h5"]).weights.lightcnn == "x.h5"
    # The spec 2.7 counts are expected only at full width.
    assert TpganTask(cfg).expected_parameter_counts() == {}
    paper = TpganTask(get_config("paper", "tpgan")).expected_parameter_counts()
    assert paper["generator"] == 157_503_770 and paper["discriminator"] == 13_357_441
