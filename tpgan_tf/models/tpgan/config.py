"""TP-GAN's config sections ("spec N.M": a section of this package's README.md).

Sections: model (G, D and Light-CNN sizes, spec 2), loss (spec 4.3), train (spec 5), weights
(the Light-CNN file of the identity loss, spec 4.4), eval (the spec 7.1 evaluation), export
(the SavedModel's output range), plus the core's runtime. The presets are in presets.py.

    cfg = get_config("paper", "tpgan")
    cfg = apply_overrides(cfg, ["model.bn_mode=inference", "weights.lightcnn=lightcnn29.h5"])
"""
from __future__ import annotations

import dataclasses

from tpgan_tf.core.config import EvalConfig as CoreEvalConfig
from tpgan_tf.core.config import ExperimentConfig, TrainLoopConfig
from tpgan_tf.core.layers import BN_MODES


@dataclasses.dataclass
class ModelConfig:
    """Network sizes and quirks of the generator, discriminator and Light-CNN."""

    # Multiplies every channel count of G and D (1.0 = the original). Never < 1 in `paper`.
    width: float = 1.0
    # Spec 2.5: z is 100-d, N(0, 0.02^2), drawn anew at every step.
    z_dim: int = 100
    z_stddev: float = 0.02
    # Spec 2.5: 340 identity logits, dropout keep 0.3 (rate 0.7) before them.
    num_identities: int = 340
    identity_dropout: float = 0.7
    # Spec 2.1: BN always uses batch statistics, also at test time ("batch_stats").
    # "inference" gives ordinary Keras BN (moving averages when training=False).
    bn_mode: str = "batch_stats"
    bn_momentum: float = 0.9
    bn_epsilon: float = 1e-5
    # Light-CNN-29 channel multiplier: 1.0 is the real network (needed to load real weights).
    lightcnn_width: float = 1.0

    def validate(self) -> None:
        if self.bn_mode not in BN_MODES:
            raise ValueError(f"model.bn_mode must be one of {BN_MODES}, got {self.bn_mode!r}")
        if not 0 < self.width <= 4:
            raise ValueError(f"model.width must be in (0, 4], got {self.width}")
        if not 0 < self.lightcnn_width <= 4:
            raise ValueError(f"model.lightcnn_width must be in (0, 4], got {self.lightcnn_width}")
        if not 0 <= self.identity_dropout < 1:
            raise ValueError(f"model.identity_dropout must be in [0, 1), got "
                             f"{self.identity_dropout}")


@dataclasses.dataclass
class LossConfig:
    """Loss weights of spec 4.3 (the code's constants, applied to the code's sum-based terms)."""

    l1_128: float = 1.0  # L1_1_W
    l1_64: float = 1.0  # L1_2_W
    l1_32: float = 1.5  # L1_3_W
    symmetry: float = 0.3  # SYM_W, inside each scale's bracket
    adversarial: float = 20.0  # ALPHA_ADVER
    identity: float = 40.0  # BELTA_FEATURE
    cross_entropy: float = 10.0  # IDEN_W
    total_variation: float = 1e-3  # TV_WEIGHT
    part: float = 3.0  # PART_W, rot_loss only
    # Spec 3: one-sided label smoothing, real target 0.9, fake target 0.
    real_label: float = 0.9


@dataclasses.dataclass
class TrainConfig(TrainLoopConfig):
    """Optimisation schedule of spec 5 (plus the loop fields of TrainLoopConfig)."""

    batch_size: int = 10  # spec 5 (the flag said 20; the code used 10)
    learning_rate: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    adam_epsilon: float = 1e-8
    generator_steps_per_iteration: int = 2
    # NOT in the original (constant lr, spec 5): from this fraction of num_iterations on, every
    # learning rate falls linearly to 0 at the last iteration (1.0: never, the faithful value).
    lr_decay_start: float = 1.0
    # Pose range filter of the released config: RANGE_LOW <= |yaw| <= RANGE.
    yaw_low: int = 0
    yaw_high: int = 60

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.lr_decay_start <= 1:
            raise ValueError(f"train.lr_decay_start must be in [0, 1], got {self.lr_decay_start}")
        if not 0 <= self.yaw_low <= self.yaw_high <= 90:
            raise ValueError("need 0 <= train.yaw_low <= train.yaw_high <= 90, got "
                             f"{self.yaw_low}..{self.yaw_high}")


@dataclasses.dataclass
class WeightsConfig:
    """Weight files training reads (frozen networks, never checkpointed)."""

    # Light-CNN-29 of the identity loss (spec 4.4): an .h5 from experiments.convert_lightcnn
    # or experiments.pretrain_lightcnn, or the original DeepFace168.pickle. Needed when
    # loss.identity > 0 (the faithful setting).
    lightcnn: str = ""


@dataclasses.dataclass
class EvalConfig(CoreEvalConfig):
    """Options of the spec 7.1 evaluation (experiments.evaluate)."""

    # The identity network that scores the frontals (default: weights.lightcnn) and its
    # channel multiplier (0: the width stored in the .h5, 1.0 for a pickle).
    lightcnn_weights: str = ""
    lightcnn_width: float = 0.0


@dataclasses.dataclass
class ExportConfig:
    """Options of the SavedModel export (experiments.export)."""

    # uint8 conversion of the frontal: "minmax" (the original's per-image rescale of its
    # test mode, spec 5) or "clip" (clip(x * 256, 0, 255), the inverse of spec 1.1's input).
    output_range: str = "minmax"

    def validate(self) -> None:
        if self.output_range not in ("minmax", "clip"):
            raise ValueError(f"export.output_range must be minmax or clip, got "
                             f"{self.output_range!r}")


@dataclasses.dataclass
class TpganConfig(ExperimentConfig):
    """TP-GAN: model / loss / train / weights / eval / export sections (+ runtime)."""

    task: str = "tpgan"
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    weights: WeightsConfig = dataclasses.field(default_factory=WeightsConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)
    export: ExportConfig = dataclasses.field(default_factory=ExportConfig)

    @classmethod
    def claims_untagged(cls, d: dict) -> bool:
        # config.json files of the versions before the model registry had no "task" key;
        # TP-GAN was the only model then.
        return True

    @classmethod
    def migrate(cls, d: dict) -> dict:
        # Configs saved before the shared core kept the BN synchronisation in `model`.
        model = d.get("model", {})
        if "bn_synchronized" in model:
            d.setdefault("runtime", {})["sync_batch_norm"] = model.pop("bn_synchronized")
        return d


def norm_kwargs(cfg: TpganConfig) -> dict:
    """The `norm` dict of the TP-GAN layers (bn_mode, momentum, epsilon, synchronized)."""
    m = cfg.model
    return {"bn_mode": m.bn_mode, "momentum": m.bn_momentum, "epsilon": m.bn_epsilon,
            "synchronized": bool(cfg.runtime.sync_batch_norm)}
