"""The CASIA-Net-style encoder G_enc (drgan spec 2.1): face image -> identity feature f(x).

Rows of spec 2.1's table (paper name, official code name, stride, channels at width 1):
all 3x3 convs with SAME padding, BN + ELU after every conv; the last (Conv53) either with
ELU (paper / ports) or with BN and no activation (official code, `last_activation=None`).
The same table is the discriminator's trunk (discriminator.py, own weights).

    96 x 96 x 3 -> ... -> Conv53 6 x 6 x 320 -> AvgPool -> f in R^320 (N^f = 320)
    (128 input: 8 x 8 before the pool; any multiple of 16 works.)
"""
from __future__ import annotations

import keras

from tpgan_tf.core.config import scaled
from tpgan_tf.models.drgan.blocks import ConvStack, SeededDropout, global_average_pool
from tpgan_tf.models.drgan.confidence import ConfidenceBranch

# (paper name, stride, channels at width 1); the official code's names in the comments.
CASIA_ROWS = (
    ("conv11", 1, 32),   # g_k01
    ("conv12", 1, 64),   # g_k02
    ("conv21", 2, 64),   # g_k10
    ("conv22", 1, 64),   # g_k11
    ("conv23", 1, 128),  # g_k12
    ("conv31", 2, 128),  # g_k20
    ("conv32", 1, 96),   # g_k21
    ("conv33", 1, 192),  # g_k22
    ("conv41", 2, 192),  # g_k30
    ("conv42", 1, 128),  # g_k31
    ("conv43", 1, 256),  # g_k32
    ("conv51", 2, 256),  # g_k40
    ("conv52", 1, 160),  # g_k41
    ("conv53", 1, 320),  # g_k42 (= gfc_dim, N^f); 321 with the paper's confidence channel
)
FEATURE_CHANNELS = 320  # N^f at width 1 (drgan spec 2.1)
DOWNSAMPLING = 16  # four stride-2 rows: image size must be a multiple of 16
CONFIDENCE_MODES = ("none", "channel", "branch")


def feature_dim(width: float = 1.0) -> int:
    """N^f of a network of width multiplier `width` (320 at width 1)."""
    return scaled(FEATURE_CHANNELS, width)


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class Encoder(keras.Model):
    """G_enc: images [B, H, W, 3] in [-1, 1] (H = W, a multiple of 16) -> dict
        features [B, N^f]  f(x), after the optional dropout (training only)
        omega    [B, 1]    confidence in (0, 1); ones when confidence == "none"

    Args:
      width: channel multiplier (tpgan_tf.core.config.scaled).
      last_activation: "elu" (paper, ports) or None (official: Conv53 has BN, no activation).
      feature_dropout: dropout rate on f (official 0.4 = keep 0.6; paper 0).
      confidence: "none" | "channel" (paper: a 321st channel of Conv53) | "branch"
        (official: a 1-channel conv branch on Conv52's output); see confidence.py.
      norm: the BN dict of tpgan_tf.core.layers.batch_norm (default bn_mode "inference").
    """

    def __init__(self, width: float = 1.0, last_activation: str | None = "elu",
                 feature_dropout: float = 0.0, confidence: str = "none",
                 norm: dict | None = None, **kwargs):
        kwargs.setdefault("name", "encoder")
        super().__init__(**kwargs)
        if confidence not in CONFIDENCE_MODES:
            raise ValueError(f"confidence must be one of {CONFIDENCE_MODES}, got {confidence!r}")
        self.width, self.last_activation = width, last_activation
        self.feature_dropout, self.confidence = feature_dropout, confidence
        self.norm = dict(norm or {})
        self.feature_dim = feature_dim(width)
        extra = 1 if confidence == "channel" else 0
        self.trunk = ConvStack(CASIA_ROWS, width, last_activation=last_activation,
                               last_channels=self.feature_dim + extra, norm=self.norm,
                               name="trunk")
        self.confidence_branch = (ConfidenceBranch(self.norm, name="confidence_branch")
                                  if confidence == "branch" else None)
        self.dropout = SeededDropout(feature_dropout, name="feature_dropout")
        self.built = True  # a container (blocks.py docstring)

    def layer_outputs(self, images, training=None) -> dict:
        """Every intermediate output: {row name: [B, h, w, c], "avgpool": [B, c],
        "features": [B, N^f], "omega": [B, 1]} (tests, summaries)."""
        rows = self.trunk(images, training=training, return_all=True)
        pooled = global_average_pool(rows["conv53"])
        if self.confidence == "channel":
            features = pooled[:, :self.feature_dim]
            omega = keras.ops.sigmoid(pooled[:, self.feature_dim:])
        elif self.confidence == "branch":
            features = pooled
            omega = self.confidence_branch(rows["conv52"], training=training)
        else:
            features = pooled
            omega = keras.ops.ones_like(pooled[:, :1])
        features = self.dropout(features, training=training)
        return {**rows, "avgpool": pooled, "features": features, "omega": omega}

    def call(self, images, training=None):
        out = self.layer_outputs(images, training=training)
        return {"features": out["features"], "omega": out["omega"]}

    def get_config(self):
        return {**super().get_config(), "width": self.width,
                "last_activation": self.last_activation,
                "feature_dropout": self.feature_dropout, "confidence": self.confidence,
                "norm": self.norm}
