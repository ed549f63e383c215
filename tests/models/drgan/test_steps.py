"""The per-replica pieces of DR-GAN's steps (tpgan_tf/models/drgan/steps.py): how D sees the
real and the synthetic batch (model.separate_bn_real_fake, drgan spec 2.4), in training-mode
BN where separate and joint statistics give different values; which labels and targets the
D and G steps' loss terms score (spec 3.1); the multi preset's omega dropout (spec 2.5)."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.models.drgan import inputs, networks, steps
from tpgan_tf.models.drgan import losses as L


def _images(batch, seed):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (batch, 32, 32, 3)),
                       tf.float32)


@pytest.mark.parametrize("separate", [True, False])
def test_discriminate_separate_or_joint_bn_statistics(separate):
    cfg = apply_overrides(get_config("tiny", "drgan"), [
        "model.discriminator=tpami", f"model.separate_bn_real_fake={str(separate).lower()}"])
    disc = networks.build_discriminator(cfg)
    disc(_images(1, 0), training=False)  # build; then an FC of order 1 (init: 0.02)
    disc.fc.kernel.assign(np.random.default_rng(3).normal(0, 1, disc.fc.kernel.shape))
    real, fake = _images(3, 1), _images(2, 2) * 0.3
    real_out, fake_out = steps.discriminate(disc, real, fake, cfg, training=True)
    alone = disc(real, training=True)["real_fake"].numpy()
    joint = disc(tf.concat([real, fake], 0), training=True)["real_fake"].numpy()
    assert np.abs(alone - joint[:3]).max() > 0.05  # the two rules can be told apart
    expected = alone if separate else joint[:3]
    np.testing.assert_allclose(real_out["real_fake"].numpy(), expected, rtol=1e-4, atol=1e-5)
    expected_fake = disc(fake, training=True)["real_fake"].numpy() if separate else joint[3:]
    np.testing.assert_allclose(fake_out["real_fake"].numpy(), expected_fake, rtol=1e-4,
                               atol=1e-5)


def _np_ce(logits, labels):
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), np.asarray(labels)].mean())


def test_d_and_g_steps_score_the_labels_and_targets_they_are_given():
    """The steps' loss terms (cvpr, spec 3.1) by hand from D's outputs: D on the real images
    against their identity and pose, on the syntheses against the fake class; G's syntheses
    against the INPUT's identity and the TARGET pose. D's FC gets order-1 weights and a bias
    rising by 3 per class within each head, so that each cross-entropy depends on its labels
    by ~3 per class of difference."""
    cfg = get_config("tiny", "drgan")
    nets = networks.build_networks(cfg, batch_size=2)
    enc, dec, disc = nets["encoder"], nets["decoder"], nets["discriminator"]
    rng = np.random.default_rng(5)
    disc.fc.kernel.assign(rng.normal(0, 1, disc.fc.kernel.shape).astype(np.float32))
    nd, npose = cfg.model.num_identities, cfg.model.num_poses
    disc.fc.bias.assign(np.concatenate([3.0 * np.arange(nd + 1), 3.0 * np.arange(npose)]))
    rows = {k: tf.constant(v) for k, v in inputs.random_examples(4, cfg, seed=1).items()}
    batch = inputs.augment_batch(rows, tf.constant(rng.integers(0, 2**31, (4, 2))), cfg.data)
    targets = tf.constant((batch["pose"].numpy() + 4) % npose)[:, None]  # never the input's
    z = tf.constant(rng.uniform(-1, 1, (4, 1, cfg.model.z_dim)), tf.float32)
    d_values = steps.d_step(nets, cfg, batch, targets, z).scalars
    g_out = steps.g_step(nets, cfg, batch, targets, z)
    g_values = g_out.scalars
    # By hand: the same syntheses (no dropout in tiny; training-mode BN is deterministic).
    fakes = steps.synthesise(enc, dec, batch, targets, z, cfg, True)["fakes"]
    real_out, fake_out = steps.discriminate(disc, batch["image"], fakes, cfg)
    identity, pose = batch["identity"].numpy(), batch["pose"].numpy()
    expected_d = {"identity": _np_ce(real_out["identity"], identity),
                  "pose": _np_ce(real_out["pose"], pose),
                  "fake_class": _np_ce(fake_out["identity"], np.full(4, nd))}
    expected_g = {"identity": _np_ce(fake_out["identity"], identity),
                  "pose": _np_ce(fake_out["pose"], targets.numpy()[:, 0])}
    for name, value in expected_d.items():
        assert float(d_values[name]) == pytest.approx(value, rel=1e-4), name
    for name, value in expected_g.items():
        assert float(g_values[name]) == pytest.approx(value, rel=1e-4), name
    # The losses the optimisers get are the logged totals (spec 3.1: the terms, weights 1).
    d_out = steps.d_step(nets, cfg, batch, targets, z)
    assert set(d_out.losses) == {"d_optim"} and set(g_out.losses) == {"g_optim"}
    assert float(d_out.losses["d_optim"]) == pytest.approx(sum(expected_d.values()), rel=1e-4)
    assert float(g_out.losses["g_optim"]) == pytest.approx(sum(expected_g.values()), rel=1e-4)
    # The labels matter: the input's pose instead of the target would score differently.
    assert abs(_np_ce(fake_out["pose"], pose) - expected_g["pose"]) > 1.0


class _Echo:
    """Stand-in encoder / decoder: the encoder gives image i of the flattened batch the
    feature vector (i, i, i, i) and omega 1; the decoder records what it receives."""

    def __call__(self, x, training=None):
        if isinstance(x, dict):
            self.seen = x
            return tf.zeros([x["features"].shape[0], 32, 32, 3])
        n = x.shape[0]
        return {"features": tf.tile(tf.range(n, dtype=tf.float32)[:, None], [1, 4]),
                "omega": tf.ones([n, 1])}


def test_multi_preset_drops_omegas_in_training_syntheses_only():
    """The multi preset's omega dropout (spec 2.5, rate 0.2 [unverified]) changes the fused
    feature of a training synthesis and leaves inference alone. Draws below 0.2 drop that
    image's omega (at least one image per row stays)."""
    cfg = get_config("multi", "drgan")
    assert cfg.model.omega_dropout == 0.2 and cfg.model.multi_images == 4
    batch = {"image": tf.zeros([2, 4, 32, 32, 3]), "identity": tf.constant([0, 1]),
             "pose": tf.zeros([2, 4], tf.int32), "yaw": tf.zeros([2, 4], tf.int32)}
    draw = tf.constant([[0.1, 0.05, 0.5, 0.9],    # row 0 (images 0-3): drops 0 and 1
                        [0.3, 0.6, 0.15, 0.19]])  # row 1 (images 4-7): drops 6 and 7
    targets = tf.zeros([2, 5], tf.int32)
    z = tf.zeros([2, 5, cfg.model.z_dim])
    fused = {}
    for training in (True, False):
        enc, dec = _Echo(), _Echo()
        steps.synthesise(enc, dec, batch, targets, z, cfg, training, omega_draw=draw)
        fused[training] = dec.seen["features"].numpy()[-2:, 0]  # the fused rows come last
    np.testing.assert_allclose(fused[True], [(2 + 3) / 2, (4 + 5) / 2], rtol=1e-5)
    np.testing.assert_allclose(fused[False], [(0 + 1 + 2 + 3) / 4, (4 + 5 + 6 + 7) / 4],
                               rtol=1e-5)


class _Constant:
    """Stand-in decoder: images of 0.25 everywhere; records what it receives."""

    def __call__(self, x, training=None):
        self.seen = x
        return tf.fill([x["features"].shape[0], 32, 32, 3], 0.25)


def test_reconstruction_extension_decodes_the_input_at_its_own_pose():
    """loss.reconstruction_weight (an extension, config.py): the decoder gets the synthesis's
    features, the INPUT's own one-hot pose and the synthesis's z; the term is the mean
    |rebuilt - x| (here |0.25 - x| by hand); G's total grows by weight x term."""
    cfg = apply_overrides(get_config("tiny", "drgan"), ["loss.reconstruction_weight=2.5"])
    rng = np.random.default_rng(7)
    batch = {"image": _images(3, 4), "identity": tf.constant([0, 1, 2]),
             "pose": tf.constant([0, 4, 8]), "yaw": tf.constant([-60, 0, 60])}
    z = tf.constant(rng.uniform(-1, 1, (3, 1, cfg.model.z_dim)), tf.float32)
    syn = {"features": tf.constant(rng.normal(size=(3, 6)), tf.float32)}
    dec = _Constant()
    term = L.reconstruction_l1(steps.rebuild_at_own_pose(dec, batch, syn, z, cfg), batch["image"])
    assert float(term) == pytest.approx(np.abs(0.25 - batch["image"].numpy()).mean(), rel=1e-5)
    np.testing.assert_array_equal(dec.seen["pose"].numpy(), np.eye(9)[[0, 4, 8]])
    np.testing.assert_array_equal(dec.seen["z"].numpy(), z.numpy()[:, 0])
    np.testing.assert_array_equal(dec.seen["features"].numpy(), syn["features"].numpy())
    # In the G step, with the tiny networks: the term is logged and weighted into the total.
    nets = networks.build_networks(cfg, batch_size=2)
    rows = {k: tf.constant(v) for k, v in inputs.random_examples(4, cfg, seed=1).items()}
    batch = inputs.augment_batch(rows, tf.constant(rng.integers(0, 2**31, (4, 2))), cfg.data)
    targets = tf.constant((batch["pose"].numpy() + 4) % 9)[:, None]
    z = tf.constant(rng.uniform(-1, 1, (4, 1, cfg.model.z_dim)), tf.float32)
    with_term = steps.g_step(nets, cfg, batch, targets, z)
    without = steps.g_step(nets, apply_overrides(cfg, ["loss.reconstruction_weight=0"]),
                           batch, targets, z)
    assert "reconstruction" not in without.scalars
    features = nets["encoder"](batch["image"], training=True)["features"]
    rebuilt = nets["decoder"]({"features": features, "z": z[:, 0],
                               "pose": tf.one_hot(batch["pose"], 9)}, training=True)
    by_hand = np.abs(rebuilt.numpy() - batch["image"].numpy()).mean()
    assert float(with_term.scalars["reconstruction"]) == pytest.approx(by_hand, rel=1e-4)
    assert float(with_term.losses["g_optim"]) == pytest.approx(
        float(without.losses["g_optim"]) + 2.5 * by_hand, rel=1e-4)
