"""FSRGAN's conditional PatchGAN (fsrnet spec 6.2): patch map size, conditioning, counts."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.fsrnet import param_tables as T
from tpgan_tf.models.fsrnet.discriminator import ConditionalPatchDiscriminator


def _count(layer):
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


@pytest.fixture(scope="module")
def tiny_d():
    return ConditionalPatchDiscriminator(width=0.0625).build_for_size(128)


def test_patch_map_is_14x14_at_128_and_counts_match_pix2pix(tiny_d):
    x = tf.random.uniform((2, 128, 128, 3))
    y = tf.random.uniform((2, 128, 128, 3))
    assert tiny_d(x, y).shape == (2, 14, 14, 1)  # 70 x 70 receptive fields
    assert _count(tiny_d) == T.patch_discriminator(4)
    assert tiny_d.conv0.conv.kernel.shape == (4, 4, 6, 4)  # concat(x, image): 6 channels
    assert tiny_d.conv1.conv.bias is None and tiny_d.logits.conv.bias is not None
    assert tiny_d.conv3.strides == 1 and tiny_d.conv2.strides == 2


def test_output_depends_on_the_condition(tiny_d):
    y = tf.random.uniform((1, 64, 64, 3), seed=1)
    a = tiny_d(tf.zeros((1, 64, 64, 3)), y, training=False).numpy()
    b = tiny_d(tf.ones((1, 64, 64, 3)), y, training=False).numpy()
    assert a.shape == (1, 6, 6, 1)
    assert not np.allclose(a, b)


def test_full_width_count_and_bad_depth():
    assert T.patch_discriminator(64) == 2_768_705  # the pix2pix 70x70 D with 6 input channels
    with pytest.raises(ValueError, match="num_layers"):
        ConditionalPatchDiscriminator(num_layers=0)
