"""AM-softmax (drgan spec 3.4, 4.6 item 3) against numpy: cosines of row-normalised features
and column-normalised W, the margin on the target class only, m = 0 = s * cosine softmax,
and per-sample normalisation (the official code's axis-0 bug is not reproduced)."""
import numpy as np
import tensorflow as tf

from tpgan_tf.models.drgan.am_softmax import AMSoftmaxHead, am_softmax_logits
from tpgan_tf.models.drgan.losses import am_softmax_ce

RNG = np.random.default_rng(11)


def _head(features_dim=6, classes=5):
    head = AMSoftmaxHead(classes, name="am")
    head.build((None, features_dim))
    head.kernel.assign(RNG.normal(0, 1, (features_dim, classes)).astype(np.float32))
    return head


def np_cosines(x, w):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    w = w / np.linalg.norm(w, axis=0, keepdims=True)
    return x @ w


def np_log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_cosines_equal_numpy_and_lie_in_minus_one_one():
    head = _head()
    x = RNG.normal(0, 3, (4, 6)).astype(np.float32)
    cos = head(tf.constant(x)).numpy()
    np.testing.assert_allclose(cos, np_cosines(x, head.kernel.numpy()), rtol=1e-5, atol=1e-6)
    assert np.abs(cos).max() <= 1 + 1e-6
    assert head.compute_output_shape((4, 6)) == (4, 5)


def test_margin_zero_is_scaled_cosine_softmax():
    head = _head()
    x = RNG.normal(0, 1, (4, 6)).astype(np.float32)
    y = np.array([0, 3, 4, 1])
    cos = head(tf.constant(x))
    logits = am_softmax_logits(cos, y, margin=0.0, scale=30.0).numpy()
    np.testing.assert_allclose(logits, 30.0 * cos.numpy(), rtol=1e-6)
    ce = am_softmax_ce(cos, y, margin=0.0, scale=30.0).numpy()
    ref = -np_log_softmax(30.0 * np_cosines(x, head.kernel.numpy()))[np.arange(4), y].mean()
    np.testing.assert_allclose(ce, ref, rtol=1e-4)


def test_margin_applies_to_the_target_class_only():
    cos = RNG.uniform(-1, 1, (3, 5)).astype(np.float32)
    y = np.array([2, 0, 4])
    logits = am_softmax_logits(cos, y, margin=0.35, scale=30.0).numpy()
    expected = 30.0 * cos
    expected[np.arange(3), y] = 30.0 * (cos[np.arange(3), y] - 0.35)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    # AM-softmax CE by hand: -log(e^{s(cos_y - m)} / (e^{s(cos_y - m)} + sum_j!=y e^{s cos_j}))
    ce = am_softmax_ce(cos, y, margin=0.35, scale=30.0).numpy()
    num = np.exp(30 * (cos[np.arange(3), y] - 0.35))
    den = num + np.array([np.exp(30 * np.delete(cos[i], y[i])).sum() for i in range(3)])
    np.testing.assert_allclose(ce, np.mean(-np.log(num / den)), rtol=1e-4)


def test_normalisation_is_per_sample():
    head = _head()
    x = RNG.normal(0, 1, (4, 6)).astype(np.float32)
    base = head(tf.constant(x)).numpy()
    # Scaling one row changes nothing (its cosines are scale-free) ...
    scaled = x.copy()
    scaled[1] *= 37.0
    np.testing.assert_allclose(head(tf.constant(scaled)).numpy(), base, rtol=1e-5, atol=1e-6)
    # ... and replacing one row leaves the other rows' logits unchanged (axis-0
    # normalisation across the batch would change them all).
    other = x.copy()
    other[0] = RNG.normal(0, 5, 6)
    out = head(tf.constant(other)).numpy()
    np.testing.assert_allclose(out[1:], base[1:], rtol=1e-5, atol=1e-6)
    assert not np.allclose(out[0], base[0])


def test_head_computes_in_float32_under_bfloat16_inputs():
    head = _head()
    x = tf.constant(RNG.normal(0, 1, (2, 6)), tf.bfloat16)
    out = head(x)
    assert out.dtype == tf.float32
