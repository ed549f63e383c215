"""Multi-image fusion (drgan spec 2.5) with hand-made omegas: equal omegas give the plain
mean, a zero-weight image has no effect, the weighted mean by hand; omega dropout keeps at
least one image per row."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.models.drgan.confidence import drop_confidences, fuse_features

RNG = np.random.default_rng(5)
F = RNG.normal(0, 1, (3, 4, 8)).astype(np.float32)  # B=3 rows, n=4 images, 8-d features


def test_equal_omegas_give_the_plain_mean():
    for value in (0.2, 0.9):
        omega = np.full((3, 4, 1), value, np.float32)
        fused = fuse_features(tf.constant(F), tf.constant(omega)).numpy()
        np.testing.assert_allclose(fused, F.mean(axis=1), rtol=1e-5, atol=1e-5)
    fused = fuse_features(tf.constant(F), tf.ones([3, 4]), epsilon=0.0).numpy()
    np.testing.assert_allclose(fused, F.mean(axis=1), rtol=1e-6, atol=1e-7)


def test_a_zero_weight_image_has_no_effect():
    omega = RNG.uniform(0.1, 1, (3, 4)).astype(np.float32)
    omega[:, 2] = 0.0
    fused = fuse_features(tf.constant(F), tf.constant(omega)).numpy()
    keep = [0, 1, 3]
    without = fuse_features(tf.constant(F[:, keep]), tf.constant(omega[:, keep])).numpy()
    np.testing.assert_allclose(fused, without, rtol=1e-6, atol=1e-7)
    # Changing the zero-weight image's features changes nothing either.
    g = F.copy()
    g[:, 2] = 100.0
    np.testing.assert_array_equal(fuse_features(tf.constant(g), tf.constant(omega)).numpy(),
                                  fused)


def test_weighted_mean_by_hand_with_the_code_epsilon():
    omega = RNG.uniform(0, 1, (3, 4)).astype(np.float32)
    fused = fuse_features(tf.constant(F), tf.constant(omega), epsilon=1e-6).numpy()
    ref = (omega[..., None] * F).sum(1) / (omega.sum(1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(fused, ref, rtol=1e-5, atol=1e-6)
    # The epsilon is in the denominator (a large one, so that it shows at float32).
    fused = fuse_features(tf.constant(F), tf.constant(omega), epsilon=0.5).numpy()
    ref = (omega[..., None] * F).sum(1) / (omega.sum(1, keepdims=True) + 0.5)
    np.testing.assert_allclose(fused, ref, rtol=1e-5, atol=1e-6)


def test_fusion_keeps_the_feature_dtype_and_checks_shapes():
    out = fuse_features(tf.constant(F, tf.bfloat16), tf.ones([3, 4]))
    assert out.dtype == tf.bfloat16
    with pytest.raises(ValueError, match=r"\[B, n, F\]"):
        fuse_features(tf.constant(F[0]), tf.ones([4]))
    with pytest.raises(ValueError, match="does not match"):
        fuse_features(tf.constant(F), tf.ones([3, 5]))


def test_omega_dropout_keeps_at_least_one_image_per_row():
    omega = tf.constant(RNG.uniform(0.1, 1, (500, 4)), tf.float32)
    dropped = drop_confidences(omega, rate=0.7, seed=3).numpy()
    kept = dropped > 0
    assert kept.sum(axis=1).min() >= 1
    # Kept entries are unchanged (no rescaling); the dropped fraction is about the rate.
    np.testing.assert_array_equal(dropped[kept], omega.numpy()[kept])
    assert 0.6 < 1 - kept.mean() < 0.72  # 0.7, minus the forced keeps
    assert drop_confidences(omega, 0.0) is omega
    with pytest.raises(ValueError, match="got 1.0"):
        drop_confidences(omega, 1.0)


def test_encode_and_fuse_equals_encoding_each_image():
    from tpgan_tf.models.drgan.confidence import encode_and_fuse
    from tpgan_tf.models.drgan.encoder import Encoder

    enc = Encoder(width=0.0625, confidence="branch", name="encoder_fuse")
    images = tf.constant(RNG.uniform(-1, 1, (2, 3, 32, 32, 3)), tf.float32)
    fused, features, omega = encode_and_fuse(enc, images, training=False)
    assert fused.shape == (2, 20) and features.shape == (2, 3, 20) and omega.shape == (2, 3, 1)
    single = enc(images[1], training=False)  # the 3 images of row 1 (moving BN statistics)
    np.testing.assert_allclose(features[1].numpy(), single["features"].numpy(), rtol=1e-5,
                               atol=1e-6)
    w = single["omega"].numpy()
    ref = (w * single["features"].numpy()).sum(0) / (w.sum() + 1e-6)
    np.testing.assert_allclose(fused[1].numpy(), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[B, n, H, W, 3\]"):
        encode_and_fuse(enc, images[0])
