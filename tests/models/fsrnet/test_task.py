"""FSRNet's task (tpgan_tf/models/fsrnet/task.py, steps.py): one iteration updates every
generator weight with the spec 6.1 loss (and, in FSRGAN, D first, then G with the new D, both
from one forward pass of G); the resumed run equals the uninterrupted one bit for bit; weight
files, summaries, the learning rate and parameter counts.

The tiny deterministic run (conftest.py `fsrnet_training`, width 1/16, batch 2) is built once
per session; each test restores its initial state (`reset`) or asserts relative to the state
it finds.
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.models.fsrnet.conftest import SMALL_OVERRIDES, FsrnetTraining
from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.core.task import MissingResourceError
from tpgan_tf.models.fsrnet import losses as L
from tpgan_tf.models.fsrnet import networks, steps
from tpgan_tf.models.fsrnet.task import FsrnetTask


def _weights(model):
    return {v.path: np.array(v.numpy()) for v in model.trainable_variables}


def test_one_iteration_updates_every_generator_weight_with_the_fsrnet_loss(fsrnet_training):
    run = fsrnet_training
    run.reset()
    t = run.task
    assert "discriminator" not in t.networks and set(t.optimizers) == {"g_optim"}
    before = _weights(t.generator)
    [values] = run.iterate(1)
    assert int(t.iteration.numpy()) == 1
    assert int(t.optimizers["g_optim"].iterations.numpy()) == 1
    after = _weights(t.generator)
    assert [p for p, w in before.items() if np.array_equal(w, after[p])] == []
    # Torch RMSprop's first step moves each weight by lr * g / (0.1 |g| + eps) <= 10 lr.
    lr = run.cfg.train.learning_rate
    change = max(np.abs(before[p] - w).max() for p, w in after.items())
    assert 5 * lr < change <= 10 * lr * 1.0001
    assert set(values) == {"g/loss", "g/coarse", "g/fine", "g/prior", "schedule/g_steps"}
    assert values["schedule/g_steps"] == 1.0
    assert values["g/loss"] == pytest.approx(values["g/coarse"] + values["g/fine"]
                                             + values["g/prior"], rel=1e-6)
    # the first step's losses against the batch (alpha = beta = 1, means)
    for name in L.FSRNET_TERMS:
        assert np.isfinite(values[f"g/{name}"]) and values[f"g/{name}"] > 0
    images = run.task.summary_images(run.images)
    grid = images["LR|bicubic|coarse|SR|HR"]
    assert grid.shape == (1, 2 * 128, 5 * 128, 3)
    assert images["heatmaps pred|GT, parsing pred|GT"].shape == (1, 2 * 128, 4 * 128, 3)
    assert "coarse" in t.log_line(values) and "prior" in t.log_line(values)


def test_resume_from_a_checkpoint_equals_the_uninterrupted_run(fsrnet_training):
    run = fsrnet_training
    t = run.task
    k = int(t.iteration.numpy())
    path = run.saver.save(k)
    straight = run.iterate(2)
    w_straight = t.trainable_snapshot()
    run.saver.checkpoint.restore(path).assert_existing_objects_matched()
    assert int(t.iteration.numpy()) == k
    resumed = run.iterate(2)
    assert resumed == straight
    for name, w in t.trainable_snapshot().items():
        np.testing.assert_array_equal(w, w_straight[name], err_msg=name)
    names = [n for n, _ in tf.train.list_variables(path)]
    for needle in ("g_optim", "velocity", "data_iterator", "moving_mean"):
        assert any(needle in n for n in names), needle


def _assign(model, values) -> None:
    for v, value in zip(model.variables, values):
        v.assign(value)


@pytest.mark.slow  # builds and traces a second task (~1-2 min on 2 loaded cores)
def test_fsrgan_updates_d_then_g_and_reports_the_perceptual_term_off(
        fsrnet_records, tmp_path, capsys):
    run = FsrnetTraining(fsrnet_records, tmp_path, ["train.gan=true"])
    assert "perceptual loss (gamma_P, fsrnet spec 6.2) is OFF" in capsys.readouterr().err
    t = run.task
    g0, d0 = _weights(t.generator), _weights(t.discriminator)
    g_old = [v.numpy() for v in t.generator.variables]
    d_old = [v.numpy() for v in t.discriminator.variables]
    batch = next(run.iterator)
    values, _ = t.iterate(batch)
    values = {k: float(v) for k, v in values.items()}
    opt = t.optimizers
    assert int(opt["d_optim"].iterations.numpy()) == 1
    assert int(opt["g_optim"].iterations.numpy()) == 1
    assert all(not np.array_equal(w, _weights(t.discriminator)[p]) for p, w in d0.items())
    assert all(not np.array_equal(w, _weights(t.generator)[p]) for p, w in g0.items())
    assert values["g/perceptual"] == 0.0
    assert values["g/d_loss"] == pytest.approx(values["g/d_real"] + values["g/d_fake"], rel=1e-6)
    lc = run.cfg.loss
    assert values["g/loss"] == pytest.approx(
        values["g/coarse"] + values["g/fine"] + values["g/prior"]
        + lc.gamma_c * values["g/adversarial"], rel=1e-6)
    # an untrained D: both BCE terms near log 2
    assert 0.3 < values["g/d_real"] < 1.5 and 0.3 < values["g/d_fake"] < 1.5
    assert "d_loss" in t.log_line(values)
    # Spec 6.2 as [CS]: ONE forward pass of the old G feeds D's update (D's terms with the old
    # D) and then G's adversarial term, scored by the UPDATED D.
    x, hr = batch["x"], batch["hr"]
    d_new = [v.numpy() for v in t.discriminator.variables]
    stats = {v.path: v.numpy() for v in t.generator.non_trainable_variables}
    _assign(t.generator, g_old)
    out = t.generator(x, training=True)
    # ONE forward pass: G's BN moving statistics moved once from their initial values.
    assert any("moving_mean" in p for p in stats)
    for v in t.generator.non_trainable_variables:
        np.testing.assert_allclose(v.numpy(), stats[v.path], rtol=1e-5, atol=1e-7,
                                   err_msg=v.path)
    assert values["g/coarse"] == pytest.approx(float(L.mse(out["coarse"], hr)), rel=1e-5)
    _assign(t.discriminator, d_old)
    fake_old = L.bce_with_logits(t.discriminator(x, out["sr"], training=True), 1.0)
    assert values["g/d_real"] == pytest.approx(float(L.bce_with_logits(
        t.discriminator(x, hr, training=True), 1.0)), rel=1e-5)
    assert values["g/d_fake"] == pytest.approx(float(L.bce_with_logits(
        t.discriminator(x, out["sr"], training=True), 0.0)), rel=1e-5)
    _assign(t.discriminator, d_new)
    adversarial = L.bce_with_logits(t.discriminator(x, out["sr"], training=True), 1.0)
    assert values["g/adversarial"] == pytest.approx(float(adversarial), rel=1e-5)
    assert abs(float(adversarial) - float(fake_old)) > 1e-3 * float(adversarial)


def test_weight_files_and_expected_counts():
    cfg = get_config("tiny", "fsrnet")
    with pytest.raises(ValueError, match="weights has no field 'lightcnn'"):
        apply_overrides(cfg, ["weights.lightcnn=x.h5"])  # FSRNet reads no Light-CNN
    with pytest.raises(MissingResourceError, match="does not exist.*save_weights"):
        FsrnetTask.check_weights(apply_overrides(
            cfg, ["weights.vgg16=/nonexistent/vgg16.weights.h5"]))
    FsrnetTask.check_weights(cfg)  # no file named: nothing to check
    assert FsrnetTask(cfg).expected_parameter_counts() == {}
    paper = FsrnetTask(get_config("paper", "fsrnet")).expected_parameter_counts()
    assert paper == {"coarse": 225_536, "encoder": 926_528, "prior_head": 25_413,
                     "decoder": 439_808}
    assert paper == networks.expected_parameter_counts(get_config("paper", "fsrnet"))
    celeba = FsrnetTask(get_config("celeba", "fsrnet")).expected_parameter_counts()
    assert celeba == {}


def test_tiny_parameter_counts_of_the_built_task(fsrnet_inference):
    from tests.models.fsrnet import param_tables as P

    task, _ = fsrnet_inference
    counts = task.parameter_counts()
    k = task.config.num_priors
    assert counts["coarse"] == P.coarse(4) and counts["encoder"] == P.encoder(4)
    assert counts["prior_head"] == P.prior_head(8, k) and counts["decoder"] == P.decoder(4, k)
    assert counts["generator"] == P.generator(4, 8, k, 1) - (3 * 1 + 1) * P.br(8, 8)  # 1 stack


@pytest.mark.slow
def test_fsrgan_with_random_vgg_weights_adds_the_perceptual_term(fsrnet_records, tmp_path):
    import keras

    path = str(tmp_path / "vgg16.weights.h5")
    keras.applications.VGG16(weights=None, include_top=False).save_weights(path)
    cfg = apply_overrides(get_config("tiny", "fsrnet"), ["train.gan=true", *SMALL_OVERRIDES,
                                                         f"weights.vgg16={path}"])
    task = FsrnetTask(cfg).build()
    assert task.vgg is not None
    values, _ = task.iterate(task.random_batch(2))
    assert float(values["g/perceptual"]) > 0
    terms = {k: float(v) for k, v in values.items()}
    assert terms["g/loss"] == pytest.approx(
        terms["g/coarse"] + terms["g/fine"] + terms["g/prior"]
        + cfg.loss.gamma_c * terms["g/adversarial"] + cfg.loss.gamma_p * terms["g/perceptual"],
        rel=1e-5)


def test_poly_schedule_is_li_decay_to_zero():
    cfg = apply_overrides(get_config("tiny", "fsrnet"), [
        "train.lr_schedule=poly", "train.num_iterations=100", "train.lr_power=0.3"])
    schedule = steps.learning_rate(cfg, 1e-3)
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(50)) == pytest.approx(1e-3 * 0.5 ** 0.3, rel=1e-6)
    assert float(schedule(100)) == 0.0
    assert steps.learning_rate(get_config("tiny", "fsrnet"), 1e-3) == 1e-3
    with pytest.raises(ValueError, match="train.lr_schedule must be"):
        apply_overrides(cfg, ["train.lr_schedule=cosine"])
