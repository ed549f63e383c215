"""The structural checks of the suite can fail (issue 15): each one measures a network, passes
on the intact network and rejects the same network with one property removed (an activation,
a batch norm, a skip, the batch-statistics mode), one representative check per model and one
for the shared batch norm. The checks are the functions the model tests use; the breaking
tools are in tests/structural.py.

At N(0, 0.02) initialisation with inference-mode BN the activations are 1e-4 .. 1e-14, where
an activation and the identity agree to any absolute tolerance; the checks compare relative
errors on batch-normalised (order 1) activations, so a removed property is an O(1) error.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import structural as S
from tests.core.test_layers import batch_stats_error
from tests.models.fsrnet.test_blocks import block_error as fsrnet_block_error
from tests.models.tpgan.test_blocks import network_block_error as tpgan_block_error
from tests.models.tpgan.test_wiring import tiny_generator_and_inputs
from tpgan_tf.core.layers import BatchNorm
from tpgan_tf.models.drgan.blocks import ConvUnit as DrganConvUnit
from tpgan_tf.models.drgan.encoder import Encoder as DrganEncoder
from tpgan_tf.models.fsrnet.blocks import ResidualBlock
from tpgan_tf.models.tpgan.generator import Generator

ACCEPT = 1e-4  # an intact network: float32 against a float64 reference
REJECT = 0.05  # a broken one: an O(1) relative error (measured 0.4 .. 1.9)


def test_tpgan_generator_check_rejects_a_generator_without_leaky_relu():
    g, inputs = tiny_generator_and_inputs()
    assert tpgan_block_error(g, inputs) < ACCEPT
    # TP-GAN's leaky ReLU is max(x, 0.2 x): tf.maximum returns x inside the generator.
    with S.without(tf, "maximum", inside=Generator):
        assert tpgan_block_error(g, inputs) > REJECT


class ResidualBlockWithoutSkip(ResidualBlock):
    """FSRNet's RB with its skip removed: the residual branch alone."""

    def call(self, x, training=None):
        return super().call(x, training=training) - x


@pytest.mark.parametrize("broken", ["batch_norm", "relu", "skip"])
def test_fsrnet_residual_block_check_rejects_a_block_without(broken):
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype(np.float32)
    if broken == "skip":
        assert fsrnet_block_error(ResidualBlockWithoutSkip(), x) > REJECT
        return
    block = ResidualBlock()
    assert fsrnet_block_error(block, x) < ACCEPT
    if broken == "batch_norm":
        breaking = S.bypassed(block.bn1, block.bn2)
    else:
        breaking = S.without(keras.ops, "relu", inside=ResidualBlock)
    with breaking:
        assert fsrnet_block_error(block, x) > REJECT


def test_shared_batch_norm_check_rejects_the_keras_frozen_layer_behaviour():
    bn = BatchNorm("batch_stats")
    x = np.random.default_rng(1).normal(3.0, 2.0, (6, 4, 4, 5)).astype(np.float32)
    bn.build(x.shape)
    bn.trainable = False  # the Keras 3 trap: a frozen layer uses its moving averages
    assert batch_stats_error(bn, x, training=True) < ACCEPT
    # Without the override, BatchNorm is keras' BatchNormalization: the check sees it.
    with S.replaced(BatchNorm, "call", keras.layers.BatchNormalization.call):
        assert batch_stats_error(bn, x, training=True) > REJECT
    with S.bypassed(bn):
        assert batch_stats_error(bn, x, training=True) > REJECT


# ---------------------------------------------------------------- DR-GAN (drgan spec 2.1, 2.6)

def drgan_unit_reference(unit, x, training=None):
    """A DR-GAN ConvUnit by hand: 3x3 SAME conv with bias -> BN (if any) -> ELU / tanh / none."""
    y = S.conv2d(x, unit.conv.kernel, unit.conv.bias, unit.strides)
    if unit.bn is not None:
        y = S.batch_norm_reference(y, unit.bn, training)
    return {"elu": S.elu, "tanh": np.tanh, None: np.asarray}[unit.activation](y)


def drgan_network_unit_error(network, images) -> float:
    """The worst relative error of every ConvUnit met in one training-mode forward pass."""
    with S.recorded_calls(DrganConvUnit) as calls:
        network(images, training=True)
    return S.worst_call_error(calls, drgan_unit_reference)


def test_drgan_encoder_check_rejects_an_encoder_without_elu():
    encoder = DrganEncoder(width=0.125)
    images = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    assert drgan_network_unit_error(encoder, images) < ACCEPT
    with S.without(keras.ops, "elu", inside=DrganEncoder):
        assert drgan_network_unit_error(encoder, images) > REJECT
