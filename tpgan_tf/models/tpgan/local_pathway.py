"""Local pathway: the four "part rotator" nets of the original `partRotator` (spec 2.2).

Four separate nets (no weight sharing), one per facial part. Each is a small U-Net that
maps a profile patch to the frontal patch and also returns its 64-channel last feature map,
which the fusion step (fusion.py) places on the 128 x 128 canvas.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.config import scaled
from tpgan_tf.models.tpgan.blocks import ConvBlock, ResBlock
from tpgan_tf.faces.parts import PART_NAMES


@keras.saving.register_keras_serializable(package="tpgan_tf")
class PartRotator(keras.layers.Layer):
    """One part net of spec 2.2 (rows 1-18).

    Input [B, h, w, C] (C = 3, or 6 for the right eye); h, w divisible by 8.
    Returns (feature [B, h, w, 64*width], image [B, h, w, 3] in (-1, 1) from tanh).
    """

    def __init__(self, width: float = 1.0, norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.norm = dict(norm or {})
        c = lambda n: scaled(n, width)  # noqa: E731
        down = lambda n, name: ConvBlock(c(n), 3, 2, norm=self.norm, name=name)  # noqa: E731
        up = lambda n, name: ConvBlock(c(n), 3, 2, transpose=True, norm=self.norm,  # noqa: E731
                                       name=name)  # spec 2.2: local deconvs use lrelu
        same = lambda n, name: ConvBlock(c(n), 3, 1, norm=self.norm, name=name)  # noqa: E731
        res = lambda name: ResBlock(3, self.norm, name=name)  # noqa: E731
        self.conv0 = ConvBlock(c(64), 3, 1, use_bn=False, norm=self.norm, name="p_conv0")
        self.conv0_res = res("p_conv0_res")
        self.conv1, self.conv1_res = down(128, "p_conv1"), res("p_conv1_res")
        self.conv2, self.conv2_res = down(256, "p_conv2"), res("p_conv2_res")
        self.conv3 = down(512, "p_conv3")
        self.conv3_res, self.conv3_res2 = res("p_conv3_res"), res("p_conv3_res2")
        self.deconv1, self.deconv1_s = up(256, "p_deconv1"), same(256, "p_deconv1_s")
        self.deconv1_res = res("p_deconv1_res")
        self.deconv2, self.deconv2_s = up(128, "p_deconv2"), same(128, "p_deconv2_s")
        self.deconv2_res = res("p_deconv2_res")
        self.deconv3, self.deconv3_s = up(64, "p_deconv3"), same(64, "p_deconv3_s")
        self.deconv3_res = res("p_deconv3_res")
        self.check = ConvBlock(3, 3, 1, use_bn=False, activation="tanh", name="p_check")
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    def call(self, x, training=None):
        t = training
        c0 = self.conv0_res(self.conv0(x), training=t)  # row 2
        c1 = self.conv1_res(self.conv1(c0, training=t), training=t)  # row 4
        c2 = self.conv2_res(self.conv2(c1, training=t), training=t)  # row 6
        c3 = self.conv3_res2(self.conv3_res(self.conv3(c2, training=t), training=t), training=t)
        d1 = self.deconv1(c3, training=t)
        d1 = self.deconv1_res(self.deconv1_s(tf.concat([d1, c2], -1), training=t), training=t)
        d2 = self.deconv2(d1, training=t)
        d2 = self.deconv2_res(self.deconv2_s(tf.concat([d2, c1], -1), training=t), training=t)
        d3 = self.deconv3(d2, training=t)
        feature = self.deconv3_res(self.deconv3_s(tf.concat([d3, c0], -1), training=t),
                                   training=t)  # row 17: the local feature
        return feature, self.check(feature)  # row 18: the local image

    def get_config(self):
        return {**super().get_config(), "width": self.width, "norm": self.norm}


@keras.saving.register_keras_serializable(package="tpgan_tf")
class LocalPathway(keras.layers.Layer):
    """The four part nets together.

    Input: dict part name -> patch [B, h, w, 3] (sizes of tpgan_tf.parts).
    Returns (features, images): two dicts part name -> [B, h, w, 64*width] / [B, h, w, 3].
    Spec 2.2 quirk: the right-eye net sees [right-eye patch ⊕ left-eye patch] (6 channels).
    """

    def __init__(self, width: float = 1.0, norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.norm = dict(norm or {})
        # Names follow the original scopes PartRotator_eyel/_eyer/_nose/_mouth.
        # One attribute per net (not a dict): tf.train.Checkpoint only follows attributes.
        self.eye_left_net = PartRotator(width, self.norm, name="PartRotator_eyel")
        self.eye_right_net = PartRotator(width, self.norm, name="PartRotator_eyer")
        self.nose_net = PartRotator(width, self.norm, name="PartRotator_nose")
        self.mouth_net = PartRotator(width, self.norm, name="PartRotator_mouth")
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    @property
    def nets(self) -> dict:
        """Part name -> its PartRotator."""
        return {p: getattr(self, f"{p}_net") for p in PART_NAMES}

    def call(self, patches, training=None):
        features, images = {}, {}
        for part in PART_NAMES:
            x = patches[part]
            if part == "eye_right":
                x = tf.concat([patches["eye_right"], patches["eye_left"]], axis=-1)
            features[part], images[part] = self.nets[part](x, training=training)
        return features, images

    def get_config(self):
        return {**super().get_config(), "width": self.width, "norm": self.norm}
