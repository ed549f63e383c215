"""tpgan_tf/faces/image_ops.py: TF1's legacy resize, mirror concatenation, gray (tpgan spec 1.1, 4.4)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.faces.image_ops import LegacyResize, legacy_resize, mirror_concat, to_gray


def test_legacy_resize_is_decimation_at_2x_and_4x():
    x = tf.constant(np.random.default_rng(1).uniform(size=(2, 128, 128, 3)).astype(np.float32))
    np.testing.assert_array_equal(legacy_resize(x, 64).numpy(), x.numpy()[:, ::2, ::2])
    np.testing.assert_array_equal(legacy_resize(x, 32).numpy(), x.numpy()[:, ::4, ::4])
    # Upsampling 2x: even outputs copy the input, odd outputs average two neighbours,
    # the last column repeats the edge (no half-pixel centres).
    y = legacy_resize(x[:, :4, :4], 8).numpy()
    np.testing.assert_allclose(y[:, 0, 1], (x[:, 0, 0] + x[:, 0, 1]).numpy() / 2, atol=1e-6)
    np.testing.assert_allclose(y[:, 2, 2], x.numpy()[:, 1, 1], atol=1e-6)
    np.testing.assert_allclose(y[:, 0, 7], x.numpy()[:, 0, 3], atol=1e-6)


def test_legacy_resize_keeps_the_dtype_and_its_layer_serialises():
    x = tf.constant(np.random.default_rng(2).uniform(size=(1, 8, 8, 2)), tf.bfloat16)
    assert legacy_resize(x, 4).dtype == tf.bfloat16
    layer = LegacyResize(16)
    assert layer.compute_output_shape((3, 8, 8, 5)) == (3, 16, 16, 5)
    clone = LegacyResize.from_config(layer.get_config())
    assert clone.size == 16
    z = tf.random.stateless_uniform([1, 8, 8, 3], seed=[1, 2])
    np.testing.assert_array_equal(clone(z).numpy(), legacy_resize(z, 16).numpy())


def test_mirror_concat_and_gray_by_hand():
    x = np.arange(2 * 2 * 3 * 3, dtype=np.float32).reshape(2, 2, 3, 3)
    out = mirror_concat(tf.constant(x)).numpy()
    assert out.shape == (2, 2, 3, 6)
    np.testing.assert_array_equal(out[..., :3], x)
    np.testing.assert_array_equal(out[..., 3:], x[:, :, ::-1])
    gray = to_gray(tf.constant(x)).numpy()  # spec 4.2: mean of R, G, B
    assert gray.shape == (2, 2, 3, 1)
    np.testing.assert_allclose(gray[..., 0], x.mean(axis=-1))
