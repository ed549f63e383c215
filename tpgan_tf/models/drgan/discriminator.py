"""The discriminator D (drgan spec 2.4): its own CASIA trunk (encoder.py's table, own
weights) and one of three head layouts (`model.discriminator`):

  "cvpr"     trunk (14 rows) -> AvgPool -> one FC to N^d + 1 + P, split into
             identity [N^d + 1] (last class = "fake") and pose [P] (CVPR 2017).
  "tpami"    trunk (14 rows) -> AvgPool -> one FC to N^d + 1 + P, split into identity [N^d],
             real/fake logit [1] and pose [P] (TPAMI; kayamin's order). With an AM-softmax
             identity head the FC has 1 + P outputs and the identity comes from AMSoftmaxHead.
  "official" shared trunk Conv11..Conv51 (`d_k01`..`d_k40`, 6x6x256 at 96, BN + ELU after
             every conv, Conv51 included), then three branches, each Conv 160 + BN + ELU ->
             Conv 320 + BN (last activation; official: none) -> AvgPool:
               identity:    -> AM-softmax cosines (or an FC for plain softmax), no dropout
               pose:        -> dropout (0.4) -> Dense(P)   (P = 1: yaw regression, radians)
               adversarial: -> dropout (0.4) -> Dense(1)   real/fake logit

P is N^p for one-hot pose codes (pose logits) or 1 for yaw regression.
Outputs: dict identity [B, K] (logits, or cosines with identity_head "am_softmax"), pose
[B, P], real_fake [B, 1] (not for "cvpr"), features [B, N^f] (the pooled 320-d vector the
identity is read from).
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.models.drgan.am_softmax import AMSoftmaxHead
from tpgan_tf.models.drgan.blocks import ConvStack, SeededDropout, dense, global_average_pool
from tpgan_tf.models.drgan.encoder import CASIA_ROWS, feature_dim

VARIANTS = ("cvpr", "tpami", "official")
IDENTITY_HEADS = ("softmax", "am_softmax")
OFFICIAL_TRUNK_ROWS = CASIA_ROWS[:12]  # conv11 .. conv51 (d_k01 .. d_k40)
OFFICIAL_BRANCH_ROWS = CASIA_ROWS[12:]  # conv52, conv53 (each branch's own pair)


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class Discriminator(keras.Model):
    """D: images [B, H, W, 3] in [-1, 1] -> dict of head outputs (module docstring).

    Args:
      width: channel multiplier.
      variant: "cvpr" | "tpami" | "official".
      num_identities: N^d (the "cvpr" identity head has N^d + 1 classes).
      pose_dim: N^p (one-hot codes: pose logits) or 1 (yaw regression).
      identity_head: "softmax" | "am_softmax" (not with "cvpr": its fake class is no
        identity, a cosine margin head makes no sense there).
      last_activation: activation of Conv53 (`k42`): the trunk's last row ("cvpr" /
        "tpami") or each branch's last row ("official"): "elu" (paper) or None (official:
        BN, no activation). The official shared trunk ends at Conv51 (`d_k40`), which has
        BN + ELU like every other row (spec 2.1, 2.4 [CODE]: only k42 has no activation).
      head_dropout: dropout before the FC heads (official: 0.4 before the pose and the
        adversarial Dense; "cvpr"/"tpami": before the one FC; never before AM-softmax).
      norm: the BN dict of tpgan_tf.core.layers.batch_norm (default bn_mode "inference").
    """

    def __init__(self, width: float = 1.0, variant: str = "cvpr", num_identities: int = 200,
                 pose_dim: int = 9, identity_head: str = "softmax",
                 last_activation: str | None = "elu", head_dropout: float = 0.0,
                 norm: dict | None = None, **kwargs):
        kwargs.setdefault("name", "discriminator")
        super().__init__(**kwargs)
        if variant not in VARIANTS:
            raise ValueError(f"discriminator variant must be one of {VARIANTS}, got {variant!r}")
        if identity_head not in IDENTITY_HEADS:
            raise ValueError(f"identity_head must be one of {IDENTITY_HEADS}, got "
                             f"{identity_head!r}")
        if variant == "cvpr" and identity_head == "am_softmax":
            raise ValueError("identity_head='am_softmax' needs a separate real/fake output "
                             "(variant 'tpami' or 'official'), got variant 'cvpr'")
        if num_identities < 1 or pose_dim < 1:
            raise ValueError(f"need num_identities >= 1 and pose_dim >= 1, got "
                             f"{num_identities}, {pose_dim}")
        self.width, self.variant, self.num_identities = width, variant, num_identities
        self.pose_dim, self.identity_head = pose_dim, identity_head
        self.last_activation, self.head_dropout = last_activation, head_dropout
        self.norm = dict(norm or {})
        self.feature_dim = feature_dim(width)
        stack = lambda rows, name, last=last_activation: ConvStack(  # noqa: E731
            rows, width, last_activation=last, last_channels=None, norm=self.norm, name=name)
        am = identity_head == "am_softmax"
        if variant == "official":
            # d_k40 (Conv51) ends the shared trunk but is no last conv: ELU (spec 2.1, 2.4).
            self.trunk = stack(OFFICIAL_TRUNK_ROWS, "trunk", last="elu")
            self.identity_branch = stack(OFFICIAL_BRANCH_ROWS, "identity_branch")
            self.pose_branch = stack(OFFICIAL_BRANCH_ROWS, "pose_branch")
            self.adversarial_branch = stack(OFFICIAL_BRANCH_ROWS, "adversarial_branch")
            self.identity_out = (AMSoftmaxHead(num_identities, name="identity_head") if am
                                 else dense(num_identities, name="identity_head"))
            self.pose_dropout = SeededDropout(head_dropout, name="pose_dropout")
            self.pose_out = dense(pose_dim, name="pose_head")
            self.adversarial_dropout = SeededDropout(head_dropout, name="adversarial_dropout")
            self.adversarial_out = dense(1, name="adversarial_head")
        else:
            self.trunk = stack(CASIA_ROWS, "trunk")
            self.head_drop = SeededDropout(head_dropout, name="head_dropout")
            if variant == "cvpr":
                self.fc = dense(num_identities + 1 + pose_dim, name="fc")
            elif am:
                self.fc = dense(1 + pose_dim, name="fc")
                self.identity_out = AMSoftmaxHead(num_identities, name="identity_head")
            else:
                self.fc = dense(num_identities + 1 + pose_dim, name="fc")
        self.built = True  # a container (blocks.py docstring)

    # ------------------------------------------------------------------ forward pieces
    def _heads_from_pooled(self, pooled, training):
        """cvpr / tpami: pooled [B, N^f] -> the head dict."""
        x = self.head_drop(pooled, training=training)
        logits = self.fc(x)
        k = self.num_identities
        if self.variant == "cvpr":
            return {"identity": logits[:, :k + 1], "pose": logits[:, k + 1:],
                    "features": pooled}
        if self.identity_head == "am_softmax":
            return {"identity": self.identity_out(pooled), "real_fake": logits[:, :1],
                    "pose": logits[:, 1:], "features": pooled}
        return {"identity": logits[:, :k], "real_fake": logits[:, k:k + 1],
                "pose": logits[:, k + 1:], "features": pooled}

    def _official_identity(self, trunk_out, training, collect=None):
        rows = self.identity_branch(trunk_out, training=training, return_all=True)
        pooled = global_average_pool(rows[OFFICIAL_BRANCH_ROWS[-1][0]])
        if collect is not None:
            collect.update({f"identity_branch/{k}": v for k, v in rows.items()})
        return {"identity": self.identity_out(pooled), "features": pooled}

    def _official_pose_adversarial(self, trunk_out, training, collect=None):
        last = OFFICIAL_BRANCH_ROWS[-1][0]
        pose_rows = self.pose_branch(trunk_out, training=training, return_all=True)
        adv_rows = self.adversarial_branch(trunk_out, training=training, return_all=True)
        if collect is not None:
            collect.update({f"pose_branch/{k}": v for k, v in pose_rows.items()})
            collect.update({f"adversarial_branch/{k}": v for k, v in adv_rows.items()})
        pose = self.pose_out(self.pose_dropout(global_average_pool(pose_rows[last]),
                                               training=training))
        adv = self.adversarial_out(self.adversarial_dropout(
            global_average_pool(adv_rows[last]), training=training))
        return {"pose": pose, "real_fake": adv}

    # ------------------------------------------------------------------ public
    def layer_outputs(self, images, training=None) -> dict:
        """Every intermediate output ({trunk row: [B, h, w, c], branch/row: ..., "avgpool"})
        plus the head dict (tests, summaries)."""
        rows = self.trunk(images, training=training, return_all=True)
        out = dict(rows)
        if self.variant == "official":
            trunk_out = rows[OFFICIAL_TRUNK_ROWS[-1][0]]
            heads = self._official_identity(trunk_out, training, out)
            heads.update(self._official_pose_adversarial(trunk_out, training, out))
        else:
            pooled = global_average_pool(rows[CASIA_ROWS[-1][0]])
            out["avgpool"] = pooled
            heads = self._heads_from_pooled(pooled, training)
        out.update(heads)
        return out

    def call(self, images, training=None):
        out = self.layer_outputs(images, training=training)
        keys = ("identity", "pose", "real_fake", "features")
        return {k: out[k] for k in keys if k in out}

    def call_real_fake(self, real, fake, training=None):
        """D on a real and a fake batch with separate BN statistics (drgan spec 2.4, official
        `discriminator`): returns (real head dict, fake head dict).

        "official": the trunk and the identity branch run on each half separately; the pose
        and adversarial branches run on the re-concatenated batch [real; fake] (their BN
        sees both). "cvpr" / "tpami": the whole D runs on each half separately.
        real: [Br, H, W, 3], fake: [Bf, H, W, 3].
        """
        if self.variant != "official":
            return self(real, training=training), self(fake, training=training)
        trunk_real = self.trunk(real, training=training)
        trunk_fake = self.trunk(fake, training=training)
        id_real = self._official_identity(trunk_real, training)
        id_fake = self._official_identity(trunk_fake, training)
        joint = self._official_pose_adversarial(
            tf.concat([trunk_real, trunk_fake], axis=0), training)
        n_real = tf.shape(trunk_real)[0]
        real_out = {**id_real, **{k: v[:n_real] for k, v in joint.items()}}
        fake_out = {**id_fake, **{k: v[n_real:] for k, v in joint.items()}}
        return real_out, fake_out

    def get_config(self):
        return {**super().get_config(), "width": self.width, "variant": self.variant,
                "num_identities": self.num_identities, "pose_dim": self.pose_dim,
                "identity_head": self.identity_head, "last_activation": self.last_activation,
                "head_dropout": self.head_dropout, "norm": self.norm}
