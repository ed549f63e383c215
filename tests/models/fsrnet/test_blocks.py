"""FSRNet blocks (fsrnet spec 3): padding, RB, BR and the hourglass recursion against their
formulas.

The formulas (conv_reference .. block_reference) are raw TF convs and numpy, never the blocks'
own calls. They are compared in TRAINING mode: FSRNet's BN runs in ordinary train / test mode,
and at initialisation its inference mode is almost the identity on activations of 1e-4 or
less, where ReLU and the identity agree; on batch statistics activations are of order 1.
network_block_error applies the formulas to every block met in one forward pass of a whole
network (test_networks.py, test_generator.py); tests/test_structural_checks_fail.py shows the
checks rejecting a residual block without its batch norm."""
import numpy as np
import pytest
import tensorflow as tf

from tests import structural as S
from tpgan_tf.models.fsrnet.blocks import (
    BottleneckResidual, Conv, ConvUnit, Hourglass, ResidualBlock)

_ACTIVATIONS = {"relu": S.relu, "tanh": np.tanh, "none": np.asarray}


def conv_reference(conv, x):
    """blocks.Conv: conv.pad zeros (or reflected pixels) on every side, then a VALID conv."""
    x = np.asarray(x, np.float64)
    p = conv.pad
    x = np.pad(x, [[0, 0], [p, p], [p, p], [0, 0]],
               mode="reflect" if conv.padding == "reflect" else "constant")
    return S.conv2d(x, conv.conv.kernel, conv.conv.bias, conv.strides, "VALID")


def conv_unit_reference(unit, x, training=None):
    """conv (or 'same' transposed conv) -> BN -> activation."""
    if unit.transpose:
        y = S.deconv2d(x, unit.conv.kernel, None, unit.strides)
    else:
        y = conv_reference(unit.conv, x)
    return _ACTIVATIONS[unit.activation](S.batch_norm_reference(y, unit.bn, training))


def residual_block_reference(block, x, training=None):
    """RB (spec 3.1): conv -> BN -> ReLU -> conv -> BN -> + input, nothing after the sum."""
    y = S.relu(S.batch_norm_reference(conv_reference(block.conv1, x), block.bn1, training))
    y = S.batch_norm_reference(conv_reference(block.conv2, y), block.bn2, training)
    return y + np.asarray(x, np.float64)


def bottleneck_reference(block, x, training=None):
    """BR (spec 3.2): (BN -> ReLU -> conv) x 3 (1x1, 3x3, 1x1) + skip (identity or 1x1 conv
    of the raw input), nothing after the sum."""
    y = x
    for bn, conv in ((block.bn0, block.conv1), (block.bn1, block.conv2), (block.bn2, block.conv3)):
        y = conv_reference(conv, S.relu(S.batch_norm_reference(y, bn, training)))
    skip = np.asarray(x, np.float64) if block.skip is None else conv_reference(block.skip, x)
    return y + skip


def block_reference(layer, x, training=None):
    """The formula of any FSRNet block: Conv, ConvUnit, ResidualBlock, BottleneckResidual."""
    if isinstance(layer, Conv):
        return conv_reference(layer, x)
    for cls, reference in ((ConvUnit, conv_unit_reference), (ResidualBlock, residual_block_reference),
                           (BottleneckResidual, bottleneck_reference)):
        if isinstance(layer, cls):
            return reference(layer, x, training)
    raise TypeError(f"no formula for {type(layer).__name__}")


def block_error(block, x) -> float:
    """Relative error of block(x, training=True) against its formula."""
    return S.relative_error(block(x, training=True), block_reference(block, x, training=True))


def network_block_error(network, *inputs) -> float:
    """The worst relative error of every Conv / ConvUnit / RB / BR output met in one training
    mode forward pass of `network(*inputs)` against its formula (O(1e-6) when all is right)."""
    with S.recorded_calls(Conv, ConvUnit, ResidualBlock, BottleneckResidual) as calls:
        network(*inputs, training=True)
    return S.worst_call_error(calls, block_reference)


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


def hourglass_by_hand(hg, x):
    """spec 3.3 with the units as black boxes (training mode): upper = BR(z), lower = BR(pool z)
    -> inner HG or centre BR -> BR, out = upper + upsample(lower); numpy pooling / upsampling."""
    def unit(layer, z):
        return layer(z.astype(np.float32), training=True).numpy()

    upper = unit(hg.upper, x)
    lower = unit(hg.lower_in, _maxpool(x))
    lower = hourglass_by_hand(hg.inner, lower) if isinstance(hg.inner, Hourglass) else unit(
        hg.inner, lower)
    return upper + _nearest_up(unit(hg.lower_out, lower))


def hourglass_error(hg, x) -> float:
    """Relative error of hg(x) (training mode) against hourglass_by_hand."""
    return S.relative_error(hg(x, training=True), hourglass_by_hand(hg, x))


def test_hourglass_output_equals_hand_assembled_recursion():
    hg = Hourglass(8, 2)
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 8)).astype(np.float32)
    assert hourglass_error(hg, x) < 1e-5
    # The lower branch counts: the output is not the upper branch alone.
    out = hg(x, training=True).numpy()
    assert S.relative_error(out, hg.upper(x, training=True)) > 0.1


@pytest.mark.parametrize("padding", ["zero", "reflect"])
def test_blocks_follow_their_formulas_in_training_mode(padding):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 8, 8, 4)).astype(np.float32)
    blocks = [ResidualBlock(padding), BottleneckResidual(4, padding),  # identity skip
              BottleneckResidual(6, padding),  # 1x1 projection skip
              ConvUnit(6, 3, 2, padding=padding), ConvUnit(6, 7, 2, padding=padding),
              ConvUnit(5, 4, 2, transpose=True), ConvUnit(5, 3, 1, activation="tanh"),
              ConvUnit(5, 3, 1, activation="none"), Conv(3, 3, 1, padding, use_bias=True)]
    for block in blocks:
        assert block_error(block, x) < 1e-5, block.name
    # The ReLU of a unit bites on about half of the (batch-normalised) values.
    out = blocks[3](x, training=True).numpy()
    assert 0.3 < (out == 0).mean() < 0.7


def test_hourglass_avg_bilinear_keeps_shape_and_bad_choices_raise():
    hg = Hourglass(4, 2, pooling="avg", upsampling="bilinear")
    assert hg(tf.zeros((1, 8, 8, 4))).shape == (1, 8, 8, 4)
    with pytest.raises(ValueError, match="pooling"):
        Hourglass(4, 2, pooling="median")
    with pytest.raises(ValueError, match="depth"):
        Hourglass(4, 0)
    with pytest.raises(ValueError, match="padding"):
        Conv(4, 3, padding="circular")
