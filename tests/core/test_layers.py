"""core/layers.py: batch norm modes, including the frozen-layer trap of Keras 3 (a layer with
trainable=False normalises with its moving averages even when called with training=True)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests import structural as S
from tpgan_tf.core.layers import BatchNorm, batch_norm


def _batch(seed=0):
    return np.random.default_rng(seed).normal(3.0, 2.0, (6, 4, 4, 5)).astype(np.float32)


def _by_hand(x, eps=1e-5):
    mean = x.mean(axis=(0, 1, 2))
    var = x.var(axis=(0, 1, 2))
    return (x - mean) / np.sqrt(var + eps)


def batch_stats_error(bn, x, training) -> float:
    """Relative error of bn(x, training) against the batch's own moments (gamma 1, beta 0):
    ~1e-7 for a "batch_stats" layer, O(1) for one that uses its moving averages.
    tests/test_structural_checks_fail.py shows it rejecting the Keras default behaviour."""
    return S.relative_error(bn(x, training=training), _by_hand(x.astype(np.float64)))


@pytest.mark.parametrize("trainable", [True, False])
@pytest.mark.parametrize("training", [True, False, None])
def test_batch_stats_mode_always_uses_the_batch_statistics(trainable, training):
    bn = BatchNorm("batch_stats")
    bn.build((None, 4, 4, 5))
    bn.trainable = trainable
    x = _batch()
    assert batch_stats_error(bn, x, training) < 1e-5
    moving = bn.moving_mean.numpy()
    # A trainable layer updates its (unused) moving averages, decay 0.9; a frozen one does not.
    expected = 0.1 * x.mean(axis=(0, 1, 2)) if trainable else np.zeros(5, np.float32)
    np.testing.assert_allclose(moving, expected, atol=1e-5)


def test_inference_mode_uses_moving_averages_unless_training():
    bn = batch_norm({"bn_mode": "inference"})
    bn.build((None, 4, 4, 5))
    x = _batch(1)
    np.testing.assert_allclose(bn(x, training=False).numpy(), x / np.sqrt(1 + 1e-5), atol=1e-5)
    np.testing.assert_allclose(bn(x, training=True).numpy(), _by_hand(x), atol=1e-4)
    bn.trainable = False  # Keras: frozen -> moving averages even with training=True
    out = bn(x, training=True).numpy()
    mean = bn.moving_mean.numpy()
    var = bn.moving_variance.numpy()
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), atol=1e-4)


def test_constants_and_bad_mode():
    bn = batch_norm({})
    assert (bn.bn_mode, bn.momentum, bn.epsilon) == ("batch_stats", 0.9, 1e-5)
    with pytest.raises(ValueError, match="bn_mode must be one of"):
        BatchNorm("train")
    assert BatchNorm.from_config(BatchNorm("inference").get_config()).bn_mode == "inference"


def test_frozen_tpgan_generator_still_normalises_with_batch_statistics():
    from tests.batch_contract import random_examples
    from tpgan_tf.core.config import get_config
    from tpgan_tf.models.tpgan.networks import build_generator

    g = build_generator(get_config("tiny", "tpgan"))
    ex = random_examples(3, seed=4)
    inputs = {k: tf.constant(ex[k]) for k in ("image", "eye_left", "eye_right", "nose", "mouth")}
    inputs["z"] = tf.zeros([3, g.z_dim])
    trainable = g(inputs, training=False)["img128"].numpy()
    g.trainable = False
    frozen = g(inputs, training=False)["img128"].numpy()
    np.testing.assert_allclose(frozen, trainable, atol=1e-5)
    # Batch statistics: the first face alone gives another output than inside the batch.
    alone = g({k: v[:1] for k, v in inputs.items()}, training=False)["img128"].numpy()
    assert np.abs(alone[0] - frozen[0]).max() > 1e-3
