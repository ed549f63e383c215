"""Builders of a config: parameter counts of every preset against counts computed by hand
from spec 2's tables, the pre-training transfer into G_enc (spec 4.2), and a forward pass
under the mixed_bfloat16 policy."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.helpers import (SHAPES_96, calibrate_batch_norm, decoder_params,
                                        discriminator_params, encoder_params)
from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.models.drgan import losses, networks

# Hand-computed from the tables (tests/models/drgan/helpers.py); the paper numbers also as
# literals so that a change of the helpers shows.
EXPECTED = {
    "paper": {"encoder": 2_864_064, "decoder": 7_240_707, "discriminator": 2_931_474},
    "tpami": {"encoder": 2_864_064, "decoder": 7_240_707, "discriminator": 2_931_474},
}


def _by_hand(cfg):
    m, size = cfg.model, cfg.data.image_size
    return {"encoder": encoder_params(m.width, m.confidence),
            "decoder": decoder_params(m.width, size, m.pose_dim, m.z_dim,
                                      official=m.decoder == "official",
                                      pose_embedding=m.pose_embedding_dim),
            "discriminator": discriminator_params(m.width, m.discriminator, m.num_identities,
                                                  m.pose_dim)}


@pytest.mark.parametrize("name", ["paper", "tpami", "official", "multi", "demo", "tiny"])
def test_parameter_counts_of_every_preset(name):
    cfg = get_config(name, "drgan")
    counts = networks.parameter_counts(networks.build_networks(cfg), cfg)
    hand = _by_hand(cfg)
    assert {k: counts[k] for k in hand} == hand
    assert counts["total"] == sum(hand.values())
    if name in EXPECTED:
        assert hand == EXPECTED[name]


def _official_tiny():
    cfg = apply_overrides(get_config("official", "drgan"),
                          ["model.width=0.125", "data.image_size=32", "data.load_size=36"])
    return networks.build_networks(cfg)


def _identity_path_rows(disc):
    """{encoder row: D's output key of the same row}: trunk Conv11..Conv51, then the
    identity branch's Conv52 / Conv53 (spec 4.2: g_k* <- d_k*), written by hand."""
    rows = {n: n for n in list(SHAPES_96)[:12]}
    rows.update({n: f"identity_branch/{n}" for n in ("conv52", "conv53")})
    return rows


def test_copy_identity_trunk_official():
    nets = _official_tiny()
    enc, disc = nets["encoder"], nets["discriminator"]
    rng = np.random.default_rng(4)
    # Pre-trained-looking D: random BN gamma / beta (a copy that skipped them would show).
    for unit, _ in networks._unit_pairs(disc, enc):
        unit.bn.gamma.assign(rng.uniform(0.5, 1.5, unit.bn.gamma.shape).astype(np.float32))
        unit.bn.beta.assign(rng.normal(0, 0.3, unit.bn.beta.shape).astype(np.float32))
    before_branch = [w.numpy().copy() for w in enc.confidence_branch.weights]
    copied = networks.copy_identity_trunk(disc, enc)
    assert copied == 14 * 6  # conv kernel + bias, BN gamma, beta, mean, variance per row
    # Conv52 / Conv53 of G_enc come from the IDENTITY branch (not pose / adversarial).
    np.testing.assert_array_equal(enc.trunk.conv53.conv.kernel.numpy(),
                                  disc.identity_branch.conv53.conv.kernel.numpy())
    assert not np.array_equal(enc.trunk.conv53.conv.kernel.numpy(),
                              disc.pose_branch.conv53.conv.kernel.numpy())
    for w, b in zip(enc.confidence_branch.weights, before_branch):  # omega branch untouched
        np.testing.assert_array_equal(w.numpy(), b)
    # G_enc is now D's identity path, layer by layer, at unit scale: training-mode BN
    # (batch moments), where a missing or extra ELU is off by ~0.4.
    x = tf.random.uniform([4, 32, 32, 3], -1, 1, seed=1)
    e_out = enc.layer_outputs(x, training=True)
    d_out = disc.layer_outputs(x, training=True)
    for e_key, d_key in _identity_path_rows(disc).items():
        assert e_out[e_key].numpy().min() < -0.5, e_key  # ELU/BN outputs well below 0
        np.testing.assert_allclose(e_out[e_key].numpy(), d_out[d_key].numpy(), rtol=1e-5,
                                   atol=1e-5, err_msg=e_key)
    # f(x) before the encoder's feature dropout = D's identity features.
    np.testing.assert_allclose(e_out["avgpool"].numpy(), d_out["features"].numpy(), rtol=1e-5,
                               atol=1e-5)


def test_copied_trunk_equals_d_in_inference_mode_at_unit_scale():
    """The moving statistics are copied too: D's moving mean / variance calibrated to one
    batch's moments (inference-mode BN at unit scale), then copied and compared in
    inference mode."""
    nets = _official_tiny()
    enc, disc = nets["encoder"], nets["discriminator"]
    x = tf.random.uniform([4, 32, 32, 3], -1, 1, seed=2)
    calibrate_batch_norm(disc, x)
    networks.copy_identity_trunk(disc, enc)
    e_out = enc.layer_outputs(x, training=False)
    d_out = disc.layer_outputs(x, training=False)
    for e_key, d_key in _identity_path_rows(disc).items():
        assert e_out[e_key].numpy().min() < -0.5, e_key
        np.testing.assert_allclose(e_out[e_key].numpy(), d_out[d_key].numpy(), rtol=1e-5,
                                   atol=1e-5, err_msg=e_key)


def test_copy_identity_trunk_refuses_the_321_channel_encoder():
    cfg = apply_overrides(get_config("tiny", "drgan"), ["model.confidence=channel"])
    nets = networks.build_networks(cfg)
    with pytest.raises(ValueError, match="conv53"):
        networks.copy_identity_trunk(nets["discriminator"], nets["encoder"])


@pytest.mark.parametrize("name", ["tiny", "official"])
def test_networks_run_under_mixed_bfloat16(name):
    cfg = get_config(name, "drgan")
    if name == "official":
        cfg = apply_overrides(cfg, ["model.width=0.0625", "data.image_size=32",
                                    "data.load_size=36"])
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        nets = networks.build_networks(cfg, batch_size=2)
        enc, dec, disc = nets["encoder"], nets["decoder"], nets["discriminator"]
        assert enc.trunk.conv11.conv.kernel.dtype == "float32"  # variables stay float32
        x = tf.random.uniform([2, 32, 32, 3], -1, 1, seed=2)
        e = enc(x, training=True)
        pose = tf.ones([2, cfg.model.pose_dim]) / cfg.model.pose_dim
        image = dec({"features": e["features"], "pose": pose,
                     "z": tf.zeros([2, cfg.model.z_dim])}, training=True)
        real, fake = disc.call_real_fake(x, image, training=True)
        assert e["features"].dtype == tf.bfloat16 and image.dtype == tf.bfloat16
        assert image.shape == (2, 32, 32, 3)
        assert real["pose"].dtype == tf.bfloat16
        expected_identity = tf.float32 if cfg.model.identity_head == "am_softmax" else tf.bfloat16
        assert fake["identity"].dtype == expected_identity
        for t in (e["features"], e["omega"], image, *real.values(), *fake.values()):
            assert np.all(np.isfinite(tf.cast(t, tf.float32).numpy()))
        ids, poses = tf.constant([0, 1]), (tf.constant([0, 1]) if cfg.model.pose_code == "onehot"
                                           else tf.constant([0.1, -0.2]))
        d_total, _ = losses.discriminator_loss(real, fake, ids, poses, cfg.model, cfg.loss)
        g_total, _ = losses.generator_loss(fake, ids, poses, cfg.model, cfg.loss)
        for total in (d_total, g_total):
            assert total.dtype == tf.float32 and np.isfinite(float(total))
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert keras.mixed_precision.global_policy().name == "float32"


def test_get_config_round_trip_of_every_network():
    cfg = apply_overrides(get_config("official", "drgan"),
                          ["model.width=0.0625", "data.image_size=32", "data.load_size=36"])
    nets = networks.build_networks(cfg)
    twins = {}
    for name, net in nets.items():
        twins[name] = type(net).from_config(net.get_config())
    x = tf.zeros([1, 32, 32, 3])
    twins["encoder"](x)
    twins["discriminator"](x)
    twins["decoder"]({"features": tf.zeros([1, 20]), "pose": tf.zeros([1, 1]),
                      "z": tf.zeros([1, 20])})
    for name, net in nets.items():
        assert [tuple(v.shape) for v in net.weights] == \
            [tuple(v.shape) for v in twins[name].weights], name
        assert net.get_config() == twins[name].get_config(), name
