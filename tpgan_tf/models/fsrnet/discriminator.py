"""FSRGAN's conditional discriminator: a pix2pix 70 x 70 PatchGAN on concat(x, image)
(fsrnet spec 6.2 recommendation [INF]; the paper's D is [UNV]); networks.build_discriminator
builds it from a config.

    input concat(LR input x, image y or y_hat)      [B, H, W, 6]
    C64   conv4x4 s2, no norm, LeakyReLU 0.2         [B, H/2, W/2, 64]
    C128  conv4x4 s2, BN, LeakyReLU 0.2              [B, H/4, W/4, 128]
    C256  conv4x4 s2, BN, LeakyReLU 0.2              [B, H/8, W/8, 256]
    C512  conv4x4 s1, BN, LeakyReLU 0.2              [B, H/8 - 1, W/8 - 1, 512]
    conv4x4 s1 -> 1 logit per patch (no activation)  [B, H/8 - 2, W/8 - 2, 1]
Every conv zero-pads 1 pixel per side (pix2pix's padding=1), so a 128 x 128 input gives a
14 x 14 logit map of 70 x 70 receptive fields. Convs followed by BN have no bias, the first
and the last have one (pix2pix with batch norm): 2,768,705 parameters at width 1.
Weights N(0, 0.02), BN gamma N(1, 0.02) (pix2pix's init).
"""
from __future__ import annotations

import keras

from tpgan_tf.core.config import scaled
from tpgan_tf.models.fsrnet.blocks import INIT_STDDEV, Conv, make_bn

LRELU_SLOPE = 0.2
KERNEL = 4


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class ConditionalPatchDiscriminator(keras.Model):
    """pix2pix PatchGAN D(x, image) -> logits [B, H/8 - 2, W/8 - 2, 1] (see module doc).

    num_layers: the stride-2 stages after C64 and before C512 plus one (pix2pix n_layers = 3).
    width scales every channel count. Call as d(x, image, training=...).
    """

    def __init__(self, width: float = 1.0, num_layers: int = 3, norm: dict | None = None,
                 init_stddev: float = INIT_STDDEV, **kwargs):
        kwargs.setdefault("name", "fsrgan_discriminator")
        super().__init__(**kwargs)
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.width, self.num_layers = float(width), int(num_layers)
        self.norm, self.init_stddev = dict(norm or {}), float(init_stddev)
        conv = dict(kernel=KERNEL, pad=1, init_stddev=init_stddev)
        self.conv0 = Conv(scaled(64, width), strides=2, use_bias=True, name="conv0", **conv)
        # pix2pix: channels 64 * min(2^i, 8); stride 2 for i < num_layers, then one stride 1.
        for i in range(1, num_layers + 1):
            filters = scaled(64 * min(2 ** i, 8), width)
            strides = 2 if i < num_layers else 1
            setattr(self, f"conv{i}", Conv(filters, strides=strides, name=f"conv{i}", **conv))
            setattr(self, f"bn{i}", make_bn(self.norm, name=f"bn{i}"))
        self.logits = Conv(1, strides=1, use_bias=True, name="logits", **conv)
        self.built = True  # a container: its layers build on the first call

    def call(self, lr, image, training=None):
        x = keras.ops.concatenate([lr, keras.ops.cast(image, lr.dtype)], axis=-1)
        x = keras.ops.leaky_relu(self.conv0(x), LRELU_SLOPE)
        for i in range(1, self.num_layers + 1):
            x = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x), training=training)
            x = keras.ops.leaky_relu(x, LRELU_SLOPE)
        return self.logits(x)

    def build_for_size(self, height: int = 128, width: int | None = None,
                       batch: int = 1) -> "ConditionalPatchDiscriminator":
        """Builds every weight by one call on zeros; returns self."""
        zeros = keras.ops.zeros((batch, height, width or height, 3))
        self(zeros, zeros, training=False)
        return self

    def get_config(self):
        return {**super().get_config(), "width": self.width, "num_layers": self.num_layers,
                "norm": self.norm, "init_stddev": self.init_stddev}
