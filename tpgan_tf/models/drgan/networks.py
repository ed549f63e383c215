"""The DR-GAN networks of a config: builders, parameter counts, D's identity path (what
identity pre-training trains) and the copy of D's identity trunk into G_enc after it (spec
4.2).

    nets = build_networks(cfg)          # {"encoder", "decoder", "discriminator"}, built
    parameter_counts(nets, cfg)         # {"encoder", "decoder", "discriminator", "total"}
    identity_path(nets["discriminator"])  # the variables of the pre-training optimiser
    copy_identity_trunk(nets["discriminator"], nets["encoder"])
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.core.task import count_params
from tpgan_tf.models.drgan.config import DrganConfig, norm_kwargs
from tpgan_tf.models.drgan.decoder import Decoder
from tpgan_tf.models.drgan.discriminator import (OFFICIAL_BRANCH_ROWS, OFFICIAL_TRUNK_ROWS,
                                                 Discriminator)
from tpgan_tf.models.drgan.encoder import CASIA_ROWS, Encoder


def _activation(name: str):
    return None if name == "none" else name


def build_encoder(cfg: DrganConfig) -> Encoder:
    m = cfg.model
    return Encoder(width=m.width, last_activation=_activation(m.last_activation),
                   feature_dropout=m.feature_dropout, confidence=m.confidence,
                   norm=norm_kwargs(cfg), name="encoder")


def build_decoder(cfg: DrganConfig) -> Decoder:
    m = cfg.model
    return Decoder(image_size=cfg.data.image_size, width=m.width, variant=m.decoder,
                   pose_dim=m.pose_dim, pose_embedding_dim=m.pose_embedding_dim,
                   z_dim=m.z_dim, fc_dropout=m.decoder_dropout, norm=norm_kwargs(cfg),
                   name="decoder")


def build_discriminator(cfg: DrganConfig) -> Discriminator:
    m = cfg.model
    return Discriminator(width=m.width, variant=m.discriminator,
                         num_identities=m.num_identities, pose_dim=m.pose_dim,
                         identity_head=m.identity_head,
                         last_activation=_activation(m.last_activation),
                         head_dropout=m.head_dropout, norm=norm_kwargs(cfg),
                         name="discriminator")


def build_networks(cfg: DrganConfig, batch_size: int = 1) -> dict:
    """{"encoder", "decoder", "discriminator"} of cfg, every weight created by one call on
    zeros of batch_size (training=False, so no BN statistic moves)."""
    enc, dec, disc = build_encoder(cfg), build_decoder(cfg), build_discriminator(cfg)
    size = cfg.data.image_size
    images = tf.zeros([batch_size, size, size, 3])
    features = enc(images, training=False)["features"]
    dec({"features": features, "pose": tf.zeros([batch_size, cfg.model.pose_dim]),
         "z": tf.zeros([batch_size, cfg.model.z_dim])}, training=False)
    disc(images, training=False)
    return {"encoder": enc, "decoder": dec, "discriminator": disc}


def parameter_counts(networks: dict, cfg: DrganConfig) -> dict:
    """{"encoder", "decoder", "discriminator", "total"}: trainable parameters (BN moving
    statistics excluded) of the built networks of cfg (build_networks)."""
    counts = {name: count_params(networks[name].trainable_weights)
              for name in ("encoder", "decoder", "discriminator")}
    counts["total"] = sum(counts.values())
    return counts


def expected_parameter_counts(cfg: DrganConfig) -> dict:
    """The spec gives no parameter counts (the tests compute them by hand from the tables of
    spec 2): always {}."""
    return {}


def identity_path(disc: Discriminator) -> list:
    """D's variables that identity pre-training trains (spec 4.2): all but the pose and the
    adversarial heads; for "cvpr" / "tpami" the one FC holds every head, so it is included."""
    parts = [disc.trunk]
    if disc.variant == "official":
        parts += [disc.identity_branch, disc.identity_out]
    else:
        parts += [disc.fc] + ([disc.identity_out] if hasattr(disc, "identity_out") else [])
    return [v for part in parts for v in part.trainable_variables]


def _unit_pairs(disc: Discriminator, enc: Encoder):
    """(D unit, G_enc unit) pairs of the identity path, by row (spec 4.2: g_k* <- d_k*)."""
    if disc.variant == "official":
        d_units = ([getattr(disc.trunk, n) for n, _, _ in OFFICIAL_TRUNK_ROWS]
                   + [getattr(disc.identity_branch, n) for n, _, _ in OFFICIAL_BRANCH_ROWS])
    else:
        d_units = [getattr(disc.trunk, n) for n, _, _ in CASIA_ROWS]
    e_units = [getattr(enc.trunk, n) for n, _, _ in CASIA_ROWS]
    return list(zip(d_units, e_units))


def copy_identity_trunk(disc: Discriminator, enc: Encoder) -> int:
    """Copies D's identity path (trunk rows, and for "official" the identity branch's two
    convs as Conv52/Conv53) into the encoder's 14 rows: the official transfer after identity
    pre-training (spec 4.2). Conv kernels, biases, BN gamma/beta and moving statistics are
    copied; the encoder's omega branch, D's heads and the decoder are untouched. Both
    networks must be built. Returns the number of variables copied. ValueError when a shape
    differs (e.g. the paper's 321-channel Conv53 of "channel" confidence, or other widths).
    """
    copied = 0
    for d_unit, e_unit in _unit_pairs(disc, enc):
        d_vars, e_vars = d_unit.weights, e_unit.weights
        if not d_vars or not e_vars:
            raise ValueError(f"copy_identity_trunk: {d_unit.name} or {e_unit.name} is not built")
        for dv, ev in zip(d_vars, e_vars):
            if tuple(dv.shape) != tuple(ev.shape):
                raise ValueError(f"copy_identity_trunk: {dv.path} has shape {tuple(dv.shape)} "
                                 f"but {ev.path} has {tuple(ev.shape)}")
            ev.assign(dv)
            copied += 1
    return copied
