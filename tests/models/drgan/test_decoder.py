"""G_dec against drgan spec 2.3: shapes after every row of both variants, parameter counts
from the tables, tanh output, the input layout, and the noise sampler."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.helpers import bn_training_by_hand, check_rows, decoder_params, elu
from tpgan_tf.models.drgan.decoder import Decoder, sample_z

# Spec 2.3 paper table (96 output).
PAPER_96 = {
    "fc": (6, 6, 320), "fconv52": (6, 6, 160), "fconv51": (6, 6, 256),
    "fconv43": (12, 12, 256), "fconv42": (12, 12, 128), "fconv41": (12, 12, 192),
    "fconv33": (24, 24, 192), "fconv32": (24, 24, 96), "fconv31": (24, 24, 128),
    "fconv23": (48, 48, 128), "fconv22": (48, 48, 64), "fconv21": (48, 48, 64),
    "fconv13": (96, 96, 64), "fconv12": (96, 96, 32), "fconv11": (96, 96, 3),
}
# Spec 2.3 official table (g_h4 .. g_h0), 96 output, from a 3x3x320 start.
OFFICIAL_96 = [(3, 320), (6, 160), (6, 256), (12, 256), (12, 128), (12, 192), (24, 192),
               (24, 96), (24, 128), (48, 128), (48, 64), (48, 64), (96, 64), (96, 32), (96, 3)]


def _inputs(batch, feat, pose_dim, z_dim, seed=0, onehot=True):
    rng = np.random.default_rng(seed)
    pose = (np.eye(pose_dim)[rng.integers(0, pose_dim, batch)] if onehot
            else rng.uniform(-1.5, 1.5, (batch, 1)))
    return {"features": tf.constant(rng.normal(0, 1, (batch, feat)), tf.float32),
            "pose": tf.constant(pose, tf.float32),
            "z": tf.constant(rng.uniform(-1, 1, (batch, z_dim)), tf.float32)}


@pytest.fixture(scope="module")
def paper_decoder():
    dec = Decoder(image_size=96, width=1.0, variant="paper", pose_dim=9, z_dim=50)
    out = dec.layer_outputs(_inputs(2, 320, 9, 50), training=False)
    return dec, out


def test_paper_shapes_after_every_layer_at_96(paper_decoder):
    _, out = paper_decoder
    assert tuple(out["input"].shape) == (2, 320 + 9 + 50)  # concat[f, c, z]
    for name, shape in PAPER_96.items():
        assert tuple(out[name].shape) == (2, *shape), name


def test_paper_parameter_count_from_the_table(paper_decoder):
    dec, _ = paper_decoder
    count = sum(int(np.prod(w.shape)) for w in dec.trainable_weights)
    assert count == decoder_params(1.0, 96, 9, 50) == 7_240_707


def test_paper_input_order_is_f_c_z(paper_decoder):
    _, out = paper_decoder
    inputs = _inputs(2, 320, 9, 50)
    expected = np.concatenate([inputs["features"], inputs["pose"], inputs["z"]], axis=1)
    np.testing.assert_array_equal(out["input"].numpy(), expected)


ROW_NAMES = list(PAPER_96)[1:]  # fconv52 .. fconv11, in table order
# Spec 2.3: BN + ELU on every row but the last (3 channels, tanh, no BN); written by hand.
ROW_RULES = [(True, "elu")] * 13 + [(False, "tanh")]


def _scale_kernel(layer, factor):
    layer.kernel.assign(layer.kernel * factor)


def _check_decoder_rows(dec, out):
    """Training-mode rows by hand (helpers.check_rows), after scaling the last row's kernel
    so that its tanh input is order 1 (at init it is ~0.1, where tanh ~ identity)."""
    check_rows(out, out["fc"], [(n, getattr(dec.rows, n), bn, act)
                                for n, (bn, act) in zip(ROW_NAMES, ROW_RULES)])


def test_paper_rows_fc_and_output_by_hand_in_training_mode():
    dec = Decoder(image_size=32, width=0.125, variant="paper", pose_dim=9, z_dim=50,
                  name="decoder_rows")
    inputs = _inputs(4, 40, 9, 50, seed=1)
    dec(inputs, training=True)  # build
    _scale_kernel(dec.fc, 5.0)  # FC output order 1: an activation on it would show
    _scale_kernel(dec.rows.fconv11.conv, 25.0)
    out = dec.layer_outputs(inputs, training=True)
    assert dec.rows.fconv11.bn is None
    # Paper variant: no BN or activation on the FC output, reshaped NHWC.
    fc = out["input"].numpy() @ dec.fc.kernel.numpy() + dec.fc.bias.numpy()
    assert fc.min() < -1.0
    np.testing.assert_allclose(out["fc"].numpy(), fc.reshape(4, 2, 2, 40), rtol=1e-4,
                               atol=1e-4)
    _check_decoder_rows(dec, out)
    image = out["fconv11"].numpy()
    assert np.abs(image).max() <= 1.0 and image.min() < -0.9 and image.max() > 0.9  # tanh


def test_official_embedding_fc_rows_by_hand_in_training_mode():
    dec = Decoder(image_size=64, width=0.125, variant="official", pose_dim=1,
                  pose_embedding_dim=20, z_dim=20, fc_dropout=0.0, name="decoder_official_rows")
    inputs = _inputs(4, 40, 1, 20, seed=2, onehot=False)
    dec(inputs, training=True)  # build
    # Yaw embedding of order 1 (at init ~0.03, where ELU ~ identity): a fixed kernel.
    dec.pose_embedding.kernel.assign(np.linspace(-3, 3, 20, dtype=np.float32)[None])
    _scale_kernel(dec.rows.fconv11.conv, 25.0)
    out = dec.layer_outputs(inputs, training=True)
    # concat[z, ELU(Dense(yaw -> 20)), f]
    emb = inputs["pose"].numpy() @ dec.pose_embedding.kernel.numpy() + dec.pose_embedding.bias.numpy()
    assert emb.min() < -1.0
    got = out["input"].numpy()
    np.testing.assert_array_equal(got[:, :20], inputs["z"].numpy())
    np.testing.assert_allclose(got[:, 20:40], elu(emb), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got[:, 40:], inputs["features"].numpy())
    # FC -> reshape 2 x 2 x 40 (64 / 32) -> BN -> ELU.
    fc = (got @ dec.fc.kernel.numpy() + dec.fc.bias.numpy()).reshape(4, 2, 2, 40)
    pre = bn_training_by_hand(fc, dec.fc_bn)
    assert pre.min() < -1.0
    np.testing.assert_allclose(out["fc"].numpy(), elu(pre), rtol=1e-4, atol=1e-4)
    _check_decoder_rows(dec, out)
    assert out["fconv52"].shape == (4, 4, 4, 20)  # the official first row is strided


def test_official_fc_dropout_only_in_training():
    """Official: dropout (keep 0.6) on the FC output, training only; the paper variant has
    none. BN statistics of the FC output are batch moments in training, so only the dropout
    makes two training calls on the same input differ."""
    def fc_twice(rate, training):
        dec = Decoder(image_size=32, width=0.125, variant="official", pose_dim=1,
                      pose_embedding_dim=20, z_dim=20, fc_dropout=rate,
                      name=f"decoder_drop_{rate}")
        inputs = _inputs(4, 40, 1, 20, seed=3, onehot=False)
        return [dec.layer_outputs(inputs, training=training)["fc"].numpy() for _ in range(2)]

    a, b = fc_twice(0.4, training=True)
    assert np.abs(a - b).max() > 0.1  # a fresh mask per call, at unit scale (BN + ELU)
    a, b = fc_twice(0.4, training=False)
    np.testing.assert_array_equal(a, b)
    a, b = fc_twice(0.0, training=True)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_official_shapes_five_upsamplings_from_3x3():
    dec = Decoder(image_size=96, width=1.0, variant="official", pose_dim=1,
                  pose_embedding_dim=20, z_dim=20, fc_dropout=0.4)
    out = dec.layer_outputs(_inputs(1, 320, 1, 20, onehot=False), training=False)
    assert tuple(out["input"].shape) == (1, 20 + 20 + 320)  # concat[z, ELU(Dense(yaw)), f]
    names = ["fc", "fconv52", "fconv51", "fconv43", "fconv42", "fconv41", "fconv33",
             "fconv32", "fconv31", "fconv23", "fconv22", "fconv21", "fconv13", "fconv12",
             "fconv11"]
    for name, (size, ch) in zip(names, OFFICIAL_96):
        assert tuple(out[name].shape) == (1, size, size, ch), name
    count = sum(int(np.prod(w.shape)) for w in dec.trainable_weights)
    assert count == decoder_params(1.0, 96, 1, 20, official=True, pose_embedding=20)


def test_128_output():
    dec = Decoder(image_size=128, width=0.125, variant="paper", pose_dim=9, z_dim=50)
    out = dec.layer_outputs(_inputs(1, 40, 9, 50), training=False)
    assert tuple(out["fc"].shape) == (1, 8, 8, 40)
    assert tuple(out["fconv11"].shape) == (1, 128, 128, 3)
    dec = Decoder(image_size=128, width=0.125, variant="official", pose_dim=1,
                  pose_embedding_dim=20, z_dim=20)
    out = dec.layer_outputs(_inputs(1, 40, 1, 20, onehot=False), training=False)
    assert tuple(out["fc"].shape) == (1, 4, 4, 40)
    assert tuple(out["fconv11"].shape) == (1, 128, 128, 3)


def test_bad_sizes_name_the_value():
    with pytest.raises(ValueError, match="multiple of 32, got 48"):
        Decoder(image_size=48, variant="official", pose_dim=1)
    with pytest.raises(ValueError, match="multiple of 16, got 100"):
        Decoder(image_size=100)
    dec = Decoder(image_size=32, width=0.0625, pose_dim=9, z_dim=50)
    with pytest.raises(ValueError, match="pose code of size 9"):
        dec(_inputs(1, 20, 13, 50))


def test_sample_z_ranges():
    z = sample_z(4000, 50, "uniform", 1.0, seed=1).numpy()
    assert z.shape == (4000, 50) and z.dtype == np.float32
    assert -1 <= z.min() < -0.99 and 0.99 < z.max() <= 1
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1 / 3) < 0.01  # U(-1, 1): variance 1/3
    n = sample_z(4000, 50, "normal", 0.3, seed=1).numpy()
    assert abs(n.std() - 0.3) < 0.005
    with pytest.raises(ValueError, match="'gauss'"):
        sample_z(1, 2, "gauss")
