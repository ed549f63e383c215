"""G_dec against drgan spec 2.3: shapes after every row of both variants, parameter counts
from the tables, tanh output, the input layout, and the noise sampler."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.helpers import decoder_params
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


def test_output_is_tanh_and_rows_are_elu(paper_decoder):
    dec, out = paper_decoder
    image = out["fconv11"].numpy()
    assert np.abs(image).max() <= 1.0 and image.min() < 0 < image.max()
    # The last row has no BN: its output equals tanh(transposed conv of fconv12).
    last = dec.rows.fconv11
    assert last.bn is None
    np.testing.assert_allclose(image, np.tanh(last.conv(out["fconv12"]).numpy()), atol=1e-6)
    assert out["fconv12"].numpy().min() > -1.0  # ELU
    # Paper variant: no BN or activation on the FC output, reshaped NHWC.
    fc = out["input"].numpy() @ dec.fc.kernel.numpy() + dec.fc.bias.numpy()
    np.testing.assert_allclose(out["fc"].numpy(), fc.reshape(2, 6, 6, 320), rtol=1e-4, atol=1e-5)


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
    assert out["fc"].numpy().min() > -1.0  # BN + ELU on the FC output
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
