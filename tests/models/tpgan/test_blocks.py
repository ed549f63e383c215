"""TP-GAN's layers (tpgan_tf/models/tpgan/blocks.py): TF1 conventions of spec 2.1 (SAME
padding, initialisers, MFM) and the conv / residual blocks against their spec 2.1 formulas.

The formulas (conv_block_reference, res_block_reference) are raw TF convs and numpy, never the
blocks' own calls; network_block_error applies them to every block met in one forward pass of
a whole network (test_wiring.py) and tests/test_structural_checks_fail.py shows it rejecting a
network without its leaky ReLU. TP-GAN's BN uses the batch statistics, so the blocks'
activations are of order 1 and a missing activation is an O(1) relative error."""
import numpy as np
import pytest
import tensorflow as tf

from tests import structural as S
from tpgan_tf.models.tpgan.blocks import ConvBlock, ResBlock

_ACTIVATIONS = {"lrelu": S.lrelu, "relu": S.relu, "tanh": np.tanh, None: np.asarray,
                "linear": np.asarray}


def conv_block_reference(block, x, training=None):
    """spec 2.1: conv (SAME) or deconv -> BN (batch statistics) if any -> activation."""
    conv = block.conv
    if block.transpose:
        y = S.deconv2d(x, conv.kernel, conv.bias, block.strides)
    else:
        y = S.conv2d(x, conv.kernel, conv.bias, block.strides)
    if block.bn is not None:
        y = S.batch_norm_reference(y, block.bn, training)
    return _ACTIVATIONS[block.activation](y)


def res_block_reference(block, x, training=None):
    """spec 2.1 resblock: conv -> BN -> lrelu -> conv -> BN -> + input -> lrelu."""
    def conv_bn(z, conv, bn):
        return S.batch_norm_reference(S.conv2d(z, conv.kernel, conv.bias), bn, training)

    y = S.lrelu(conv_bn(x, block.conv1, block.bn1))
    y = conv_bn(y, block.conv2, block.bn2)
    return S.lrelu(y + np.asarray(x, np.float64))


def block_reference(block, x, training=None):
    reference = res_block_reference if isinstance(block, ResBlock) else conv_block_reference
    return reference(block, x, training)


def network_block_error(network, *inputs, training=False) -> float:
    """The worst relative error of every ConvBlock / ResBlock output met in one forward pass
    of `network(*inputs)` against its spec 2.1 formula (O(1e-6) when all is right)."""
    with S.recorded_calls(ConvBlock, ResBlock) as calls:
        network(*inputs, training=training)
    return S.worst_call_error(calls, block_reference)


def test_same_padding_of_even_kernel_pads_bottom_right():
    # spec 2.1: a 2x2 SAME conv pads 0 on top/left and 1 on bottom/right, as TF1 did.
    conv = tf.keras.layers.Conv2D(1, 2, padding="same", use_bias=False,
                                  kernel_initializer="ones")
    x = np.zeros((1, 3, 3, 1), np.float32)
    x[0, 2, 2, 0] = 1.0  # bottom-right pixel
    y = conv(x).numpy()[0, :, :, 0]
    # Output (i, j) sums input rows i..i+1, cols j..j+1: the pixel reaches (1,1),(1,2),(2,1),(2,2).
    np.testing.assert_array_equal(y, [[0, 0, 0], [0, 1, 1], [0, 1, 1]])


def test_lrelu_and_mfm_by_hand():
    from tpgan_tf.models.tpgan.blocks import lrelu, mfm

    x = tf.constant([[-2.0, -0.5, 0.0, 3.0]])
    np.testing.assert_allclose(lrelu(x).numpy(), [[-0.4, -0.1, 0.0, 3.0]])  # max(x, 0.2 x)
    y = tf.constant([[1.0, -5.0, 3.0, -2.0, 4.0, 0.5]])
    np.testing.assert_array_equal(mfm(y).numpy(), [[1.0, 4.0, 3.0]])


def test_res_block_equals_the_original_formula():
    x = np.random.default_rng(0).normal(size=(3, 6, 6, 4)).astype(np.float32)
    block = ResBlock(3, name="res")
    out = block(tf.constant(x), training=False).numpy()  # batch_stats: training is ignored
    assert S.relative_error(out, res_block_reference(block, x)) < 1e-5
    # The skip matters: without "+ x" the formula would be another function.
    assert np.abs(out - res_block_reference(block, np.zeros_like(x))).max() > 0.1
    assert tuple(block.conv1.kernel.shape) == (3, 3, 4, 4) and block.compute_output_shape(
        (None, 6, 6, 4)) == (None, 6, 6, 4)


@pytest.mark.parametrize("activation,use_bn,transpose", [
    ("lrelu", True, False), ("lrelu", False, False), ("relu", True, True),
    ("relu", False, True), ("tanh", False, False), (None, True, False)])
def test_conv_block_equals_conv_bn_activation(activation, use_bn, transpose):
    block = ConvBlock(5, 3, 2, transpose=transpose, use_bn=use_bn, activation=activation)
    # Order 1 inputs: without BN a N(0, 0.02) conv of them is ~0.1, where tanh and the
    # identity still differ by ~1e-3 relative, leaky ReLU and the identity by O(1).
    x = np.random.default_rng(1).normal(0, 3, (3, 8, 8, 4)).astype(np.float32)
    out = block(x).numpy()
    assert S.relative_error(out, conv_block_reference(block, x)) < 1e-5
    if activation in ("lrelu", "relu"):  # the activation bites on about half the values
        assert 0.2 < (out < 0).mean() + (out == 0).mean() < 0.8


def test_conv_block_shapes_initialisers_and_config():
    down = ConvBlock(8, 3, 2, name="down")
    assert down(tf.zeros([2, 16, 16, 3])).shape == (2, 8, 8, 8)
    up = ConvBlock(5, 3, 2, transpose=True, use_bn=False, activation="tanh", name="up")
    assert up(tf.zeros([2, 4, 4, 3])).shape == (2, 8, 8, 5)
    assert up.bn is None and tuple(up.conv.kernel.shape) == (3, 3, 5, 3)  # HW out in
    np.testing.assert_array_equal(down.conv.bias.numpy(), 0.0)  # spec 2.1: bias 0
    clone = ConvBlock.from_config(up.get_config())
    assert (clone.filters, clone.transpose, clone.use_bn, clone.activation) == (
        5, True, False, "tanh")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ConvBlock(4, activation="swish")
