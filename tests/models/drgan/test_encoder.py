"""G_enc against drgan spec 2.1: shapes after every row (96 and 128 inputs), f is 320-d,
parameter counts from the table, the last-activation switch and the two omega modes."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.helpers import (SHAPES_96, bn_training_by_hand, check_rows, elu,
                                        encoder_params)
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


@pytest.mark.parametrize("last_activation", ["elu", None])
def test_every_row_is_conv_bn_elu_in_training_mode(last_activation):
    """Spec 2.1: BN + ELU after every conv; the last (Conv53) with ELU (paper) or BN and no
    activation (official). Training-mode BN (unit scale), each row from the previous one."""
    enc = Encoder(width=0.125, last_activation=last_activation, name="encoder_rows")
    x = _images(4, 32, seed=3)
    out = enc.layer_outputs(x, training=True)
    names = list(SHAPES_96)  # conv11 .. conv53, in table order
    acts = ["elu"] * 13 + [last_activation]
    check_rows(out, x, [(n, getattr(enc.trunk, n), True, a) for n, a in zip(names, acts)])
    # f is the global average of Conv53 (no feature dropout configured).
    np.testing.assert_allclose(out["features"].numpy(), out["conv53"].numpy().mean(axis=(1, 2)),
                               rtol=1e-5, atol=1e-6)


def test_128_input_gives_8x8_before_the_pool():
    enc = Encoder(width=0.125, name="encoder_128")
    out = enc.layer_outputs(_images(1, 128), training=False)
    assert tuple(out["conv12"].shape) == (1, 128, 128, 8)
    assert tuple(out["conv51"].shape) == (1, 8, 8, 32)
    assert tuple(out["conv53"].shape) == (1, 8, 8, 40)
    assert tuple(out["features"].shape) == (1, 40)


def test_channel_confidence_is_a_321st_channel():
    """Paper (spec 2.5): Conv53 has N^f + 1 channels; f = the first N^f pooled, omega =
    sigmoid(the last pooled). Training-mode BN: pooled channels of order 1 that differ, so a
    wrong channel shows."""
    enc = Encoder(width=1.0 / 16, confidence="channel", name="encoder_channel")
    out = enc.layer_outputs(_images(6, 32), training=True)
    assert tuple(out["conv53"].shape) == (6, 2, 2, 21)
    assert tuple(out["features"].shape) == (6, 20)
    pooled = out["conv53"].numpy().mean(axis=(1, 2))
    assert np.abs(pooled[:, 20] - pooled[:, 0]).max() > 0.1
    np.testing.assert_allclose(out["features"].numpy(), pooled[:, :20], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["omega"].numpy(), 1 / (1 + np.exp(-pooled[:, 20:])),
                               rtol=1e-5, atol=1e-6)
    count = sum(int(np.prod(w.shape)) for w in enc.trainable_weights)
    assert count == encoder_params(1.0 / 16, "channel")


def test_branch_confidence_by_hand_in_training_mode():
    """Official omega (spec 2.5 [CODE]): sigmoid(AvgPool(BN(Conv3x3 -> 1 channel)(Conv52's
    output))), no ELU; training-mode BN (unit scale), so a missing BN or an added ELU shows."""
    enc = Encoder(width=1.0 / 16, confidence="branch", name="encoder_branch")
    out = enc.layer_outputs(_images(16, 32, seed=4), training=True)
    omega = out["omega"].numpy()
    assert omega.shape == (16, 1) and np.all((omega > 0) & (omega < 1))
    branch = enc.confidence_branch
    kernel, bias = branch.conv.conv.kernel.numpy(), branch.conv.conv.bias.numpy()
    assert kernel.shape == (3, 3, 10, 1) and bias.shape == (1,)  # on Conv52's 160w channels
    conv = branch.conv.conv(out["conv52"]).numpy()
    pre = bn_training_by_hand(conv, branch.conv.bn)
    sigmoid = lambda v: 1 / (1 + np.exp(-v.mean(axis=(1, 2))))  # noqa: E731 (AvgPool, sigmoid)
    expected = sigmoid(pre)
    np.testing.assert_allclose(omega, expected, rtol=1e-4, atol=1e-5)
    # The check can tell: without BN, or with an ELU after it, omega would differ.
    assert np.abs(sigmoid(conv) - expected).max() > 0.05
    assert np.abs(sigmoid(elu(pre)) - expected).max() > 0.01
    count = sum(int(np.prod(w.shape)) for w in enc.trainable_weights)
    assert count == encoder_params(1.0 / 16, "branch")


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
