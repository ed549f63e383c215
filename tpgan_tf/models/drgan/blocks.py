"""DR-GAN's building blocks (drgan spec 2.6, the official `ops.py` conventions) as Keras 3 layers.

conv     : Conv2D 3x3, SAME, TruncatedNormal(0.02), bias 0 (a bias although BN follows).
deconv   : Conv2DTranspose 3x3, SAME (output = input x stride), RandomNormal(0.02), bias 0.
dense    : Dense, RandomNormal(0.02), bias 0.
BN       : momentum 0.9, epsilon 1e-5, gamma and beta (tpgan_tf.core.layers.BatchNorm);
           DR-GAN uses ordinary train/test BN, i.e. bn_mode "inference".
ELU      : alpha 1.
Dropout  : rate 0.4 (the code's keep 0.6), training only.

Building: `ConvUnit` builds its conv and BN from the input shape. The networks (encoder,
decoder, discriminator) own no weights themselves; they mark themselves built in __init__ so
that Keras 3 does not trace the whole call symbolically to build them (see "Building" in
tpgan_tf/models/tpgan/blocks.py), and their sublayers build on the first call.
"""
from __future__ import annotations

import keras

from tpgan_tf.core.config import scaled
from tpgan_tf.core.layers import batch_norm, normal, truncated_normal

ACTIVATIONS = ("elu", "tanh", None)


def dr_batch_norm(norm: dict | None = None, name: str | None = None):
    """tpgan_tf.core.layers.batch_norm with DR-GAN's default bn_mode "inference" (ordinary
    train/test BN, drgan spec 2.6) when `norm` does not say otherwise."""
    return batch_norm({"bn_mode": "inference", **(norm or {})}, name=name)


def apply_activation(x, activation: str | None):
    """ELU (alpha 1), tanh or identity (None)."""
    if activation == "elu":
        return keras.ops.elu(x)
    if activation == "tanh":
        return keras.ops.tanh(x)
    if activation is None:
        return x
    raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")


def dense(units: int, use_bias: bool = True, name: str | None = None) -> keras.layers.Dense:
    """drgan spec 2.6 `linear`: RandomNormal(0.02) kernel, zero bias."""
    return keras.layers.Dense(units, use_bias=use_bias, kernel_initializer=normal(0.02),
                              bias_initializer="zeros", name=name)


def global_average_pool(x):
    """[B, H, W, C] -> [B, C]: the table's AvgPool (s16 x s16, VALID, stride 1 = global)."""
    return keras.ops.mean(x, axis=(1, 2))


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class ConvUnit(keras.layers.Layer):
    """3x3 conv (or transposed conv) -> optional BN -> activation: one row of spec 2's tables.

    Input [B, H, W, Cin] -> [B, H / s, W / s, filters] (conv) or [B, H * s, W * s, filters]
    (transposed). `norm` is the dict of tpgan_tf.core.layers.batch_norm.
    """

    def __init__(self, filters: int, strides: int = 1, transpose: bool = False,
                 use_bn: bool = True, activation: str | None = "elu", norm: dict | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
        if strides not in (1, 2):
            raise ValueError(f"strides must be 1 or 2, got {strides}")
        self.filters, self.strides, self.transpose = filters, strides, transpose
        self.use_bn, self.activation = use_bn, activation
        self.norm = dict(norm or {})
        if transpose:
            self.conv = keras.layers.Conv2DTranspose(
                filters, 3, strides=strides, padding="same", kernel_initializer=normal(0.02),
                bias_initializer="zeros", name="deconv")
        else:
            self.conv = keras.layers.Conv2D(
                filters, 3, strides=strides, padding="same",
                kernel_initializer=truncated_normal(0.02), bias_initializer="zeros", name="conv")
        self.bn = dr_batch_norm(self.norm, name="bn") if use_bn else None

    def build(self, input_shape):
        self.conv.build(input_shape)
        if self.bn is not None:
            self.bn.build(self.conv.compute_output_shape(input_shape))
        self.built = True

    def call(self, x, training=None):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x, training=training)
        return apply_activation(x, self.activation)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides,
                "transpose": self.transpose, "use_bn": self.use_bn,
                "activation": self.activation, "norm": self.norm}


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class SeededDropout(keras.layers.Layer):
    """Dropout (training only) whose random state has a fixed variable name.

    Keras names SeedGenerators from a process-wide counter, so an unnamed one would get a
    variable path that depends on what else the process built; checkpoints are keyed by path.
    rate 0 is the identity. Input and output: any shape.
    """

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(name=f"{self.name}_seed")
        self.built = True

    def call(self, x, training=None):
        if training and self.rate > 0:
            return keras.random.dropout(x, self.rate, seed=self.seed_generator)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class ConvStack(keras.layers.Layer):
    """A sequence of ConvUnits from a table of rows (name, stride, channels).

    Every row gets BN + ELU except the last, which gets `last_activation` and BN if
    `last_use_bn`. Channel counts are scaled by `width` (tpgan_tf.core.config.scaled) except
    `last_channels`, an absolute count for the last row when given (3 for an RGB output,
    F + 1 for the paper's confidence channel). Each unit is an attribute named after its row
    (checkpoints follow attributes, not lists).

    call(x [B, H, W, C], training, return_all=False) -> the last row's output, or with
    return_all a dict {row name: output} in table order.
    """

    def __init__(self, rows, width: float = 1.0, transpose: bool = False,
                 last_activation: str | None = "elu", last_use_bn: bool = True,
                 last_channels: int | None = None, norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rows = [[str(n), int(s), int(c)] for n, s, c in rows]
        if not self.rows:
            raise ValueError("ConvStack needs at least one row")
        self.width, self.transpose = width, transpose
        self.last_activation, self.last_use_bn = last_activation, last_use_bn
        self.last_channels = last_channels
        self.norm = dict(norm or {})
        self.row_names = tuple(n for n, _, _ in self.rows)
        for i, (name, stride, channels) in enumerate(self.rows):
            last = i == len(self.rows) - 1
            filters = scaled(channels, width)
            if last and last_channels is not None:
                filters = last_channels
            unit = ConvUnit(filters, stride, transpose=transpose,
                            use_bn=last_use_bn if last else True,
                            activation=last_activation if last else "elu",
                            norm=self.norm, name=name)
            setattr(self, name, unit)
        self.built = True  # a container (module docstring)

    @property
    def units(self) -> list[ConvUnit]:
        return [getattr(self, n) for n in self.row_names]

    def call(self, x, training=None, return_all=False):
        outputs = {}
        for name in self.row_names:
            x = getattr(self, name)(x, training=training)
            outputs[name] = x
        return outputs if return_all else x

    def get_config(self):
        return {**super().get_config(), "rows": self.rows, "width": self.width,
                "transpose": self.transpose, "last_activation": self.last_activation,
                "last_use_bn": self.last_use_bn, "last_channels": self.last_channels,
                "norm": self.norm}
