"""The decoder G_dec (drgan spec 2.3): [f(x), pose code c, noise z] -> image in [-1, 1].

Two variants (`model.decoder`):
  "paper"   (ports kayamin / zhangjunh / Youngjung, identical tables): input concat[f, c, z],
            FC -> 6 x 6 x 320 (image / 16), no BN or activation on the FC output, then the 14
            transposed-conv rows below (four upsamplings).
  "official" (released code, `generator_decoder`): input concat[z, ELU(Dense(c -> 20)), f],
            FC -> 3 x 3 x 320 (image / 32), dropout (keep 0.6), reshape, BN, ELU, then the same
            rows with the first one strided (five upsamplings).
Every row: 3x3 transposed conv, SAME, BN + ELU; the last has 3 channels, tanh and no BN.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.config import scaled
from tpgan_tf.models.drgan.blocks import ConvStack, SeededDropout, dense, dr_batch_norm
from tpgan_tf.models.drgan.encoder import FEATURE_CHANNELS

# (paper name, stride, channels at width 1); official names and strides in the comments.
DECODER_ROWS = (
    ("fconv52", 1, 160),  # g_h4 (official: stride 2)
    ("fconv51", 1, 256),  # g_40
    ("fconv43", 2, 256),  # g_h32
    ("fconv42", 1, 128),  # g_h31
    ("fconv41", 1, 192),  # g_h30
    ("fconv33", 2, 192),  # g_h22
    ("fconv32", 1, 96),   # g_h21
    ("fconv31", 1, 128),  # g_h20
    ("fconv23", 2, 128),  # g_h12
    ("fconv22", 1, 64),   # g_h11
    ("fconv21", 1, 64),   # g_h10
    ("fconv13", 2, 64),   # g_h02
    ("fconv12", 1, 32),   # g_h01
    ("fconv11", 1, 3),    # g_h0: tanh, no BN
)
VARIANTS = ("paper", "official")
# Total upsampling of each variant: the image size must be a multiple of it.
UPSAMPLING = {"paper": 16, "official": 32}
Z_DISTRIBUTIONS = ("uniform", "normal")


def decoder_rows(variant: str) -> tuple:
    """The row table of a variant (the official one strides its first row)."""
    if variant not in VARIANTS:
        raise ValueError(f"decoder variant must be one of {VARIANTS}, got {variant!r}")
    if variant == "paper":
        return DECODER_ROWS
    (name, _, channels), rest = DECODER_ROWS[0], DECODER_ROWS[1:]
    return ((name, 2, channels),) + rest


def sample_z(batch_size, z_dim: int, distribution: str = "uniform", scale: float = 1.0,
             seed=None):
    """Noise z [batch_size, z_dim], float32: U(-scale, scale) (paper, code: scale 1) or
    N(0, scale^2) (zhangjunh: 0.3). seed: int, keras.random.SeedGenerator or None."""
    if distribution == "uniform":
        return keras.random.uniform([batch_size, z_dim], -scale, scale, seed=seed)
    if distribution == "normal":
        return keras.random.normal([batch_size, z_dim], stddev=scale, seed=seed)
    raise ValueError(f"z distribution must be one of {Z_DISTRIBUTIONS}, got {distribution!r}")


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class Decoder(keras.Model):
    """G_dec: dict {features [B, N^f], pose [B, pose_dim], z [B, z_dim]} -> image
    [B, image_size, image_size, 3] from tanh.

    Args:
      image_size: output size (multiple of 16 for "paper", 32 for "official").
      width: channel multiplier (N^f = scaled(320, width)).
      variant: "paper" | "official" (module docstring).
      pose_dim: N^p for one-hot pose codes, 1 for the official yaw in radians.
      pose_embedding_dim: 0 = the code enters the concat as is (paper); > 0 = Dense + ELU to
        that size first (official: 20).
      z_dim: N^z.
      fc_dropout: dropout on the FC output, official variant only (0.4 = keep 0.6).
      norm: the BN dict of tpgan_tf.core.layers.batch_norm (default bn_mode "inference").
    """

    def __init__(self, image_size: int = 96, width: float = 1.0, variant: str = "paper",
                 pose_dim: int = 9, pose_embedding_dim: int = 0, z_dim: int = 50,
                 fc_dropout: float = 0.0, norm: dict | None = None, **kwargs):
        kwargs.setdefault("name", "decoder")
        super().__init__(**kwargs)
        rows = decoder_rows(variant)
        if image_size % UPSAMPLING[variant]:
            raise ValueError(f"decoder variant {variant!r} needs an image size that is a "
                             f"multiple of {UPSAMPLING[variant]}, got {image_size}")
        if pose_dim < 1 or z_dim < 0 or pose_embedding_dim < 0:
            raise ValueError(f"need pose_dim >= 1, z_dim >= 0, pose_embedding_dim >= 0; got "
                             f"{pose_dim}, {z_dim}, {pose_embedding_dim}")
        if variant == "paper" and fc_dropout:
            raise ValueError(f"fc_dropout={fc_dropout}: only the official decoder has dropout")
        self.image_size, self.width, self.variant = image_size, width, variant
        self.pose_dim, self.pose_embedding_dim, self.z_dim = pose_dim, pose_embedding_dim, z_dim
        self.fc_dropout = fc_dropout
        self.norm = dict(norm or {})
        self.start_size = image_size // UPSAMPLING[variant]
        self.start_channels = scaled(FEATURE_CHANNELS, width)
        self.pose_embedding = (dense(pose_embedding_dim, name="pose_embedding")
                               if pose_embedding_dim else None)
        self.fc = dense(self.start_size * self.start_size * self.start_channels, name="fc")
        if variant == "official":
            self.fc_drop = SeededDropout(fc_dropout, name="fc_dropout")
            self.fc_bn = dr_batch_norm(self.norm, name="fc_bn")
        self.rows = ConvStack(rows, width, transpose=True, last_activation="tanh",
                              last_use_bn=False, last_channels=3, norm=self.norm, name="rows")
        self.built = True  # a container (blocks.py docstring)

    def layer_outputs(self, inputs, training=None) -> dict:
        """Every intermediate output: {"input": [B, N^f + P + N^z], "fc": [B, s, s, 320w],
        row name: [B, h, w, c], ...}; the last row is the image."""
        f, pose, z = inputs["features"], inputs["pose"], inputs["z"]
        if pose.shape[-1] is not None and pose.shape[-1] != self.pose_dim:
            raise ValueError(f"decoder expects a pose code of size {self.pose_dim}, got shape "
                             f"{pose.shape}")
        pose = keras.ops.cast(pose, self.compute_dtype)
        if self.pose_embedding is not None:
            pose = keras.ops.elu(self.pose_embedding(pose))
        z = keras.ops.cast(z, self.compute_dtype)
        f = keras.ops.cast(f, self.compute_dtype)
        parts = [f, pose, z] if self.variant == "paper" else [z, pose, f]
        x = keras.ops.concatenate(parts, axis=-1)
        out = {"input": x}
        h = self.fc(x)
        if self.variant == "official":
            h = self.fc_drop(h, training=training)
        # NHWC reshape of the FC output, as TF's reshape to [B, s, s, C].
        h = tf.reshape(h, [-1, self.start_size, self.start_size, self.start_channels])
        if self.variant == "official":
            h = keras.ops.elu(self.fc_bn(h, training=training))
        out["fc"] = h
        out.update(self.rows(h, training=training, return_all=True))
        return out

    def call(self, inputs, training=None):
        return self.layer_outputs(inputs, training=training)[DECODER_ROWS[-1][0]]

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "width": self.width,
                "variant": self.variant, "pose_dim": self.pose_dim,
                "pose_embedding_dim": self.pose_embedding_dim, "z_dim": self.z_dim,
                "fc_dropout": self.fc_dropout, "norm": self.norm}
