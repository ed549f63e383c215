"""TP-GAN's networks built from its config, and their parameter counts (tpgan spec 2.7).

    nets = build_networks(cfg)            # {"generator", "discriminator"}, built
    parameter_counts(nets, cfg)           # per part; EXPECTED_COUNTS at width 1 (spec 2.7)
"""
from __future__ import annotations

from tpgan_tf.core.task import count_params
from tpgan_tf.models.tpgan.config import TpganConfig, norm_kwargs
from tpgan_tf.models.tpgan.discriminator import Discriminator
from tpgan_tf.models.tpgan.generator import Generator

# Spec 2.7: trainable parameters of the original (BN counted as gamma + beta).
EXPECTED_COUNTS = {"encoder": 39_420_672, "decoder": 49_197_818, "identity_head": 87_380,
                   "local_eye_left": 17_199_043, "local_eye_right": 17_200_771,
                   "local_nose": 17_199_043, "local_mouth": 17_199_043,
                   "local_total": 68_797_900, "generator": 157_503_770,
                   "discriminator": 13_357_441}


def build_generator(cfg: TpganConfig) -> Generator:
    """The generator of spec 2, its weights created (one batch of zeros)."""
    m = cfg.model
    return Generator(width=m.width, z_dim=m.z_dim, z_stddev=m.z_stddev,
                     num_identities=m.num_identities, identity_dropout=m.identity_dropout,
                     norm=norm_kwargs(cfg)).build_for_batch(1)


def build_discriminator(cfg: TpganConfig) -> Discriminator:
    """The discriminator of spec 3, its weights created."""
    return Discriminator(width=cfg.model.width, norm=norm_kwargs(cfg)).build_for_batch(1)


def build_networks(cfg: TpganConfig, for_inference: bool = False) -> dict:
    """{"generator", "discriminator"} (D too for inference: a checkpoint restores by path,
    and D is cheap)."""
    return {"generator": build_generator(cfg), "discriminator": build_discriminator(cfg)}


def parameter_counts(networks: dict, cfg: TpganConfig) -> dict[str, int]:
    """Trainable parameters per part of spec 2.7, plus the frozen Light-CNN-29 of the
    identity loss at model.lightcnn_width."""
    from tpgan_tf.identity.lightcnn import build_lightcnn

    g = networks["generator"]
    counts = {"encoder": count_params(g.encoder.trainable_weights),
              "decoder": count_params(g.decoder.trainable_weights),
              "identity_head": count_params(g.identity_head.trainable_weights)}
    for part, net in g.local.nets.items():
        counts[f"local_{part}"] = count_params(net.trainable_weights)
    counts["local_total"] = count_params(g.local.trainable_weights)
    counts["generator"] = count_params(g.trainable_weights)
    counts["discriminator"] = count_params(networks["discriminator"].trainable_weights)
    lightcnn = build_lightcnn(cfg.model.lightcnn_width)
    counts["lightcnn_frozen"] = count_params(lightcnn.weights)
    counts["lightcnn_trainable"] = count_params(lightcnn.trainable_weights)
    return counts


def expected_parameter_counts(cfg: TpganConfig) -> dict[str, int]:
    """Spec 2.7's counts when the config has the original's sizes (width 1), else {}."""
    return dict(EXPECTED_COUNTS) if cfg.model.width == 1.0 else {}
