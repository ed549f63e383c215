"""FSRGAN's conditional PatchGAN (fsrnet spec 6.2): patch map size, conditioning, counts, and
the pix2pix layer table assembled by hand (training mode, see test_blocks.py)."""
import numpy as np
import pytest
import tensorflow as tf

from tests import structural as S
from tests.models.fsrnet import param_tables as T
from tests.models.fsrnet.test_blocks import conv_reference
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


def discriminator_by_hand(d, lr, image):
    """pix2pix (module doc of discriminator.py), in float64 from the weights: concat(x, y) ->
    C64 (pad 1, conv 4x4 s2, bias, no norm) -> LeakyReLU 0.2 -> [conv (no bias) -> BN (batch
    statistics) -> LeakyReLU 0.2] x num_layers -> conv 4x4 s1 -> logits, no activation."""
    x = S.lrelu(conv_reference(d.conv0, np.concatenate([lr, image], axis=-1)))
    for i in range(1, d.num_layers + 1):
        x = conv_reference(getattr(d, f"conv{i}"), x)
        x = S.lrelu(S.batch_norm_reference(x, getattr(d, f"bn{i}"), training=True))
    return conv_reference(d.logits, x)


def discriminator_error(d, lr, image) -> float:
    """Relative error of d(lr, image, training=True) against discriminator_by_hand."""
    return S.relative_error(d(lr, image, training=True), discriminator_by_hand(d, lr, image))


def test_layers_follow_the_pix2pix_table_in_training_mode():
    d = ConditionalPatchDiscriminator(width=0.0625)
    rng = np.random.default_rng(6)
    lr, image = (rng.uniform(size=(2, 64, 64, 3)).astype(np.float32) for _ in range(2))
    assert discriminator_error(d, lr, image) < 1e-5
