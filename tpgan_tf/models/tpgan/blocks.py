"""Building blocks of the original TP-GAN `ops.py` (spec 2.1) as Keras 3 layers.

conv   : Conv2D, SAME, stride 2 unless stated, TruncatedNormal(0.02), bias 0.
deconv : Conv2DTranspose, SAME, 3x3, stride 2, RandomNormal(0.02), bias 0.
linear : Dense, RandomNormal(0.02), bias 0 (0.1 for `feature`, `initial8`, `idenLinear`).
BN     : decay 0.9, eps 1e-5, gamma and beta; by default ALWAYS batch statistics
         (tpgan_tf.core.layers.BatchNorm, bn_mode "batch_stats").
lrelu  : max(x, 0.2 x).
resblock(k): conv k (s1) -> BN -> lrelu -> conv k -> BN -> + input -> lrelu.
MFM    : max of the two halves of the channel axis.

Building: the layers here that own weights (ConvBlock, ResBlock and Keras' own) create them in
`build()` from the input shape. The containers of the networks (encoder, decoder, part nets,
generator, discriminator) own no weights, so they mark themselves built in `__init__`;
otherwise Keras 3 would "build" each of them by tracing its whole call symbolically first,
which costs ~25 s for the generator on 2 CPU cores. Their sublayers build on the first call.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.layers import batch_norm, normal, truncated_normal

# Spec 2.1 initialisers (a fresh instance per layer, see core/layers.py).
conv_init = truncated_normal  # spec 2.1 conv: truncated normal, stddev 0.02
deconv_init = normal  # spec 2.1 deconv: normal, stddev 0.02
dense_init = normal  # spec 2.1 linear: normal, stddev 0.02


LRELU_SLOPE = 0.2


def lrelu(x):
    """Leaky ReLU of the original, max(x, 0.2 x)."""
    return tf.maximum(x, LRELU_SLOPE * x)


def conv(filters: int, kernel: int = 3, strides: int = 2, name: str | None = None,
         kernel_initializer=None):
    """The original `conv2d`: SAME padding, stride 2 by default, truncated-normal weights."""
    return keras.layers.Conv2D(
        filters, kernel, strides=strides, padding="same", name=name,
        kernel_initializer=kernel_initializer or conv_init(), bias_initializer="zeros")


def deconv(filters: int, kernel: int = 3, strides: int = 2, name: str | None = None):
    """The original `deconv2d`: output size = input size x stride (SAME), normal weights."""
    return keras.layers.Conv2DTranspose(
        filters, kernel, strides=strides, padding="same", name=name,
        kernel_initializer=deconv_init(), bias_initializer="zeros")


def linear(units: int, bias: float = 0.0, name: str | None = None):
    """The original `linear`: normal(0.02) weights, constant bias (0.1 for three layers)."""
    return keras.layers.Dense(
        units, name=name, kernel_initializer=dense_init(),
        bias_initializer=keras.initializers.Constant(bias))


_ACTIVATIONS = {
    None: lambda x: x,
    "linear": lambda x: x,
    "lrelu": lrelu,
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
}


@keras.saving.register_keras_serializable(package="tpgan_tf")
class ConvBlock(keras.layers.Layer):
    """conv (or deconv) -> optional BN -> activation; the unit of every table in spec 2-3.

    Input [B, H, W, Cin] -> [B, H*s or H/s, W*s or W/s, filters].
    """

    def __init__(self, filters: int, kernel: int = 3, strides: int = 2, transpose: bool = False,
                 use_bn: bool = True, activation: str | None = "lrelu", norm: dict | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        self.filters, self.kernel, self.strides = filters, kernel, strides
        self.transpose, self.use_bn, self.activation = transpose, use_bn, activation
        self.norm = dict(norm or {})
        make = deconv if transpose else conv
        self.conv = make(filters, kernel, strides, name="deconv" if transpose else "conv")
        self.bn = batch_norm(self.norm, name="bn") if use_bn else None

    def build(self, input_shape):
        self.conv.build(input_shape)
        if self.bn is not None:
            self.bn.build(self.conv.compute_output_shape(input_shape))
        self.built = True

    def call(self, x, training=None):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x, training=training)
        return _ACTIVATIONS[self.activation](x)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel": self.kernel,
                "strides": self.strides, "transpose": self.transpose, "use_bn": self.use_bn,
                "activation": self.activation, "norm": self.norm}


@keras.saving.register_keras_serializable(package="tpgan_tf")
class ResBlock(keras.layers.Layer):
    """The original `resblock`: keeps the input's channel count and size.

    x -> conv k s1 -> BN -> lrelu -> conv k s1 -> BN -> (+ x) -> lrelu.
    Note: with SAME padding an even kernel (2x2, the 8x8 stage) pads bottom/right only,
    exactly as TF1 did (spec 2.1).
    """

    def __init__(self, kernel: int = 3, norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.kernel = kernel
        self.norm = dict(norm or {})

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.conv1 = conv(channels, self.kernel, 1, name="conv1")
        self.bn1 = batch_norm(self.norm, name="bn1")
        self.conv2 = conv(channels, self.kernel, 1, name="conv2")
        self.bn2 = batch_norm(self.norm, name="bn2")
        for layer in (self.conv1, self.bn1, self.conv2, self.bn2):
            layer.build(input_shape)
        self.built = True

    def call(self, x, training=None):
        y = lrelu(self.bn1(self.conv1(x), training=training))
        y = self.bn2(self.conv2(y), training=training)
        return lrelu(y + x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kernel": self.kernel, "norm": self.norm}


def mfm(x):
    """Max-feature-map / maxout: [..., 2C] -> [..., C], max(first half, second half)."""
    first, second = tf.split(x, 2, axis=-1)
    return tf.maximum(first, second)
