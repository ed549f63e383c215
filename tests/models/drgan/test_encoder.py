"""G_enc against drgan spec 2.1: shapes after every row (96 and 128 inputs), f is 320-d,
parameter counts from the table, the last-activation switch and the two omega modes."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.helpers import SHAPES_96, encoder_params
from tpgan_tf.models.drgan.encoder import Encoder


def _images(batch, size, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, 3)),
                       tf.float32)


@pytest.fixture(scope="module")
def paper_encoder():
    enc = Encoder(width=1.0, name="encoder")
    out = enc.layer_outputs(_images(2, 96), training=False)
    return enc, out


def test_paper_shapes_after_every_layer_at_96(paper_encoder):
    _, out = paper_encoder
    for name, shape in SHAPES_96.items():
        assert tuple(out[name].shape) == (2, *shape), name
    assert tuple(out["avgpool"].shape) == (2, 320)
    assert tuple(out["features"].shape) == (2, 320)  # N^f = 320
    assert tuple(out["omega"].shape) == (2, 1)
    np.testing.assert_array_equal(out["omega"].numpy(), 1.0)  # no confidence: omega = 1
    # f is the global average of Conv53 (no dropout at test).
    np.testing.assert_allclose(out["features"].numpy(),
                               out["conv53"].numpy().mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_paper_parameter_count_from_the_table(paper_encoder):
    enc, _ = paper_encoder
    count = sum(int(np.prod(w.shape)) for w in enc.trainable_weights)
    assert count == encoder_params(1.0) == 2_864_064


def test_every_conv_is_followed_by_bn_and_elu_in_the_paper_variant(paper_encoder):
    _, out = paper_encoder
    # ELU output is > -1 everywhere and reaches below 0 (so it is not a ReLU or identity).
    for name in SHAPES_96:
        v = out[name].numpy()
        assert v.min() > -1.0 and v.min() < 0.0, name


def test_128_input_gives_8x8_before_the_pool():
    enc = Encoder(width=0.125, name="encoder_128")
    out = enc.layer_outputs(_images(1, 128), training=False)
    assert tuple(out["conv12"].shape) == (1, 128, 128, 8)
    assert tuple(out["conv51"].shape) == (1, 8, 8, 32)
    assert tuple(out["conv53"].shape) == (1, 8, 8, 40)
    assert tuple(out["features"].shape) == (1, 40)


def test_official_last_conv_has_no_activation():
    enc = Encoder(width=0.0625, last_activation=None, name="encoder_official")
    out = enc.layer_outputs(_images(2, 32), training=True)
    # BN output without ELU: in training mode every channel has batch mean 0 and variance
    # ~1, so values below -1 appear (impossible after an ELU).
    assert out["conv53"].numpy().min() < -1.0
    assert out["conv52"].numpy().min() > -1.0


def test_channel_confidence_is_a_321st_channel():
    enc = Encoder(width=1.0 / 16, confidence="channel", name="encoder_channel")
    out = enc.layer_outputs(_images(3, 32), training=False)
    assert tuple(out["conv53"].shape) == (3, 2, 2, 21)
    assert tuple(out["features"].shape) == (3, 20)
    pooled = out["conv53"].numpy().mean(axis=(1, 2))
    np.testing.assert_allclose(out["features"].numpy(), pooled[:, :20], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["omega"].numpy(), 1 / (1 + np.exp(-pooled[:, 20:])),
                               rtol=1e-5, atol=1e-6)
    count = sum(int(np.prod(w.shape)) for w in enc.trainable_weights)
    assert count == encoder_params(1.0 / 16, "channel")


def test_branch_confidence_reads_conv52():
    enc = Encoder(width=1.0 / 16, confidence="branch", name="encoder_branch")
    out = enc.layer_outputs(_images(3, 32), training=False)
    omega = out["omega"].numpy()
    assert omega.shape == (3, 1) and np.all((omega > 0) & (omega < 1))
    branch = enc.confidence_branch
    kernel, bias = branch.conv.conv.kernel.numpy(), branch.conv.conv.bias.numpy()
    assert kernel.shape == (3, 3, 10, 1)  # a 1-channel conv on Conv52's 160w channels
    expected = branch(out["conv52"], training=False).numpy()
    np.testing.assert_allclose(omega, expected, rtol=1e-6)
    count = sum(int(np.prod(w.shape)) for w in enc.trainable_weights)
    assert count == encoder_params(1.0 / 16, "branch")
    assert bias.shape == (1,)


def test_feature_dropout_only_in_training():
    enc = Encoder(width=1.0 / 16, feature_dropout=0.4, name="encoder_dropout")
    x = _images(4, 32)
    a = enc(x, training=False)["features"].numpy()
    b = enc(x, training=False)["features"].numpy()
    np.testing.assert_array_equal(a, b)
    t = enc(x, training=True)["features"].numpy()
    assert np.mean(t == 0) > 0.2  # ~40 % dropped


def test_bad_confidence_mode_names_the_value():
    with pytest.raises(ValueError, match="'both'"):
        Encoder(confidence="both")


def test_get_config_round_trip_builds_the_same_structure():
    enc = Encoder(width=0.0625, last_activation=None, feature_dropout=0.4,
                  confidence="branch", name="encoder_cfg")
    twin = Encoder.from_config(enc.get_config())
    x = _images(1, 32)
    enc(x), twin(x)
    assert [tuple(w.shape) for w in enc.weights] == [tuple(w.shape) for w in twin.weights]
    assert twin.confidence == "branch" and twin.last_activation is None
