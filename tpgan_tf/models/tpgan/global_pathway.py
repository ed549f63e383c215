"""Global pathway of the original `generator`/`decoder` (spec 2.4-2.6): encoder, identity head, decoder."""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.config import scaled
from tpgan_tf.faces.image_ops import legacy_resize
from tpgan_tf.models.tpgan.blocks import ConvBlock, ResBlock, linear, mfm


@keras.saving.register_keras_serializable(package="tpgan_tf")
class Encoder(keras.layers.Layer):
    """Spec 2.4. Input [B, 128, 128, 6] (image ⊕ its left-right flip).

    Returns a dict: feat128 [B,128,128,64w], feat64 [B,64,64,64w], feat32 [B,32,32,128w],
    feat16 [B,16,16,256w], feat8 [B,8,8,512w] and featvec [B, 256w] (maxout of the 512w `feature`).
    """

    def __init__(self, width: float = 1.0, norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.norm = dict(norm or {})
        c = lambda n: scaled(n, width)  # noqa: E731
        n = self.norm
        self.conv0 = ConvBlock(c(64), 7, 1, use_bn=False, norm=n, name="g_conv0")
        self.conv0_res = ResBlock(7, n, name="g_conv0_res")
        self.conv1 = ConvBlock(c(64), 5, 2, norm=n, name="g_conv1")
        self.conv1_res = ResBlock(5, n, name="g_conv1_res")
        self.conv2 = ConvBlock(c(128), 3, 2, norm=n, name="g_conv2")
        self.conv2_res = ResBlock(3, n, name="g_conv2_res")
        self.conv3 = ConvBlock(c(256), 3, 2, norm=n, name="g_conv3")
        self.conv3_res = ResBlock(3, n, name="g_conv3_res")
        self.conv4 = ConvBlock(c(512), 3, 2, norm=n, name="g_conv4")
        # One attribute per block (not a list): tf.train.Checkpoint only follows attributes.
        self.conv4_res1 = ResBlock(3, n, name="g_conv4_res")
        self.conv4_res2 = ResBlock(3, n, name="g_conv4_res2")
        self.conv4_res3 = ResBlock(3, n, name="g_conv4_res3")
        self.conv4_res4 = ResBlock(3, n, name="g_conv4_res4")
        self.feature = linear(c(512), bias=0.1, name="feature")  # spec 2.1: bias 0.1
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    @property
    def conv4_res(self):
        return [self.conv4_res1, self.conv4_res2, self.conv4_res3, self.conv4_res4]

    def call(self, x, training=None):
        t = training
        feat128 = self.conv0_res(self.conv0(x), training=t)
        feat64 = self.conv1_res(self.conv1(feat128, training=t), training=t)
        feat32 = self.conv2_res(self.conv2(feat64, training=t), training=t)
        feat16 = self.conv3_res(self.conv3(feat32, training=t), training=t)
        feat8 = self.conv4(feat16, training=t)
        for res in self.conv4_res:
            feat8 = res(feat8, training=t)
        flat = tf.reshape(feat8, [tf.shape(feat8)[0], 8 * 8 * feat8.shape[-1]])  # NHWC order
        featvec = mfm(self.feature(flat))  # spec 2.4: first 256 vs last 256
        return {"feat128": feat128, "feat64": feat64, "feat32": feat32, "feat16": feat16,
                "feat8": feat8, "featvec": featvec}

    def get_config(self):
        return {**super().get_config(), "width": self.width, "norm": self.norm}


@keras.saving.register_keras_serializable(package="tpgan_tf")
class IdentityHead(keras.layers.Layer):
    """Spec 2.5 `FeaturePredict`: dropout (rate 0.7, training only) -> 340 logits (bias 0.1).

    Input featvec [B, 256w] -> logits [B, num_identities].
    """

    def __init__(self, num_identities: int = 340, dropout: float = 0.7, **kwargs):
        super().__init__(**kwargs)
        self.num_identities, self.dropout_rate = num_identities, dropout
        # The dropout's random state, named explicitly: Keras names SeedGenerators from a
        # process-wide counter ("seed_generator_3"), so its variable path would depend on what
        # else the process built before, and checkpoints are keyed by variable path.
        self.dropout_seed = keras.random.SeedGenerator(name=f"{self.name}_dropout_seed")
        self.logits = linear(num_identities, bias=0.1, name="idenLinear")
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    def call(self, featvec, training=None):
        if training and self.dropout_rate > 0:
            featvec = keras.random.dropout(featvec, self.dropout_rate, seed=self.dropout_seed)
        return self.logits(featvec)

    def get_config(self):
        return {**super().get_config(), "num_identities": self.num_identities,
                "dropout": self.dropout_rate}


@keras.saving.register_keras_serializable(package="tpgan_tf")
class Decoder(keras.layers.Layer):
    """Spec 2.6: the "initial" branch from [featvec ⊕ z], then the 8 -> 128 trunk.

    call(featvec [B,256w], z [B,100], feats (the Encoder dict), pairs {32, 64, 128: image ⊕ flip,
    [B,s,s,6]}, fused_features [B,128,128,64w], fused_images [B,128,128,3])
    -> (img128, img64, img32), each [B, s, s, 3] from tanh.
    """

    def __init__(self, width: float = 1.0, norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.norm = dict(norm or {})
        c = lambda n: scaled(n, width)  # noqa: E731
        n = self.norm
        relu_deconv = lambda ch, s, name: ConvBlock(  # noqa: E731
            ch, 3, s, transpose=True, use_bn=False, activation="relu", norm=n, name=name)
        bn_deconv = lambda ch, name: ConvBlock(  # noqa: E731
            c(ch), 3, 2, transpose=True, activation="relu", norm=n, name=name)
        self.initial_channels = c(64)
        # spec 2.6 "initial" branch: 356 -> 4096 (bias 0.1) -> 8x8x64 -> 32 -> 64 -> 128.
        self.initial8 = linear(8 * 8 * self.initial_channels, bias=0.1, name="initial8")
        self.initial32 = relu_deconv(c(32), 4, "initial32")  # stride 4: 8 -> 32
        self.initial64 = relu_deconv(c(16), 2, "initial64")
        self.initial128 = relu_deconv(c(8), 2, "initial128")
        # 8x8 stage: 2x2 residual blocks (SAME pads bottom/right only, spec 2.1).
        self.select8 = ResBlock(2, n, name="select8_res_1")
        self.dec8_res1 = ResBlock(2, n, name="dec8_res1")
        self.dec8_res2 = ResBlock(2, n, name="dec8_res2")
        self.deconv16 = bn_deconv(512, "g_deconv16")
        self.select16 = ResBlock(3, n, name="select16_res_1")
        self.dec16_res1 = ResBlock(3, n, name="dec16_res1")
        self.dec16_res2 = ResBlock(3, n, name="dec16_res2")
        self.deconv32 = bn_deconv(256, "g_deconv32")
        self.select32 = ResBlock(3, n, name="select32_res_1")
        self.dec32_res1 = ResBlock(3, n, name="dec32_res1")
        self.dec32_res2 = ResBlock(3, n, name="dec32_res2")
        self.check32 = ConvBlock(3, 3, 1, use_bn=False, activation="tanh", name="check_img32")
        self.deconv64 = bn_deconv(128, "g_deconv64")
        self.select64 = ResBlock(5, n, name="select64_res_1")
        self.dec64_res1 = ResBlock(3, n, name="dec64_res1")
        self.dec64_res2 = ResBlock(3, n, name="dec64_res2")
        self.check64 = ConvBlock(3, 3, 1, use_bn=False, activation="tanh", name="check_img64")
        self.deconv128 = bn_deconv(64, "g_deconv128")
        self.select128 = ResBlock(7, n, name="select128_res_1")
        self.dec128_res1 = ResBlock(5, n, name="dec128_res1")
        self.recon128_conv = ConvBlock(c(64), 5, 1, norm=n, name="recon128_conv")
        self.dec128_res2 = ResBlock(3, n, name="dec128_res2")
        self.recon128_conv2 = ConvBlock(c(32), 3, 1, norm=n, name="recon128_conv2")
        self.check128 = ConvBlock(3, 3, 1, use_bn=False, activation="tanh", name="check_img128")
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    @staticmethod
    def _chain(blocks, x, training):
        for block in blocks:
            x = block(x, training=training)
        return x

    def call(self, featvec, z, feats, pairs, fused_features, fused_images, training=None):
        t = training
        cat = lambda *xs: tf.concat(list(xs), axis=-1)  # noqa: E731
        code = cat(featvec, tf.cast(z, featvec.dtype))
        initial8 = tf.nn.relu(tf.reshape(self.initial8(code),
                                         [-1, 8, 8, self.initial_channels]))
        initial32 = self.initial32(initial8)
        initial64 = self.initial64(initial32)
        initial128 = self.initial128(initial64)

        x8 = self.select8(cat(initial8, feats["feat8"]), training=t)
        x8 = self._chain((self.dec8_res1, self.dec8_res2), x8, t)  # reconstruct8

        d16 = self.deconv16(x8, training=t)
        s16 = self.select16(feats["feat16"], training=t)
        x16 = self._chain((self.dec16_res1, self.dec16_res2), cat(d16, s16), t)  # reconstruct16

        d32 = self.deconv32(x16, training=t)
        s32 = self.select32(cat(feats["feat32"], pairs[32], initial32), training=t)
        x32 = self._chain((self.dec32_res1, self.dec32_res2), cat(d32, s32), t)  # reconstruct32
        img32 = self.check32(x32)

        d64 = self.deconv64(x32, training=t)
        s64 = self.select64(cat(feats["feat64"], pairs[64], initial64), training=t)
        # spec 2.6: gradient flows through the upsampled img32 (not stopped).
        x64 = self._chain((self.dec64_res1, self.dec64_res2), cat(d64, s64, legacy_resize(img32, 64)), t)
        img64 = self.check64(x64)

        d128 = self.deconv128(x64, training=t)
        s128 = self.select128(cat(feats["feat128"], initial128, pairs[128]), training=t)
        x128 = self.dec128_res1(
            cat(d128, s128, fused_features, fused_images, legacy_resize(img64, 128)), training=t)
        x128 = self.recon128_conv(x128, training=t)
        x128 = self.dec128_res2(x128, training=t)
        x128 = self.recon128_conv2(x128, training=t)
        img128 = self.check128(x128)
        return img128, img64, img32

    def get_config(self):
        return {**super().get_config(), "width": self.width, "norm": self.norm}
