"""Multi-image DR-GAN: the confidence omega of each image and the omega-weighted fusion
(drgan spec 2.5).

Two ways to get omega, chosen by `model.confidence` in the config:
  "channel" (paper): Conv53 has N^f + 1 channels; after the AvgPool the extra channel goes
            through a sigmoid. Lives in the encoder (encoder.py), it is one more channel.
  "branch"  (official code): a separate branch on the output of Conv52 (`g_k41`, 6x6x160 at
            96 input): Conv3x3 with 1 channel -> BN -> AvgPool -> sigmoid (`g_h4c_conv`,
            `g_h_bn4_c`; no ELU). `ConfidenceBranch` below.

Fusion of the n images of one subject: f = sum_i(omega_i f_i) / (sum_i(omega_i) + epsilon).
The paper's formula has no epsilon [unverified]; the code adds 1e-6. omega is a sigmoid, so
sum(omega) > 0 and the epsilon only matters when every omega is ~0 (or dropped, see
`drop_confidences`); it is kept as a documented choice (`model.fusion_epsilon`, 0 = paper).
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.models.drgan.blocks import ConvUnit, global_average_pool


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class ConfidenceBranch(keras.layers.Layer):
    """Official omega branch: [B, H, W, C] (Conv52's output) -> omega [B, 1] in (0, 1).

    Conv3x3 (1 channel, truncated normal 0.02) -> BN -> global AvgPool -> sigmoid.
    """

    def __init__(self, norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.norm = dict(norm or {})
        self.conv = ConvUnit(1, 1, use_bn=True, activation=None, norm=self.norm, name="conv")
        self.built = True  # a container (blocks.py docstring)

    def call(self, x, training=None):
        return keras.ops.sigmoid(global_average_pool(self.conv(x, training=training)))

    def get_config(self):
        return {**super().get_config(), "norm": self.norm}


def fuse_features(features, omega, epsilon: float = 1e-6):
    """Omega-weighted mean of the n feature vectors of each row.

    features: [B, n, F]; omega: [B, n] or [B, n, 1], >= 0. Returns [B, F] in the dtype of
    `features` (computed in float32): sum_i(omega_i f_i) / (sum_i(omega_i) + epsilon).
    Equal omegas give the plain mean (up to epsilon); an image with omega 0 has no effect.
    """
    f = tf.cast(features, tf.float32)
    w = tf.cast(omega, tf.float32)
    if f.shape.rank != 3:
        raise ValueError(f"fuse_features: features must be [B, n, F], got shape {f.shape}")
    if w.shape.rank == 3:
        if w.shape[-1] != 1:
            raise ValueError(f"fuse_features: omega must be [B, n] or [B, n, 1], got {w.shape}")
        w = w[..., 0]
    if w.shape.rank != 2 or not w.shape.is_compatible_with(f.shape[:2]):
        raise ValueError(f"fuse_features: omega shape {w.shape} does not match features "
                         f"{f.shape} ([B, n] or [B, n, 1])")
    if epsilon < 0:
        raise ValueError(f"fuse_features: epsilon must be >= 0, got {epsilon}")
    numerator = tf.reduce_sum(w[..., None] * f, axis=1)
    denominator = tf.reduce_sum(w, axis=1, keepdims=True) + epsilon
    return tf.cast(numerator / denominator, features.dtype)


def drop_confidences(omega, rate: float, seed=None, draw=None):
    """Paper's "drop-out on the coefficient omega" (drgan spec 2.5; rate [unverified]).

    omega: [B, n] or [B, n, 1]. Each omega is set to 0 with probability `rate`, but at least
    one image per row is kept (the one with the largest random draw), so that the network
    learns to fuse any number 1..n of images. No 1/(1-rate) rescaling: the fusion divides by
    sum(omega), so a common scale cancels. seed: a keras.random.SeedGenerator or an int.
    draw: optional uniform [0, 1) values of omega's shape to use instead of drawing them (a
    training task draws them from its own checkpointed generator, so that a resumed run
    drops the same images). Returns omega's shape and dtype.
    """
    if not 0 <= rate < 1:
        raise ValueError(f"drop_confidences: rate must be in [0, 1), got {rate}")
    if rate == 0:
        return omega
    if draw is None:
        draw = keras.random.uniform(tf.shape(omega), seed=seed)
    draw = tf.reshape(tf.cast(draw, tf.float32), tf.shape(omega))
    largest = draw >= tf.reduce_max(draw, axis=1, keepdims=True)  # over the n images
    keep = tf.logical_or(draw >= rate, largest)
    return omega * tf.cast(keep, omega.dtype)


def encode_and_fuse(encoder, images, epsilon: float = 1e-6, omega_dropout: float = 0.0,
                    seed=None, training=None, draw=None):
    """Encodes n images of each row and fuses them (drgan spec 2.5).

    images: [B, n, H, W, 3]; encoder: encoder.Encoder. The B * n images go through the
    encoder as ONE batch (one set of training BN statistics; the official code encodes its
    four image groups in separate calls). omega_dropout > 0 applies `drop_confidences`
    (training only; `draw`: its uniform values [B, n], see there). Returns (fused [B, N^f],
    features [B, n, N^f], omega [B, n, 1]).
    """
    if images.shape.rank != 5:
        raise ValueError(f"encode_and_fuse: images must be [B, n, H, W, 3], got {images.shape}")
    shape = tf.shape(images)
    flat = tf.reshape(images, tf.concat([[-1], shape[2:]], axis=0))
    out = encoder(flat, training=training)
    n = images.shape[1] if images.shape[1] is not None else shape[1]
    features = tf.reshape(out["features"], [-1, n, out["features"].shape[-1]])
    omega = tf.reshape(out["omega"], [-1, n, 1])
    weights = drop_confidences(omega, omega_dropout, seed, draw) if training else omega
    return fuse_features(features, weights, epsilon), features, omega
