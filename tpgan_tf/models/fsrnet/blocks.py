"""FSRNet building blocks (fsrnet spec 3): padded conv, conv-BN-act unit, RB, BR, hourglass.

Conventions of every layer here (the bias / BN choices are the ones that reproduce the
spec's [COMP] parameter counts exactly, see networks.parameter_counts):
  * plain convs (coarse net, encoder, decoder, prior stem, residual blocks "RB") have NO bias;
  * the convs of the bottleneck units "BR" (and their 1x1 projection) HAVE a bias
    (fsrnet spec 3.2: "convs with bias"), and so does the linear 1x1 prior head;
  * weights N(0, 0.02), BN gamma N(1, 0.02), beta 0 ([CS][CY], spec 7 "Init");
  * BN momentum 0.9, epsilon 1e-5 (the Torch defaults, spec 3.1) via core.layers.BatchNorm.

Padding (spec 3.1, open point): "zero" pads k // 2 zeros on every side, as Torch's
`padding=k//2` (for stride 1 that is Keras "same"; for the stride-2 convs it is symmetric,
where Keras "same" would pad bottom/right only). "reflect" reflection-pads instead ([CS]/[CY]);
it needs every spatial size >= 2 where a 3x3 conv runs (the hourglass centre included).

Building: the weight-owning layers build their sublayers from the input shape in `build()`;
the hourglass owns no weights and marks itself built (see "Building" in tpgan_tf/models/tpgan/blocks.py).
"""
from __future__ import annotations

import keras

from tpgan_tf.core.layers import BN_EPSILON, BN_MOMENTUM, BatchNorm, normal

PADDINGS = ("zero", "reflect")
POOLINGS = ("max", "avg")
UPSAMPLINGS = ("nearest", "bilinear")
ACTIVATIONS = ("none", "relu", "tanh")
INIT_STDDEV = 0.02  # spec 7 "Init": N(0, 0.02) convs, BN gamma N(1, 0.02) [CS][CY]


def check_choice(kind: str, value: str, choices: tuple) -> str:
    if value not in choices:
        raise ValueError(f"{kind} must be one of {choices}, got {value!r}")
    return value


def activate(x, activation: str):
    """Applies "none" | "relu" | "tanh" to x."""
    if activation == "relu":
        return keras.ops.relu(x)
    if activation == "tanh":
        return keras.ops.tanh(x)
    return x


def make_bn(norm: dict | None, name: str | None = None) -> BatchNorm:
    """BatchNorm from a norm dict (bn_mode, momentum, epsilon, synchronized, gamma_stddev).

    Default bn_mode "inference": ordinary train / test batch norm (fsrnet spec 3.1)."""
    norm = norm or {}
    return BatchNorm(bn_mode=norm.get("bn_mode", "inference"),
                     momentum=norm.get("momentum", BN_MOMENTUM),
                     epsilon=norm.get("epsilon", BN_EPSILON),
                     synchronized=norm.get("synchronized", False),
                     gamma_initializer=keras.initializers.RandomNormal(
                         mean=1.0, stddev=norm.get("gamma_stddev", INIT_STDDEV)),
                     name=name)


def _spatial(shape, pad: int):
    """A [B, H, W, C] shape with H and W grown by 2 * pad (None stays None)."""
    grow = lambda d: None if d is None else int(d) + 2 * pad  # noqa: E731
    return (shape[0], grow(shape[1]), grow(shape[2]), shape[3])


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class Conv(keras.layers.Layer):
    """k x k conv with Torch-style symmetric padding: [B, H, W, Cin] -> [B, H/s, W/s, filters].

    `pad` zeros or reflected pixels on each side (default (k - 1) // 2, Torch's choice for odd
    k), then a 'valid' conv; a stride-1 zero-padded conv with the default pad uses Keras 'same'
    instead (identical, cheaper).
    """

    def __init__(self, filters: int, kernel: int = 3, strides: int = 1, padding: str = "zero",
                 use_bias: bool = False, pad: int | None = None,
                 init_stddev: float = INIT_STDDEV, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel, self.strides = int(filters), int(kernel), int(strides)
        self.padding = check_choice("padding", padding, PADDINGS)
        self.use_bias, self.init_stddev = bool(use_bias), float(init_stddev)
        self.pad = (self.kernel - 1) // 2 if pad is None else int(pad)
        same = (padding == "zero" and self.strides == 1 and self.kernel % 2 == 1
                and self.pad == (self.kernel - 1) // 2)
        self._explicit_pad = self.pad > 0 and not same
        self.conv = keras.layers.Conv2D(
            self.filters, self.kernel, strides=self.strides, padding="same" if same else "valid",
            use_bias=self.use_bias, kernel_initializer=normal(self.init_stddev),
            bias_initializer="zeros", name="conv")

    def build(self, input_shape):
        self.conv.build(_spatial(input_shape, self.pad) if self._explicit_pad else input_shape)

    def call(self, x):
        if self._explicit_pad:
            p = self.pad
            mode = "reflect" if self.padding == "reflect" else "constant"
            x = keras.ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode=mode)
        return self.conv(x)

    def compute_output_shape(self, input_shape):
        shape = _spatial(input_shape, self.pad) if self._explicit_pad else input_shape
        return self.conv.compute_output_shape(shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel": self.kernel,
                "strides": self.strides, "padding": self.padding, "use_bias": self.use_bias,
                "pad": self.pad, "init_stddev": self.init_stddev}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class ConvUnit(keras.layers.Layer):
    """conv (no bias) -> BN -> activation, or with transpose=True a k x k stride-s transposed
    conv (Keras 'same' = Torch padding (k - s) / 2, fsrnet spec 4.4) -> BN -> activation.

    [B, H, W, Cin] -> [B, H/s, W/s, filters] (conv) or [B, H*s, W*s, filters] (transpose).
    """

    def __init__(self, filters: int, kernel: int = 3, strides: int = 1, transpose: bool = False,
                 activation: str = "relu", padding: str = "zero", norm: dict | None = None,
                 init_stddev: float = INIT_STDDEV, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel, self.strides = int(filters), int(kernel), int(strides)
        self.transpose = bool(transpose)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.padding, self.norm, self.init_stddev = padding, dict(norm or {}), float(init_stddev)
        if self.transpose:
            self.conv = keras.layers.Conv2DTranspose(
                self.filters, self.kernel, strides=self.strides, padding="same", use_bias=False,
                kernel_initializer=normal(self.init_stddev), name="deconv")
        else:
            self.conv = Conv(self.filters, self.kernel, self.strides, padding, use_bias=False,
                             init_stddev=self.init_stddev, name="conv")
        self.bn = make_bn(self.norm, name="bn")

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.bn.build(self.conv.compute_output_shape(input_shape))

    def call(self, x, training=None):
        return activate(self.bn(self.conv(x), training=training), self.activation)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel": self.kernel,
                "strides": self.strides, "transpose": self.transpose,
                "activation": self.activation, "padding": self.padding, "norm": self.norm,
                "init_stddev": self.init_stddev}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class ResidualBlock(keras.layers.Layer):
    """RB(c) of fsrnet spec 3.1: conv3x3 -> BN -> ReLU -> conv3x3 -> BN -> + input (no ReLU
    after the sum). Convs without bias. [B, H, W, c] -> [B, H, W, c].

    Every instance owns its own weights (the [CS] shared-weights bug of spec 4.5 cannot
    happen: a block is never reused)."""

    def __init__(self, padding: str = "zero", norm: dict | None = None,
                 init_stddev: float = INIT_STDDEV, **kwargs):
        super().__init__(**kwargs)
        self.padding, self.norm, self.init_stddev = padding, dict(norm or {}), float(init_stddev)

    def build(self, input_shape):
        c = int(input_shape[-1])
        self.conv1 = Conv(c, 3, 1, self.padding, init_stddev=self.init_stddev, name="conv1")
        self.bn1 = make_bn(self.norm, name="bn1")
        self.conv2 = Conv(c, 3, 1, self.padding, init_stddev=self.init_stddev, name="conv2")
        self.bn2 = make_bn(self.norm, name="bn2")
        for layer in (self.conv1, self.bn1, self.conv2, self.bn2):
            layer.build(input_shape)

    def call(self, x, training=None):
        y = keras.ops.relu(self.bn1(self.conv1(x), training=training))
        return self.bn2(self.conv2(y), training=training) + x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "norm": self.norm,
                "init_stddev": self.init_stddev}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class BottleneckResidual(keras.layers.Layer):
    """BR(i -> o) of fsrnet spec 3.2 (Newell et al. 2016 hourglass unit):
    BN -> ReLU -> conv1x1 (o/2) -> BN -> ReLU -> conv3x3 (o/2) -> BN -> ReLU -> conv1x1 (o),
    plus the skip (identity if i == o, else conv1x1 i -> o of the raw input); no activation
    after the sum. All convs with bias. [B, H, W, i] -> [B, H, W, o]."""

    def __init__(self, out_channels: int, padding: str = "zero", norm: dict | None = None,
                 init_stddev: float = INIT_STDDEV, **kwargs):
        super().__init__(**kwargs)
        if out_channels < 2 or out_channels % 2:
            raise ValueError(f"BottleneckResidual needs an even out_channels >= 2, got {out_channels}")
        self.out_channels = int(out_channels)
        self.padding, self.norm, self.init_stddev = padding, dict(norm or {}), float(init_stddev)

    def build(self, input_shape):
        mid, out, std = self.out_channels // 2, self.out_channels, self.init_stddev
        self.bn0 = make_bn(self.norm, name="bn0")
        self.conv1 = Conv(mid, 1, use_bias=True, init_stddev=std, name="conv1")
        self.bn1 = make_bn(self.norm, name="bn1")
        self.conv2 = Conv(mid, 3, 1, self.padding, use_bias=True, init_stddev=std, name="conv2")
        self.bn2 = make_bn(self.norm, name="bn2")
        self.conv3 = Conv(out, 1, use_bias=True, init_stddev=std, name="conv3")
        self.skip = (None if int(input_shape[-1]) == out
                     else Conv(out, 1, use_bias=True, init_stddev=std, name="skip"))
        mid_shape = (*input_shape[:3], mid)
        self.bn0.build(input_shape)
        self.conv1.build(input_shape)
        for layer in (self.bn1, self.conv2, self.bn2, self.conv3):
            layer.build(mid_shape)
        if self.skip is not None:
            self.skip.build(input_shape)

    def call(self, x, training=None):
        y = self.conv1(keras.ops.relu(self.bn0(x, training=training)))
        y = self.conv2(keras.ops.relu(self.bn1(y, training=training)))
        y = self.conv3(keras.ops.relu(self.bn2(y, training=training)))
        return y + (x if self.skip is None else self.skip(x))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.out_channels)

    def get_config(self):
        return {**super().get_config(), "out_channels": self.out_channels,
                "padding": self.padding, "norm": self.norm, "init_stddev": self.init_stddev}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class Hourglass(keras.layers.Layer):
    """HG(c, depth n) of fsrnet spec 3.3, recursive, every tensor keeps c channels:
        u = BR(z); l1 = BR(pool2x2(z)); l2 = HG(l1, n-1) if n > 1 else BR(l1); l3 = BR(l2);
        out = u + upsample2x(l3).
    3n + 1 BR units in all. [B, H, W, c] -> [B, H, W, c]; H and W divisible by 2^n.
    pooling "max" | "avg", upsampling "nearest" | "bilinear" ([CS]/[CY]: max / nearest,
    [LI]: avg / bilinear)."""

    def __init__(self, channels: int, depth: int, pooling: str = "max",
                 upsampling: str = "nearest", padding: str = "zero", norm: dict | None = None,
                 init_stddev: float = INIT_STDDEV, **kwargs):
        super().__init__(**kwargs)
        if depth < 1:
            raise ValueError(f"hourglass depth must be >= 1, got {depth}")
        self.channels, self.depth = int(channels), int(depth)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        self.upsampling = check_choice("upsampling", upsampling, UPSAMPLINGS)
        self.padding, self.norm, self.init_stddev = padding, dict(norm or {}), float(init_stddev)
        unit = dict(padding=padding, norm=self.norm, init_stddev=init_stddev)
        self.upper = BottleneckResidual(channels, name="upper", **unit)
        self.lower_in = BottleneckResidual(channels, name="lower_in", **unit)
        if depth > 1:
            self.inner = Hourglass(channels, depth - 1, pooling, upsampling, name="inner", **unit)
        else:
            self.inner = BottleneckResidual(channels, name="centre", **unit)
        self.lower_out = BottleneckResidual(channels, name="lower_out", **unit)
        pool = keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D
        self.pool = pool(2, name="pool")
        self.upsample = keras.layers.UpSampling2D(2, interpolation=upsampling, name="upsample")
        self.built = True  # a container: its units build on the first call

    def units(self) -> list:
        """Every BR unit of this hourglass, outermost first (3 * depth + 1 of them)."""
        inner = self.inner.units() if isinstance(self.inner, Hourglass) else [self.inner]
        return [self.upper, self.lower_in, *inner, self.lower_out]

    def call(self, x, training=None):
        upper = self.upper(x, training=training)
        lower = self.lower_in(self.pool(x), training=training)
        lower = self.inner(lower, training=training)
        lower = self.lower_out(lower, training=training)
        return upper + self.upsample(lower)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "depth": self.depth,
                "pooling": self.pooling, "upsampling": self.upsampling, "padding": self.padding,
                "norm": self.norm, "init_stddev": self.init_stddev}
