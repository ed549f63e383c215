"""The patch discriminator of the original TP-GAN `discriminatorLocal` (spec 3)."""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.config import scaled
from tpgan_tf.models.tpgan.blocks import ConvBlock, ResBlock, conv


@keras.saving.register_keras_serializable(package="tpgan_tf")
class Discriminator(keras.Model):
    """Input [B, 128, 128, 3] (real frontal in [0,1) or G's img128) -> logits [B, 16].

    Five stride-2 3x3 convs 64-128-256-512-512 (BN on all but the first), a residual block after
    the 4th and 5th, then a 1x1 conv to a 4x4 logit map, flattened to 16 logits per image.
    """

    def __init__(self, width: float = 1.0, norm: dict | None = None, **kwargs):
        kwargs.setdefault("name", "discriminator")
        super().__init__(**kwargs)
        self.width = width
        self.norm = dict(norm or {})
        c = lambda n: scaled(n, width)  # noqa: E731
        n = self.norm
        self.h0 = ConvBlock(c(64), 3, 2, use_bn=False, norm=n, name="d_h0_conv")
        self.h1 = ConvBlock(c(128), 3, 2, norm=n, name="d_h1_conv")
        self.h2 = ConvBlock(c(256), 3, 2, norm=n, name="d_h2_conv")
        self.h3 = ConvBlock(c(512), 3, 2, norm=n, name="d_h3_conv")
        self.h3_res = ResBlock(3, n, name="d_h3_conv_res1")
        self.h4 = ConvBlock(c(512), 3, 2, norm=n, name="d_h4_conv")
        self.h4_res = ResBlock(3, n, name="d_h4_conv_res1")
        self.h5 = conv(1, 1, 1, name="d_h5_conv")  # linear logits
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    def call(self, images, training=None):
        t = training
        x = self.h0(images)
        x = self.h2(self.h1(x, training=t), training=t)
        x = self.h3_res(self.h3(x, training=t), training=t)
        x = self.h4_res(self.h4(x, training=t), training=t)
        logits = self.h5(x)  # [B, 4, 4, 1]
        return tf.reshape(logits, [-1, 16])

    def build_for_batch(self, batch_size: int = 1) -> "Discriminator":
        """Creates every weight by running one batch of zeros through the model."""
        self(tf.zeros([batch_size, 128, 128, 3]), training=False)
        return self

    def get_config(self):
        return {**super().get_config(), "width": self.width, "norm": self.norm}
