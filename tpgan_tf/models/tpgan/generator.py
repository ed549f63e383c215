"""The TP-GAN generator: global pathway + local pathway + fusion (tpgan spec 2).

Inputs are a dict:
    image      [B, 128, 128, 3]  profile face in [0, 1) (spec 1.1: uint8 / 256), mirrored to
                                 face image-right (positive yaw)
    eye_left   [B, 40, 40, 3]    profile patches (spec 1.4)
    eye_right  [B, 40, 40, 3]
    nose       [B, 32, 40, 3]
    mouth      [B, 32, 48, 3]
    z          [B, 100]          noise, N(0, 0.02^2) (spec 2.5); an explicit input so that a
                                 graph is deterministic given z. If absent it is drawn here.
Outputs are a dict:
    img128, img64, img32          the frontal at three scales (tanh heads, spec 1.1 quirk)
    eye_left, eye_right, nose, mouth   the local images (patch-sized, tanh)
    fused_image [B,128,128,3]     the local images fused on the template canvas (spec 2.3)
    identity_logits [B, 340]      identity head (dropout only when training=True)
    featvec [B, 256]              the identity-preserving bottleneck feature
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.models.tpgan.fusion import fuse_parts
from tpgan_tf.models.tpgan.global_pathway import Decoder, Encoder, IdentityHead
from tpgan_tf.faces.image_ops import legacy_resize, mirror_concat
from tpgan_tf.models.tpgan.local_pathway import LocalPathway
from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES


def sample_z(batch_size, z_dim: int = 100, stddev: float = 0.02, seed=None) -> tf.Tensor:
    """Spec 2.5 noise: [batch_size, z_dim] ~ N(0, stddev^2)."""
    return tf.random.normal([batch_size, z_dim], stddev=stddev, seed=seed)


def input_shapes(batch_size=None, z_dim: int = 100) -> dict:
    """Shapes of the generator's input dict (for building and for export signatures)."""
    shapes = {"image": (batch_size, 128, 128, 3), "z": (batch_size, z_dim)}
    for name in PART_NAMES:
        part = PART_BY_NAME[name]
        shapes[name] = (batch_size, part.height, part.width, 3)
    return shapes


@keras.saving.register_keras_serializable(package="tpgan_tf")
class Generator(keras.Model):
    """TP-GAN generator (spec 2.1-2.8). See the module docstring for inputs and outputs."""

    def __init__(self, width: float = 1.0, z_dim: int = 100, z_stddev: float = 0.02,
                 num_identities: int = 340, identity_dropout: float = 0.7,
                 norm: dict | None = None, **kwargs):
        kwargs.setdefault("name", "generator")
        super().__init__(**kwargs)
        self.width, self.z_dim, self.z_stddev = width, z_dim, z_stddev
        self.num_identities, self.identity_dropout = num_identities, identity_dropout
        self.norm = dict(norm or {})
        self.encoder = Encoder(width, self.norm, name="encoder")
        self.identity_head = IdentityHead(num_identities, identity_dropout, name="identity_head")
        self.decoder = Decoder(width, self.norm, name="decoder")
        self.local = LocalPathway(width, self.norm, name="local_pathway")
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    def call(self, inputs, training=None):
        image = inputs["image"]
        z = inputs.get("z")
        if z is None:
            z = sample_z(tf.shape(image)[0], self.z_dim, self.z_stddev)
        # spec 1.1: mirror pairs (image ⊕ flip) at 128 (encoder input and decoder) and at the
        # 64/32 legacy-resized pyramid levels (= decimation by 2 and 4).
        pairs = {128: mirror_concat(image)}
        pairs[64] = mirror_concat(legacy_resize(image, 64))
        pairs[32] = mirror_concat(legacy_resize(image, 32))

        feats = self.encoder(pairs[128], training=training)
        logits = self.identity_head(feats["featvec"], training=training)
        local_features, local_images = self.local(
            {p: inputs[p] for p in PART_NAMES}, training=training)
        fused_features = fuse_parts(local_features)
        fused_images = fuse_parts(local_images)
        img128, img64, img32 = self.decoder(
            feats["featvec"], z, feats, pairs, fused_features, fused_images, training=training)
        return {"img128": img128, "img64": img64, "img32": img32, **local_images,
                "fused_image": fused_images, "identity_logits": logits,
                "featvec": feats["featvec"]}

    def build_for_batch(self, batch_size: int = 1) -> "Generator":
        """Creates every weight by running one batch of zeros through the model."""
        self(zeros_inputs(batch_size, self.z_dim), training=False)
        return self

    def get_config(self):
        return {**super().get_config(), "width": self.width, "z_dim": self.z_dim,
                "z_stddev": self.z_stddev, "num_identities": self.num_identities,
                "identity_dropout": self.identity_dropout, "norm": self.norm}


def zeros_inputs(batch_size: int = 1, z_dim: int = 100) -> dict:
    """A generator input dict of zeros, [batch_size, ...] each."""
    return {k: tf.zeros(v) for k, v in input_shapes(batch_size, z_dim).items()}
