"""DR-GAN blocks against drgan spec 2.6: initialisers, BN constants, ELU, SAME padding and
output sizes, dropout only in training with a fixed variable name."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.models.drgan.blocks import ConvStack, ConvUnit, SeededDropout


def test_conv_unit_initialisers_and_bn_constants():
    unit = ConvUnit(64, 2, name="u")  # no norm dict: DR-GAN's default "inference" BN
    unit.build((None, 16, 16, 32))
    k = unit.conv.kernel.numpy()
    assert k.shape == (3, 3, 32, 64)
    assert np.abs(k).max() <= 0.04 + 1e-6  # truncated at 2 sigma, sigma 0.02
    assert 0.014 < k.std() < 0.02
    np.testing.assert_array_equal(unit.conv.bias.numpy(), 0.0)  # a bias although BN follows
    assert unit.bn.momentum == 0.9 and unit.bn.epsilon == 1e-5 and unit.bn.bn_mode == "inference"
    assert unit.conv.padding == "same"
    deconv = ConvUnit(64, 2, transpose=True, name="d")
    deconv.build((None, 8, 8, 128))
    kd = deconv.conv.kernel.numpy()
    assert abs(kd.std() - 0.02) < 0.001 and np.abs(kd).max() > 0.05  # normal, not truncated


def test_default_bn_is_ordinary_train_test_bn():
    unit = ConvUnit(4, 1, name="bn_default")
    x = tf.random.normal([4, 5, 5, 3], seed=1)
    # training=False: moving statistics, so a row's output does not depend on the batch.
    np.testing.assert_allclose(unit(x, training=False)[:2].numpy(),
                               unit(x[:2], training=False).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(unit(x, training=True)[:2].numpy(),
                           unit(x[:2], training=True).numpy(), atol=1e-4)
    batch_stats = ConvUnit(4, 1, norm={"bn_mode": "batch_stats"}, name="bn_batch")
    assert batch_stats.bn.bn_mode == "batch_stats"


def test_output_sizes_and_activation():
    x = tf.random.normal([2, 6, 6, 4], seed=0)
    down = ConvUnit(8, 2, name="down")(x, training=False)
    up = ConvUnit(8, 2, transpose=True, name="up")(x, training=False)
    assert down.shape == (2, 3, 3, 8) and up.shape == (2, 12, 12, 8)  # SAME: x / 2, x * 2
    # ELU after BN: at init (gamma 1, beta 0) training BN gives unit variance per channel.
    unit = ConvUnit(8, 1, name="elu")
    y = unit(x, training=True).numpy()
    pre = unit.bn(unit.conv(x), training=True).numpy()
    np.testing.assert_allclose(y, np.where(pre > 0, pre, np.expm1(pre)), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="'relu'"):
        ConvUnit(8, activation="relu")


def test_conv_stack_rows_are_named_attributes():
    stack = ConvStack([("a", 1, 32), ("b", 2, 64)], width=0.25, last_channels=5, name="s")
    out = stack(tf.zeros([1, 8, 8, 3]), return_all=True)
    assert list(out) == ["a", "b"]
    assert out["a"].shape == (1, 8, 8, 8) and out["b"].shape == (1, 4, 4, 5)
    assert stack.a.filters == 8 and stack.b.filters == 5
    paths = [v.path for v in stack.weights]
    assert any("/a/" in p for p in paths) and any("/b/" in p for p in paths)


def test_seeded_dropout_only_when_training():
    drop = SeededDropout(0.4, name="fdrop")
    x = tf.ones([1000])
    np.testing.assert_array_equal(drop(x, training=False).numpy(), 1.0)
    y = drop(x, training=True).numpy()
    assert 0.33 < np.mean(y == 0) < 0.47
    np.testing.assert_allclose(y[y > 0], 1 / 0.6, rtol=1e-6)  # inverted dropout, keep 0.6
    assert drop.seed_generator.state.path.startswith("fdrop_seed")
    with pytest.raises(ValueError, match="got 1.5"):
        SeededDropout(1.5)
    assert isinstance(drop.seed_generator, keras.random.SeedGenerator)
