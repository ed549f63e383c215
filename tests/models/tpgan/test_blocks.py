"""TP-GAN's layers (tpgan_tf/models/tpgan/blocks.py): TF1 conventions of spec 2.1 (SAME
padding, initialisers, MFM) and the conv / residual blocks."""
import numpy as np
import pytest
import tensorflow as tf


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


def _bn_by_hand(z, eps=1e-5):
    """batch_stats BN at its initial gamma 1, beta 0: the batch's own moments."""
    return (z - z.mean(axis=(0, 1, 2))) / np.sqrt(z.var(axis=(0, 1, 2)) + eps)


def test_res_block_equals_the_original_formula():
    from tpgan_tf.models.tpgan.blocks import ResBlock

    x = np.random.default_rng(0).normal(size=(3, 6, 6, 4)).astype(np.float32)
    block = ResBlock(3, name="res")
    out = block(tf.constant(x), training=False).numpy()  # batch_stats: training is ignored

    def conv(z, layer):
        return tf.nn.conv2d(z, layer.kernel, 1, "SAME").numpy() + layer.bias.numpy()

    def lrelu(z):
        return np.maximum(z, 0.2 * z)

    y = lrelu(_bn_by_hand(conv(x, block.conv1)))
    y = _bn_by_hand(conv(y, block.conv2))
    np.testing.assert_allclose(out, lrelu(y + x), atol=1e-4)
    assert tuple(block.conv1.kernel.shape) == (3, 3, 4, 4) and block.compute_output_shape(
        (None, 6, 6, 4)) == (None, 6, 6, 4)


def test_conv_block_shapes_initialisers_and_config():
    from tpgan_tf.models.tpgan.blocks import ConvBlock

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
