"""Multi-image fusion (drgan spec 2.5) with hand-made omegas: equal omegas give the plain
mean, a zero-weight image has no effect, the weighted mean by hand; omega dropout keeps at
least one image per row."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.helpers import calibrate_batch_norm
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


def test_encode_and_fuse_drops_omegas_in_training_only():
    """Omega dropout (spec 2.5) through a real encoder (the paper's 321st channel): the
    fusion with the given draws equals the weighted mean of the kept images by hand in
    training, of all images at inference. BN moving statistics are calibrated to these
    images, so that inference-mode features are of order 1 and differ between images (at
    init they are ~1e-3 and nearly the same for every image)."""
    from tpgan_tf.models.drgan.confidence import encode_and_fuse
    from tpgan_tf.models.drgan.encoder import Encoder

    enc = Encoder(width=0.0625, confidence="channel", name="encoder_omega_dropout")
    images = tf.constant(RNG.uniform(-1, 1, (2, 4, 32, 32, 3)), tf.float32)
    assert calibrate_batch_norm(enc, tf.reshape(images, [8, 32, 32, 3])) == 14
    draw = tf.constant([[0.1, 0.05, 0.5, 0.9], [0.3, 0.6, 0.15, 0.19]])
    keep = np.array([[0, 0, 1, 1], [1, 1, 0, 0]], np.float64)  # draws >= 0.2 are kept
    rel = lambda a, b: np.abs(a - b).max() / np.abs(b).max()  # noqa: E731
    for training in (True, False):
        fused, f, w = encode_and_fuse(enc, images, omega_dropout=0.2, training=training,
                                      draw=draw)
        f, w = f.numpy().astype(np.float64), w.numpy()[..., 0].astype(np.float64)
        mean = lambda v: (v[..., None] * f).sum(1) / (v.sum(1, keepdims=True) + 1e-6)  # noqa
        kept, everything = mean(w * keep), mean(w)
        expected, other = (kept, everything) if training else (everything, kept)
        assert rel(fused.numpy(), expected) < 1e-4, training
        assert rel(other, expected) > 1e-2  # the two rules differ visibly
