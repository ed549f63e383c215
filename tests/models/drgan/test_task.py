"""DR-GAN's task (tpgan_tf/models/drgan/task.py): what a D step and a G step update (and what
they must not touch), the logged terms, the exact resume, each step's own augmentation,
identity pre-training with the trunk copy (drgan spec 3, 4). The D:G schedules:
test_schedule.py.

One `tiny` run (width 1/16, 32 px, batch 2, deterministic ops) on the image records of
tests/models/drgan/conftest.py is built per module; tests restore its initial state (`reset`)
or assert relative to the state they find.
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core import checkpointing, distribution
from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.core.steps import StepOutput
from tpgan_tf.models.drgan import networks
from tpgan_tf.models.drgan.task import DrganTask


def _snapshot(variables):
    return {v.path: np.array(v.numpy()) for v in variables}


def _changed(before, variables):
    return [v.path for v in variables if not np.array_equal(before[v.path], v.numpy())]


class TinyRun:
    def __init__(self, records, tmp, overrides=()):
        self.cfg = apply_overrides(get_config("tiny", "drgan"), [
            "runtime.deterministic=true", "train.schedule=alternate", *overrides])
        distribution.enable_determinism(self.cfg.train.seed)
        self.task = DrganTask(self.cfg).build()
        self.iterator = iter(self.task.train_dataset(records, tf.distribute.InputContext()))
        self.saver = checkpointing.CheckpointSaver(
            checkpointing.make_checkpoint(self.task, self.iterator), str(tmp / "run"), 3)
        self._initial = self.saver.checkpoint.write(str(tmp / "initial" / "ckpt"))

    def reset(self):
        self.saver.checkpoint.read(self._initial).assert_existing_objects_matched()

    def iterate(self, n):
        """n iterations as the loop runs them at tiny's log_every = 1 (observe on each)."""
        out = []
        for _ in range(n):
            values, _ = self.task.iterate(next(self.iterator), observe=True)
            out.append({k: float(v) for k, v in values.items()})
        return out


@pytest.fixture(scope="module")
def run(drgan_records, tmp_path_factory):
    return TinyRun(drgan_records[0], tmp_path_factory.mktemp("drgan_run"))


def test_d_step_updates_d_only_and_g_step_updates_g_only(run):
    run.reset()
    t = run.task
    batch = next(run.iterator)
    d_vars, g_vars = t.optimizer_variables["d_optim"], t.optimizer_variables["g_optim"]
    assert {v.path for v in d_vars} == {v.path for v in t.discriminator.trainable_variables}
    assert {v.path for v in g_vars} == {v.path for v in t.encoder.trainable_variables
                                        + t.decoder.trainable_variables}
    d0, g0 = _snapshot(d_vars), _snapshot(g_vars)
    t.steps["d"](batch)
    assert sorted(_changed(d0, d_vars)) == sorted(v.path for v in d_vars)  # every D weight
    assert _changed(g0, g_vars) == []  # the D step's syntheses do not train G
    d_optim, g_optim = t.optimizers["d_optim"], t.optimizers["g_optim"]
    assert int(d_optim.iterations.numpy()) == 1 and int(g_optim.iterations.numpy()) == 0
    d1 = _snapshot(d_vars)
    t.steps["g"](batch)
    assert sorted(_changed(g0, g_vars)) == sorted(v.path for v in g_vars)  # G_enc + G_dec
    assert _changed(d1, d_vars) == []  # D's weights are fixed in the G step
    assert int(d_optim.iterations.numpy()) == 1 and int(g_optim.iterations.numpy()) == 1
    assert int(t.iteration.numpy()) == 0  # steps never move the loop's counter
    # One Adam step moves a weight by at most ~lr (2e-4).
    assert max(np.abs(d1[p] - d0[p]).max() for p in d0) <= 2e-4 * 1.01


def test_an_iteration_logs_every_term_and_the_totals_add_up(run):
    run.reset()
    [values] = run.iterate(1)
    t = run.task
    assert int(t.iteration.numpy()) == 1
    expected = {"d/loss", "d/identity", "d/pose", "d/fake_class", "d/acc_identity_real",
                "d/acc_pose_real", "d/acc_pose_fake", "d/acc_fake_class", "d/acc_mean",
                "g/loss", "g/identity", "g/pose", "g/pose_accuracy_synth",
                "schedule/d_steps", "schedule/g_steps", "monitor/diversity_l1_synth",
                "monitor/diversity_l1_real", "monitor/diversity_feature_synth",
                "monitor/diversity_feature_real"}  # tiny logs every iteration
    assert set(values) == expected
    assert all(np.isfinite(list(values.values())))
    # CVPR losses, weights 1 (spec 3.1): D = id + pose + fake class, G = id + pose.
    assert values["d/loss"] == pytest.approx(values["d/identity"] + values["d/pose"]
                                             + values["d/fake_class"], rel=1e-5)
    assert values["g/loss"] == pytest.approx(values["g/identity"] + values["g/pose"], rel=1e-5)
    # Untrained: near-uniform softmaxes over N^d + 1 = 11 identities and 9 poses.
    assert 1.5 < values["d/identity"] < 4.0 and 1.5 < values["d/pose"] < 3.0
    assert values["schedule/d_steps"] == 1 and values["schedule/g_steps"] == 1
    line = t.log_line(values)
    assert "d_loss" in line and "pose acc on syntheses" in line and "D:G 1:1" in line


def test_resume_from_checkpoint_equals_uninterrupted_run(run):
    """k iterations, save, m more; restore into the same advanced objects, m again: any state
    missing from the checkpoint (slots, BN statistics, the rng of targets and z, dropout
    seeds, the data position with its augmentation draws) would make them differ."""
    t = run.task
    run.iterate(1)
    k = int(t.iteration.numpy())
    path = run.saver.save(k)
    straight = run.iterate(2)
    w_straight = t.trainable_snapshot()
    rng_state = t.rng.state.numpy().copy()
    run.saver.checkpoint.restore(path).assert_existing_objects_matched()
    assert int(t.iteration.numpy()) == k
    resumed = run.iterate(2)
    assert resumed == straight  # bit-identical
    for name, w in t.trainable_snapshot().items():
        np.testing.assert_array_equal(w, w_straight[name], err_msg=name)
    np.testing.assert_array_equal(t.rng.state.numpy(), rng_state)
    names = [n for n, _ in tf.train.list_variables(path)]
    for needle in ("d_optim", "g_optim", "rng", "data_iterator", "moving_mean"):
        assert any(needle in n for n in names), needle


def test_summary_images_show_the_input_at_every_pose_code(run):
    t = run.task
    _, images = t.iterate(next(run.iterator), observe=True)  # as on an image iteration
    out = t.summary_images(images)
    assert out["input | every pose code"].shape == (1, 32, 32 * 10, 3)  # input + 9 views
    assert out["input | synthesis"].shape == (1, 2 * 32, 2 * 32, 3)
    for image in out.values():
        assert 0 <= float(tf.reduce_min(image)) and float(tf.reduce_max(image)) <= 1


def test_d_and_g_steps_see_fresh_augmentations_unless_same_batch(drgan_records, monkeypatch):
    """Spec 4.3: the code re-draws crop, flip and rotation on every session.run, so the D
    step and the G step of one iteration see different augmentations of the same rows (the
    default); data.same_batch_for_d_and_g=true shares one per iteration (drawn from the
    iteration counter: the next iteration gets another). The steps' per-replica functions are
    replaced by recorders (numpy_function) of the augmented batch the real steps hand them,
    so the steps trace without the networks."""
    for same in (False, True):
        cfg = apply_overrides(get_config("tiny", "drgan"), [
            "train.schedule=alternate", "data.max_rotation=10",
            f"data.same_batch_for_d_and_g={str(same).lower()}"])
        t = DrganTask(cfg).build()
        seen = []

        def recorder(name, optimizer):
            variables = t.optimizer_variables[optimizer]

            def fn(batch, targets, z, omega=None):
                def record(image, identity):
                    seen.append((name, image.copy(), identity.copy()))
                    return np.float32(0)
                loss = tf.numpy_function(record, [batch["image"], batch["identity"]],
                                         tf.float32)
                loss += 0.0 * tf.add_n([tf.reduce_sum(v) for v in variables])
                return StepOutput(losses={optimizer: loss},
                                  scalars={"loss": loss, "acc_mean": loss})
            return fn

        monkeypatch.setattr(t.steps["d"], "fn", recorder("d", "d_optim"))
        monkeypatch.setattr(t.steps["g"], "fn", recorder("g", "g_optim"))
        rows = next(iter(t.train_dataset(drgan_records[0], tf.distribute.InputContext())))
        for _ in range(2):
            t.iterate(rows)
        assert [name for name, _, _ in seen] == ["d", "g", "d", "g"]
        (_, d_image, d_id), (_, g_image, g_id), (_, next_image, _), _ = seen
        assert d_image.shape == g_image.shape == (2, 32, 32, 3)
        np.testing.assert_array_equal(d_id, g_id)  # the same rows (files) in both steps
        if same:
            np.testing.assert_array_equal(d_image, g_image)
        else:
            assert np.abs(d_image - g_image).max() > 0.5
        assert np.abs(d_image - next_image).max() > 0.5  # a new draw every iteration


def test_labels_beyond_the_identity_head_are_an_error(run):
    batch = dict(next(run.iterator))
    batch["identity"] = tf.constant([3, 10], tf.int32)  # tiny: num_identities 10
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_identities=10"):
        run.task.steps["d"](batch)


class _Fake:
    """Stand-ins for the D and G steps: count calls, give fixed values."""

    def __init__(self, d_accuracy):
        self.d = self.g = 0
        self.acc = d_accuracy

    def d_step(self, batch):
        self.d += 1
        return {"loss": tf.constant(1.0), "acc_mean": tf.constant(self.acc)}, {}

    def g_step(self, batch):
        self.g += 1
        return {"loss": tf.constant(2.0)}, {}


def test_identity_pretraining_then_the_trunk_is_copied_into_the_encoder(drgan_records,
                                                                        monkeypatch):
    # The official D layout: its pose and adversarial branches must stay untouched.
    cfg = apply_overrides(get_config("tiny", "drgan"), [
        "train.pretrain_d=true", "train.pretrain_iterations=2", "model.discriminator=official",
        "model.identity_head=am_softmax"])
    t = DrganTask(cfg).build()
    assert set(t.optimizers) == {"d_optim", "g_optim", "pretrain_optim"}
    it = iter(t.train_dataset(drgan_records[0], tf.distribute.InputContext()))
    d_vars, g_vars = t.optimizer_variables["d_optim"], t.optimizer_variables["g_optim"]
    d0, g0 = _snapshot(d_vars), _snapshot(g_vars)
    for _ in range(2):
        values, images = t.iterate(next(it), observe=True)
        # No monitoring while D pre-trains (the decoder is untrained).
        assert set(values) == {"pretrain/loss", "pretrain/accuracy", "schedule/pretrain_steps"}
        assert images == {} and t.summary_images(images) == {}
    assert "pretraining D: identity loss" in t.log_line({k: float(v) for k, v in values.items()})
    changed = set(_changed(d0, d_vars))
    assert changed == {v.path for v in t.optimizer_variables["pretrain_optim"]}  # identity path
    untouched = {v.path for v in d_vars} - changed
    assert any("pose_branch" in p for p in untouched) and any("adversarial" in p
                                                               for p in untouched)
    assert _changed(g0, g_vars) == []
    fake = _Fake(0.5)
    monkeypatch.setitem(t.steps, "d", fake.d_step)
    monkeypatch.setitem(t.steps, "g", fake.g_step)
    values, _ = t.iterate(next(it))  # the first GAN iteration copies D's trunk into G_enc first
    assert values["schedule/copy_trunk_steps"] == 1 and "pretrain/loss" not in values
    for d_unit, e_unit in networks._unit_pairs(t.discriminator, t.encoder):
        for dv, ev in zip(d_unit.weights, e_unit.weights):
            np.testing.assert_array_equal(dv.numpy(), ev.numpy())
    assert fake.d == 1 and fake.g == 1


@pytest.mark.slow
@pytest.mark.parametrize("preset, overrides", [
    ("multi", ["model.multi_images=2"]),
    ("official", ["model.multi_images=2", "train.pretrain_d=false"])])
def test_multi_image_and_official_iterations(preset, overrides):
    """One real iteration of `multi` (2(n + 1) generator terms, spec 2.5) and of `official`
    (yaw regression, AM-softmax, label smoothing, its schedule) at tiny sizes, random data."""
    cfg = apply_overrides(get_config(preset, "drgan"), [
        "model.width=0.0625", "model.num_identities=10", "data.image_size=32",
        "data.load_size=36", "train.batch_size=2", "train.log_every=1",
        "train.image_summary_every=1", *overrides])
    t = DrganTask(cfg).build()
    values, images = t.iterate(t.random_batch(2), observe=True)
    assert all(np.isfinite([float(v) for v in values.values()]))
    g_terms = [k for k in values if k.startswith("g/") and k.count("/") == 2]
    if preset == "multi":  # cvpr heads: identity + pose per synthesis, n + 1 = 3 syntheses
        assert sorted(g_terms) == sorted(f"g/{s}/{n}" for s in ("single0", "single1", "fused")
                                         for n in ("identity", "pose"))
        assert "g/pose_accuracy_synth" in values
    else:  # separate real/fake logit: 3 terms per synthesis; yaw error instead of accuracy
        assert len(g_terms) == 3 * 3 and "g/yaw_error_synth_deg" in values
        assert {"d/adv_real", "d/adv_fake"} <= set(values)
    assert t.summary_images(images)["input | every pose code"].shape[2] == 32 * (
        cfg.data.num_views + 1)
