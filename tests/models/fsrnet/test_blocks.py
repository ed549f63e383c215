"""FSRNet blocks (fsrnet spec 3): padding, RB, BR and the hourglass recursion."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.models.fsrnet.blocks import (
    BottleneckResidual, Conv, ConvUnit, Hourglass, ResidualBlock)


def _count(layer):
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


def _ones_conv(padding, strides):
    conv = Conv(1, 3, strides, padding)
    conv.build((1, 4, 4, 1))
    conv.conv.kernel.assign(np.ones((3, 3, 1, 1), np.float32))
    return conv


def test_conv_padding_zero_is_symmetric_and_reflect_reflects():
    x = tf.ones((1, 4, 4, 1))
    zero = _ones_conv("zero", 1)(x).numpy()[0, :, :, 0]
    np.testing.assert_allclose(zero, [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    np.testing.assert_allclose(_ones_conv("reflect", 1)(x).numpy(), 9.0)
    # Stride 2: Torch pads 1 on every side, so output (0, 0) sees the top-left corner
    # (4 ones); Keras 'same' would pad bottom/right only and see 9.
    strided = _ones_conv("zero", 2)(x).numpy()[0, :, :, 0]
    np.testing.assert_allclose(strided, [[4, 6], [6, 9]])
    assert _ones_conv("zero", 2).compute_output_shape((1, 4, 4, 1)) == (1, 2, 2, 1)


def test_conv_unit_shapes_and_no_bias():
    unit = ConvUnit(6, 3, 2)
    y = unit(tf.zeros((2, 8, 8, 3)))
    assert y.shape == (2, 4, 4, 6)
    assert unit.conv.conv.bias is None
    assert _count(unit) == 3 * 3 * 3 * 6 + 2 * 6  # kernel + BN gamma / beta
    up = ConvUnit(5, 4, 2, transpose=True)
    assert up(tf.zeros((1, 4, 4, 3))).shape == (1, 8, 8, 5)
    assert _count(up) == 4 * 4 * 3 * 5 + 2 * 5


def test_residual_block_adds_input_without_relu_after_the_sum():
    block = ResidualBlock()
    x = tf.constant(np.random.default_rng(0).normal(size=(1, 6, 6, 4)), tf.float32)
    block(x)
    assert _count(block) == 2 * (3 * 3 * 4 * 4) + 2 * 2 * 4  # two bias-free convs + two BN
    # Zero the second BN's scale and shift: the residual branch is 0, so the block is the
    # identity; negative inputs stay negative (no ReLU after the add, spec 3.1).
    block.bn2.gamma.assign(np.zeros(4, np.float32))
    block.bn2.beta.assign(np.zeros(4, np.float32))
    np.testing.assert_allclose(block(x, training=False).numpy(), x.numpy(), atol=1e-6)


def test_residual_blocks_get_different_initial_weights():
    a, b = ResidualBlock(), ResidualBlock()
    a(tf.zeros((1, 4, 4, 4)))
    b(tf.zeros((1, 4, 4, 4)))
    assert not np.array_equal(a.conv1.conv.kernel.numpy(), b.conv1.conv.kernel.numpy())


def test_bottleneck_residual_counts_and_skip():
    proj = BottleneckResidual(8)
    proj(tf.zeros((1, 4, 4, 4)))
    # bn0(4) + conv1 1x1 4->4 + bn1(4) + conv2 3x3 4->4 + bn2(4) + conv3 1x1 4->8 + skip 4->8,
    # every conv with bias (spec 3.2).
    expected = 8 + (4 * 4 + 4) + 8 + (9 * 4 * 4 + 4) + 8 + (4 * 8 + 8) + (4 * 8 + 8)
    assert _count(proj) == expected
    ident = BottleneckResidual(8)
    x = tf.constant(np.random.default_rng(1).normal(size=(1, 4, 4, 8)), tf.float32)
    ident(x)
    assert ident.skip is None
    ident.conv3.conv.kernel.assign(np.zeros((1, 1, 4, 8), np.float32))
    ident.conv3.conv.bias.assign(np.zeros(8, np.float32))
    np.testing.assert_allclose(ident(x, training=False).numpy(), x.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="even out_channels"):
        BottleneckResidual(7)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_hourglass_has_3n_plus_1_distinct_units(depth):
    hg = Hourglass(4, depth)
    units = hg.units()
    assert len(units) == 3 * depth + 1
    assert len({id(u) for u in units}) == len(units)


def _maxpool(x):
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _nearest_up(x):
    return np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)


def test_hourglass_output_equals_hand_assembled_recursion():
    hg = Hourglass(8, 2)
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 8)).astype(np.float32)
    out = hg(x, training=False).numpy()

    def unit(layer, z):
        return layer(z.astype(np.float32), training=False).numpy()

    def by_hand(h, z):
        upper = unit(h.upper, z)
        lower = unit(h.lower_in, _maxpool(z))  # numpy pooling / upsampling path
        lower = by_hand(h.inner, lower) if isinstance(h.inner, Hourglass) else unit(h.inner, lower)
        return upper + _nearest_up(unit(h.lower_out, lower))

    np.testing.assert_allclose(out, by_hand(hg, x), rtol=1e-5, atol=1e-5)


def test_hourglass_avg_bilinear_keeps_shape_and_bad_choices_raise():
    hg = Hourglass(4, 2, pooling="avg", upsampling="bilinear")
    assert hg(tf.zeros((1, 8, 8, 4))).shape == (1, 8, 8, 4)
    with pytest.raises(ValueError, match="pooling"):
        Hourglass(4, 2, pooling="median")
    with pytest.raises(ValueError, match="depth"):
        Hourglass(4, 0)
    with pytest.raises(ValueError, match="padding"):
        Conv(4, 3, padding="circular")
