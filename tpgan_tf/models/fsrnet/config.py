"""FSRNet / FSRGAN's config sections (the presets are in presets.py).

Sections: model (networks, spec 3-4), priors (the prior head's targets, spec 5), degradation
(LR inputs, spec 1), loss (spec 6), train (spec 7), weights (the VGG-16 file of FSRGAN's
perceptual loss, spec 6.2), eval (the spec 9 evaluation), plus the core's runtime.

    cfg = get_config("gan", "fsrnet")
    cfg = apply_overrides(cfg, ["weights.vgg16=vgg16_notop.h5", "eval.method=bicubic"])

Tags in comments: [UNV] recalled from the paper but not seen, [INF] the spec's inference,
[CS]/[CY]/[LI] the reimplementations, [OFF] the official release (fsrnet spec 0).
"""
from __future__ import annotations

import dataclasses

from tpgan_tf.core.config import EvalConfig as CoreEvalConfig
from tpgan_tf.core.config import ExperimentConfig, TrainLoopConfig
from tpgan_tf.core.layers import BN_MODES
from tpgan_tf.models.fsrnet.crop_rule import TEMPLATE, template_points
from tpgan_tf.models.fsrnet.prior_sets import (
    LABEL_MIRRORS, LANDMARK_COUNTS, LANDMARK_MIRRORS, PARSING_SETS, PRIOR_SETS, PriorSet,
    label_remap)

_CHOICES = {
    "pooling": ("max", "avg"),
    "upsampling": ("nearest", "bilinear"),
    "decoder_prior_input": ("maps", "features"),
    "image_activation": ("none", "tanh"),
    "encoder_activation": ("none", "relu", "tanh"),
    "padding": ("zero", "reflect"),
    "bn_mode": BN_MODES,
}


@dataclasses.dataclass
class ModelConfig:
    """Networks of spec 3-4 and the switches for what the spec leaves open."""

    width: float = 1.0  # multiplies every channel count; 1.0 = the spec's [COMP] counts
    image_size: int = 128  # HR / network input size (spec 1: 16 -> 128, x8)
    # Hourglass depth n [UNV]: 4, the stacked-hourglass / FAN setting at 64 x 64 (64 -> 4 at
    # the centre) [INF], which FSRNet's prior net follows; [CS]/[CY] use 3 (64 -> 8).
    hourglass_depth: int = 4
    num_stacks: int = 2  # [OFF] nStack_ = 2
    pooling: str = "max"  # Newell / [CS] / [CY]; [LI] "avg"
    upsampling: str = "nearest"  # Newell / [CS] / [CY]; [LI] "bilinear"
    # What the decoder concatenates with the encoder features (spec 4.4, open): "maps" =
    # the predicted priors p (Fig. 2 as users read it, [LI]), "features" = hourglass h ([CS]).
    decoder_prior_input: str = "maps"
    # Image heads (coarse and fine): linear on [0, 1] data (spec 1 recommendation [INF]);
    # "tanh" as [CS]/[CY]. The official activation is unknown.
    image_activation: str = "none"
    # Global skip from the input to both image heads (y = x + net): in NO source (spec 4.1);
    # off by default, on in the `demo` preset so a few CPU minutes beat bicubic.
    input_residual: bool = False
    # Fine encoder's last conv (spec 4.2, unknown [UNV]): "relu" as [LI]; [CS]/[CY] "tanh".
    encoder_activation: str = "relu"
    # Conv padding [UNV]: Torch-style symmetric zeros; "reflect" as [CS]/[CY].
    padding: str = "zero"
    init_stddev: float = 0.02  # spec 7: N(0, 0.02) convs, BN gamma N(1, 0.02) [CS][CY]; paper [UNV]
    # Ordinary train / test batch norm with the Torch constants (spec 3.1 [INF]).
    bn_mode: str = "inference"
    bn_momentum: float = 0.9
    bn_epsilon: float = 1e-5
    bn_synchronized: bool = False
    # FSRGAN's D: pix2pix PatchGAN depth (n_layers = 3: 70 x 70 patches, spec 6.2 [INF]).
    d_num_layers: int = 3

    def validate(self) -> None:
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"model.{name} must be one of {choices}, got {getattr(self, name)!r}")
        if not 0 < self.width <= 4:
            raise ValueError(f"model.width must be in (0, 4], got {self.width}")
        if self.hourglass_depth < 1 or self.num_stacks < 1 or self.d_num_layers < 1:
            raise ValueError("model.hourglass_depth, num_stacks and d_num_layers must be >= 1, got "
                             f"{self.hourglass_depth}, {self.num_stacks}, {self.d_num_layers}")
        multiple = 2 ** (self.hourglass_depth + 1)
        if self.image_size % multiple:
            raise ValueError(f"model.image_size must be a multiple of 2 * 2^hourglass_depth = "
                             f"{multiple}, got {self.image_size}")


@dataclasses.dataclass
class PriorConfig:
    """The prior head's targets (spec 5): heatmaps of num_landmarks points, then one map per
    class of parsing_set made from label maps of label_map_set. K = their sum."""

    num_landmarks: int = 194  # Helen's own annotation (the 197-channel head, tyshiwo #6)
    landmark_scheme: str = "helen194"  # point order, for the NME's eye points
    parsing_set: str = "global3"  # the official Helen model's 3 global maps (which 3: [UNV])
    label_map_set: str = "helen11"  # labels stored in the records (Helen's 11)
    # Heatmap std in 64-grid cells: spec 5 recommends 1-1.5 [INF]; 1.0 is the stacked-
    # hourglass setting at 64 x 64 and keeps Helen's dense 194 points apart ([CS]: 3 [UNV]).
    heatmap_sigma: float = 1.0
    # The crop of a face in a user photo (crop_rule.py): ten numbers x0, y0, ..., x4, y4, the
    # mean five points (tpgan spec 1.2 order, 0-based pixels of the model.image_size crop) of
    # the training crops, onto which the photo tool maps a face's five points. Default: the
    # built-in synthetic face records' (crop_rule.TEMPLATE); [] = unknown (the paper / celeba /
    # gan presets: measure yours with `python -m tpgan_tf.models.fsrnet.crop_rule`).
    crop_template: list = dataclasses.field(default_factory=lambda: synthetic_template())

    @classmethod
    def from_set(cls, name: str, **kwargs) -> "PriorConfig":
        """The section of a named prior set of prior_sets.PRIOR_SETS."""
        if name not in PRIOR_SETS:
            raise ValueError(f"unknown prior set {name!r}; choose one of {sorted(PRIOR_SETS)}")
        s = PRIOR_SETS[name]
        return cls(num_landmarks=s.num_landmarks, landmark_scheme=s.landmark_scheme,
                   parsing_set=s.parsing_set, label_map_set=s.label_map_set, **kwargs)

    def prior_set(self) -> PriorSet:
        return PriorSet(self.num_landmarks, self.landmark_scheme, self.parsing_set,
                        self.label_map_set)

    @property
    def num_priors(self) -> int:
        return self.prior_set().num_priors

    def validate(self) -> None:
        if self.num_landmarks < 0:
            raise ValueError(f"priors.num_landmarks must be >= 0, got {self.num_landmarks}")
        expected = LANDMARK_COUNTS.get(self.landmark_scheme)
        if expected is not None and expected != self.num_landmarks:
            raise ValueError(f"priors.landmark_scheme {self.landmark_scheme!r} has {expected} "
                             f"points, but priors.num_landmarks = {self.num_landmarks}")
        if self.parsing_set not in PARSING_SETS:
            raise ValueError(f"priors.parsing_set must be one of {sorted(PARSING_SETS)}, got "
                             f"{self.parsing_set!r}")
        label_remap(self.label_map_set, self.parsing_set)  # ValueError if undefined
        if self.heatmap_sigma <= 0:
            raise ValueError(f"priors.heatmap_sigma must be > 0, got {self.heatmap_sigma}")
        if self.crop_template:
            try:
                # An override of an empty template parses as strings: stored as numbers.
                self.crop_template = template_points(
                    [float(v) for v in self.crop_template]).reshape(-1).tolist()
            except ValueError as err:
                raise ValueError(f"priors.crop_template: {err}") from None


@dataclasses.dataclass
class DegradationConfig:
    """How LR inputs are made from HR faces (spec 1)."""

    scale: int = 8  # antialiased bicubic 128 -> 16, then bicubic back to 128 [OFF][COMP]
    # JPEG round trips: the official HR and LR test files are both JPEG q75 [COMP]; whether
    # the training data were is unknown [INF]. Off by default.
    jpeg_hr: bool = False
    jpeg_lr: bool = False
    jpeg_quality: int = 75

    def validate(self) -> None:
        if self.scale < 1:
            raise ValueError(f"degradation.scale must be >= 1, got {self.scale}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"degradation.jpeg_quality must be in 1..100, got {self.jpeg_quality}")


@dataclasses.dataclass
class LossConfig:
    """Loss weights (spec 6). Every MSE is the MEAN over all elements (Torch's nn.MSELoss),
    which these weights assume; see losses.py."""

    alpha: float = 1.0  # fine SR term ([CS] `a`; [CY]/[LI] plain sum); paper [UNV]
    beta: float = 1.0  # prior term ([CS] `b`); paper [UNV]
    gamma_c: float = 1e-3  # FSRGAN adversarial ([CS] `r_c`), paper [UNV]
    gamma_p: float = 1e-1  # FSRGAN perceptual ([CS] `r_p`), paper [UNV]
    perceptual_layer: str = "block5_conv3"  # VGG-16 relu5_3 ([CS]); paper "VGG-16" [UNV]

    def validate(self) -> None:
        for name in ("alpha", "beta", "gamma_c", "gamma_p"):
            if getattr(self, name) < 0:
                raise ValueError(f"loss.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass
class TrainConfig(TrainLoopConfig):
    """Optimisation (spec 7). RMSprop in Torch's form: w -= lr g / (sqrt(v) + eps), v =
    rho v + (1 - rho) g^2. (Keras' RMSprop puts eps inside the sqrt, sqrt(v + eps): with
    eps 1e-8 that floors the denominator at 1e-4, not 1e-8.)"""

    batch_size: int = 14  # [CS][CY][LI]; paper [UNV]
    # [UNV]/[INF]: no source gives it. Helen's ~18,240 training samples ("1.8W", spec 8.1)
    # x 100 epochs ([CS]) / batch 14 = 130 k iterations.
    num_iterations: int = 130_000
    checkpoint_every: int = 1000
    log_every: int = 50
    image_summary_every: int = 500
    optimizer: str = "rmsprop"  # [CS][CY][LI][X]; paper [UNV]
    # [CS][CY][LI] agree, paper [UNV]; constant (no schedule in [CS]/[CY]; [LI] poly decay).
    learning_rate: float = 2.5e-4
    # "constant" ([CS]/[CY]) or "poly": [LI]'s polynomial decay to 0 at num_iterations with
    # power lr_power (0.3 in [LI]); the paper's schedule is [UNV].
    lr_schedule: str = "constant"
    lr_power: float = 0.3
    rmsprop_rho: float = 0.99  # Torch / PyTorch default [INF] (Keras' is 0.9)
    rmsprop_epsilon: float = 1e-8  # Torch default [INF], added outside the sqrt (see above)
    # FSRGAN: one D step then one G step per batch ([CS]); D's RMSprop learning rate [UNV].
    gan: bool = False
    d_learning_rate: float = 2.5e-4
    # Random horizontal flip of each training face (p = 0.5): image, landmarks (mirrored, left
    # / right points swapped) and label map (left / right parts swapped). Off: no source
    # flips, and what the official x8 Helen copies were is [UNV] (spec 7, 8.1).
    flip: bool = False
    # A trained FSRNet run (or a checkpoint prefix in one) whose generator weights start this
    # run, e.g. FSRGAN from FSRNet (init_from.py); empty: random initialisation (spec 6.2:
    # whether the paper fine-tunes is [UNV]; [CS] trains FSRGAN from scratch).
    init_from: str = ""

    def validate(self) -> None:
        super().validate()
        if self.optimizer != "rmsprop":
            raise ValueError(f"train.optimizer must be 'rmsprop', got {self.optimizer!r}")
        for name in ("learning_rate", "d_learning_rate", "rmsprop_epsilon"):
            if getattr(self, name) <= 0:
                raise ValueError(f"train.{name} must be > 0, got {getattr(self, name)}")
        if self.lr_schedule not in ("constant", "poly"):
            raise ValueError(f"train.lr_schedule must be 'constant' or 'poly', got "
                             f"{self.lr_schedule!r}")
        if self.lr_power <= 0:
            raise ValueError(f"train.lr_power must be > 0, got {self.lr_power}")
        if not 0 < self.rmsprop_rho < 1:
            raise ValueError(f"train.rmsprop_rho must be in (0, 1), got {self.rmsprop_rho}")


@dataclasses.dataclass
class WeightsConfig:
    """Weight files training reads (frozen networks, never checkpointed)."""

    # VGG-16 of FSRGAN's perceptual loss (spec 6.2): a Keras weights file of
    # keras.applications.VGG16(include_top=False) (perceptual.HOW_TO_GET_WEIGHTS). Without it
    # the gamma_P term is off (logged as 0), with a message at the start of training.
    vgg16: str = ""


EVAL_METHODS = ("fsrnet", "bicubic")


@dataclasses.dataclass
class EvalConfig(CoreEvalConfig):
    """Options of the spec 9 evaluation (experiments.evaluate, evaluation.py)."""

    # A folder of 128 x 128 HR test images paired by file name with lr_dir (128 x 128
    # bicubic-upsampled or 16 x 16 LR files), instead of --data_dir records.
    hr_dir: str = ""
    lr_dir: str = ""
    # "fsrnet": the model and bicubic; "bicubic": bicubic alone (scores no network, so it
    # needs no trained run).
    method: str = "fsrnet"
    # The test set's name in the results (default: the folder or records name).
    test_set: str = ""

    def validate(self) -> None:
        super().validate()
        if self.method not in EVAL_METHODS:
            raise ValueError(f"eval.method must be one of {EVAL_METHODS}, got {self.method!r}")


@dataclasses.dataclass
class FsrnetConfig(ExperimentConfig):
    """The config of an FSRNet / FSRGAN run (train.gan selects FSRGAN)."""

    task: str = "fsrnet"
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    priors: PriorConfig = dataclasses.field(default_factory=PriorConfig)
    degradation: DegradationConfig = dataclasses.field(default_factory=DegradationConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    weights: WeightsConfig = dataclasses.field(default_factory=WeightsConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)

    @property
    def num_priors(self) -> int:
        """K, the prior head's channel count."""
        return self.priors.num_priors

    def check(self) -> None:
        if self.model.image_size % self.degradation.scale:
            raise ValueError(f"model.image_size {self.model.image_size} must be a multiple of "
                             f"degradation.scale {self.degradation.scale}")
        pc = self.priors
        if self.train.flip and (pc.landmark_scheme not in LANDMARK_MIRRORS
                                or pc.label_map_set not in LABEL_MIRRORS):
            raise ValueError(f"train.flip needs the left/right pairs of priors.landmark_scheme "
                             f"{pc.landmark_scheme!r} and priors.label_map_set "
                             f"{pc.label_map_set!r}; defined for the schemes "
                             f"{sorted(LANDMARK_MIRRORS)} and the label sets "
                             f"{sorted(LABEL_MIRRORS)}")


def synthetic_template() -> list:
    """crop_rule.TEMPLATE as the ten numbers of priors.crop_template."""
    return [float(v) for point in TEMPLATE for v in point]


def norm_kwargs(cfg: FsrnetConfig) -> dict:
    """The `norm` dict of blocks.make_bn from the `model` section: the BN mode and Torch's
    constants (spec 3.1), synchronisation, and the N(1, init_stddev) gamma init (spec 7)."""
    m = cfg.model
    return {"bn_mode": m.bn_mode, "momentum": m.bn_momentum, "epsilon": m.bn_epsilon,
            "synchronized": m.bn_synchronized, "gamma_stddev": m.init_stddev}
