"""DR-GAN's config sections; "spec N.M" is a section of this package's README.md.

Sections: model (networks, spec 2, and the switches between the three "DR-GANs" of spec 1:
CVPR 2017, TPAMI 2018, the 2019 official code), loss (spec 3), train (spec 4.1-4.4), data
(the input pipeline, spec 4.3, 7), eval (the two evaluation protocols), plus the core's runtime.
The presets (paper, tpami, official, multi, demo, tiny) are in presets.py.

Numbers the spec could not verify say "[unverified]" next to them.

    cfg = get_config("paper", "drgan")
    cfg = apply_overrides(cfg, ["model.multi_images=6", "eval.pairs_dir=records/pairs"])
"""
from __future__ import annotations

import dataclasses

from tpgan_tf.core.config import EvalConfig as CoreEvalConfig
from tpgan_tf.core.config import ExperimentConfig, TrainLoopConfig
from tpgan_tf.core.layers import BN_MODES

POSE_CODES = ("onehot", "yaw")
ACTIVATIONS = ("elu", "none")
DECODERS = ("paper", "official")
DISCRIMINATORS = ("cvpr", "tpami", "official")
IDENTITY_HEADS = ("softmax", "am_softmax")
CONFIDENCES = ("none", "channel", "branch")
Z_DISTRIBUTIONS = ("uniform", "normal")
MULTI_REDUCTIONS = ("sum", "mean")
SCHEDULES = ("alternate", "adaptive", "official")
TARGET_POSES = ("uniform", "official")
YAW_STEP = 15  # degrees between Multi-PIE views (drgan spec 2.2)
# Total down/upsampling: encoder/D 16; decoder "paper" 16, "official" 32 (spec 2.1, 2.3).
_SIZE_MULTIPLE = {"paper": 16, "official": 32}


def _choice(section: str, name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{section}.{name} must be one of {choices}, got {value!r}")


def _rate(section: str, name: str, value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{section}.{name} must be in [0, 1), got {value}")


@dataclasses.dataclass
class ModelConfig:
    """Networks (spec 2) and the switches between the three DR-GANs (spec 1)."""

    # Multiplies every channel count of G_enc, G_dec and D (scaled(); 1.0 = the original).
    width: float = 1.0
    # N^d: the identity classes = training subjects. Multi-PIE: subjects 001-200 (spec 5.1).
    # The official code: 8631 VGGFace2 identities. Must cover the records' training subjects.
    num_identities: int = 200
    # N^p: one-hot pose classes; 9 = Multi-PIE +-60 in 15-degree steps (CVPR protocol, 9
    # poses [unverified], spec 5.1), 13 = +-90 (spec 2.2).
    # Must match data.max_yaw when pose_code is "onehot"; unused for "yaw".
    num_poses: int = 9
    # "onehot" target pose (paper [unverified; every port]) | "yaw" in radians, 1-d (code).
    pose_code: str = "onehot"
    # 0: the pose code enters the decoder's concat as is (paper); > 0: Dense + ELU to this
    # size first (official: yaw -> 20).
    pose_embedding_dim: int = 0
    # N^z = 50, U(-1, 1) [unverified; kayamin: "default in the paper is 50"]; official 20.
    z_dim: int = 50
    z_distribution: str = "uniform"  # uniform U(-z_scale, z_scale) | normal N(0, z_scale^2)
    z_scale: float = 1.0
    # Activation of Conv53 (`k42`), the last conv of the encoder and of D's identity path
    # (D's trunk for cvpr / tpami, each of its three branches for official): "elu" (paper
    # table [unverified], all ports) | "none" (official: BN, no activation; spec 2.1). The
    # official D's shared trunk ends at Conv51 (`d_k40`), which keeps its ELU (spec 2.4).
    last_activation: str = "elu"
    # Dropout on f(x) in training: 0 (paper [unverified], ports); official 0.4 (keep 0.6).
    feature_dropout: float = 0.0
    # "paper": FC -> 6x6x320 + 14 rows (spec 2.3) | "official": 3x3x320 start, five
    # upsamplings, dropout + BN + ELU on the FC output.
    decoder: str = "paper"
    decoder_dropout: float = 0.0  # on the decoder's FC output; official decoder only (0.4)
    # Head layout of D (spec 2.4): "cvpr" (N^d + 1 with a fake class, N^p pose) | "tpami"
    # (real/fake logit + N^d + N^p) | "official" (3 branches on a shared d_k01..d_k40 trunk).
    discriminator: str = "cvpr"
    identity_head: str = "softmax"  # softmax | am_softmax (spec 3.4; not with "cvpr")
    # Dropout before D's FC heads: 0 (paper [unverified]); official 0.4 before pose and
    # adversarial Dense (never before the identity head).
    head_dropout: float = 0.0
    # Multi-image confidence omega (spec 2.5): "none" (omega = 1) | "channel" (paper: a
    # 321st channel of Conv53) | "branch" (official: 1-channel conv branch on Conv52).
    confidence: str = "none"
    # n images of one subject per row (spec 2.5): 1 = single-image DR-GAN.
    multi_images: int = 1
    # Paper: "drop-out on the coefficient omega" so that any 1..n inputs fuse (spec 2.5;
    # confidence.drop_confidences: each omega zeroed with this probability in training, at
    # least one image per row kept, none at inference). Rate [unverified]: the multi preset
    # uses 0.2; 0 here (single-image presets have no omega; the official code has none).
    omega_dropout: float = 0.0
    # f = sum(w f) / (sum(w) + eps): paper no eps [unverified], code 1e-6 (a documented
    # choice; omega is a sigmoid, so sum(w) > 0 anyway).
    fusion_epsilon: float = 1e-6
    # Run D separately on the real and the fake batch so training BN normalises each with
    # its own statistics (official, spec 2.4; the ports' separate D(real), D(fake) calls do
    # the same; paper [unverified]). The task honours it via Discriminator.call_real_fake.
    separate_bn_real_fake: bool = True
    # BN (spec 2.6): ordinary train/test BN, decay 0.9, eps 1e-5.
    bn_mode: str = "inference"
    bn_momentum: float = 0.9
    bn_epsilon: float = 1e-5

    @property
    def pose_dim(self) -> int:
        """Size of the pose code / pose head: N^p (one-hot) or 1 (yaw)."""
        return self.num_poses if self.pose_code == "onehot" else 1

    def validate(self) -> None:
        s = "model"
        _choice(s, "pose_code", self.pose_code, POSE_CODES)
        _choice(s, "z_distribution", self.z_distribution, Z_DISTRIBUTIONS)
        _choice(s, "last_activation", self.last_activation, ACTIVATIONS)
        _choice(s, "decoder", self.decoder, DECODERS)
        _choice(s, "discriminator", self.discriminator, DISCRIMINATORS)
        _choice(s, "identity_head", self.identity_head, IDENTITY_HEADS)
        _choice(s, "confidence", self.confidence, CONFIDENCES)
        _choice(s, "bn_mode", self.bn_mode, BN_MODES)
        if not 0 < self.width <= 4:
            raise ValueError(f"model.width must be in (0, 4], got {self.width}")
        for name in ("num_identities", "num_poses", "multi_images"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("z_dim", "pose_embedding_dim"):
            if getattr(self, name) < 0:
                raise ValueError(f"model.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("feature_dropout", "decoder_dropout", "head_dropout", "omega_dropout"):
            _rate(s, name, getattr(self, name))
        if self.z_scale <= 0:
            raise ValueError(f"model.z_scale must be > 0, got {self.z_scale}")
        if self.fusion_epsilon < 0:
            raise ValueError(f"model.fusion_epsilon must be >= 0, got {self.fusion_epsilon}")
        if self.discriminator == "cvpr" and self.identity_head == "am_softmax":
            raise ValueError("model.identity_head='am_softmax' needs a separate real/fake "
                             "output: set model.discriminator to 'tpami' or 'official'")
        if self.decoder == "paper" and self.decoder_dropout:
            raise ValueError(f"model.decoder_dropout={self.decoder_dropout}: only the "
                             "official decoder has dropout (set model.decoder=official)")


@dataclasses.dataclass
class LossConfig:
    """Loss weights and constants (spec 3); every term is returned unweighted by losses.py."""

    # All 1 in CVPR / TPAMI [unverified; every port] and in the official code [CODE].
    identity_weight: float = 1.0
    pose_weight: float = 1.0
    adversarial_weight: float = 1.0  # real/fake terms, or the "fake class" term of "cvpr"
    # Target of real images in D's sigmoid CE: 1 (paper, TPAMI) | 0.999 (official one-sided
    # label smoothing, spec 3.3). Unused by "cvpr" (no sigmoid output).
    real_label: float = 1.0
    # AM-softmax (spec 3.4), only with model.identity_head = am_softmax: m 0.35, s 30 (code).
    am_margin: float = 0.35
    am_scale: float = 30.0
    # Multi-image G (spec 2.5/3.1): "sum" of the (n + 1) syntheses' terms = the paper's
    # 2(n + 1) terms (kayamin: weight 1 each) | "mean" over the syntheses (official: its
    # identity term is one mean over the 4B singles + B fused).
    multi_reduction: str = "sum"
    # EXTENSION, not DR-GAN's (spec 3.3: neither paper nor the official code has a pixel
    # loss): weight of an L1 loss between the input and G's synthesis of it at its OWN pose
    # code (the mean over pixels of |G(f(x), c(x), z) - x| in [-1, 1] units; one more
    # decoder pass per G step; single-image only). A public port (zhangjunh) adds the same
    # kind of term at weight 1. 0 = the original. It anchors the decoder's output to the
    # identity in f(x), against the collapse of every synthesis to one face (spec 6).
    reconstruction_weight: float = 0.0

    def validate(self) -> None:
        _choice("loss", "multi_reduction", self.multi_reduction, MULTI_REDUCTIONS)
        if not 0 < self.real_label <= 1:
            raise ValueError(f"loss.real_label must be in (0, 1], got {self.real_label}")
        if self.am_scale <= 0:
            raise ValueError(f"loss.am_scale must be > 0, got {self.am_scale}")
        for name in ("identity_weight", "pose_weight", "adversarial_weight", "am_margin",
                     "reconstruction_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"loss.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass
class TrainConfig(TrainLoopConfig):
    """Optimisation and schedule (spec 4.1-4.4) plus the shared loop's fields."""

    batch_size: int = 64  # [unverified] (rows; with multi_images n, n images per row)
    num_iterations: int = 100_000  # paper length [unverified]
    checkpoint_every: int = 1000  # the code's interval (spec 4.1)
    keep_checkpoints: int = 5  # the code keeps 20; 5 keeps disk use modest
    log_every: int = 20
    image_summary_every: int = 500
    seed: int = 2017
    # Adam for D and for G, separate optimisers with the same settings: lr 2e-4, beta1 0.5
    # (paper [unverified; every port], code [CODE]); beta2, epsilon = TF defaults.
    learning_rate: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    adam_epsilon: float = 1e-8
    # D:G schedule (spec 4.1), the phases of steps.schedule:
    #   "alternate": one D step then one G step per iteration;
    #   "adaptive":  alternate 1:1 until D's mean accuracy over its terms (identity, pose,
    #                real/fake or fake class) reaches adaptive_accuracy, then 1 : adaptive_g_steps
    #                (kayamin's reading of the paper's "update G more when D is strong"
    #                [unverified]);
    #   "official":  even iterations D then G, odd iterations G only, plus one extra G step
    #                every 10 iterations (the logging call runs the G optimiser): ~1 D : 2.2 G.
    schedule: str = "adaptive"
    adaptive_accuracy: float = 0.9
    adaptive_g_steps: int = 4
    # Target pose of each synthesis (spec 4.4): "uniform" = one-hot: uniform over the N^p
    # views, fresh per sample and iteration [PORT]; yaw: U(-max_yaw, +max_yaw) radians.
    # "official" (yaw only): anchor yaw ~ N(0, anchor_yaw_stddev), the other images and the
    # fused one ~ U(-official_yaw_range, +official_yaw_range), degrees here, radians in use.
    target_pose: str = "uniform"
    anchor_yaw_stddev: float = 45.0
    official_yaw_range: float = 90.0
    # Identity pre-training of D, then D's trunk (+ identity branch) copied into G_enc
    # (official, spec 4.2; networks.copy_identity_trunk). Softmax CE on the training
    # identities; the code's lr 0.045 is a MobileNet value given to Adam, so 2e-4 here
    # [INFER]. Pre-training at HEAD applies no AM margin. Paper: from scratch [unverified].
    pretrain_d: bool = False
    pretrain_iterations: int = 20_000  # [unverified: the code runs until stopped]
    pretrain_learning_rate: float = 2e-4

    def validate(self) -> None:
        super().validate()
        _choice("train", "schedule", self.schedule, SCHEDULES)
        _choice("train", "target_pose", self.target_pose, TARGET_POSES)
        for name in ("learning_rate", "pretrain_learning_rate", "adam_epsilon"):
            if getattr(self, name) <= 0:
                raise ValueError(f"train.{name} must be > 0, got {getattr(self, name)}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0 < self.adaptive_accuracy <= 1:
            raise ValueError(f"train.adaptive_accuracy must be in (0, 1], got "
                             f"{self.adaptive_accuracy}")
        if self.adaptive_g_steps < 1 or self.pretrain_iterations < 0:
            raise ValueError(f"need train.adaptive_g_steps >= 1 and pretrain_iterations >= 0, "
                             f"got {self.adaptive_g_steps}, {self.pretrain_iterations}")


@dataclasses.dataclass
class DataConfig:
    """Input pipeline rules (spec 4.3, 7): aligned crop -> load_size -> random image_size crop
    (centre crop at test) -> [-1, 1]; a flip mirrors the pose label too. The augmentation is
    drawn per training step (inputs.py)."""

    # Network input 96 (paper [unverified; all ports], code); any multiple of 16 (of 32 for
    # the official decoder).
    image_size: int = 96
    # Resize before the random crop: int(96 * 1.15) = 110 (code; paper [unverified], spec 4.3).
    load_size: int = 110
    # Pose set: 60 -> 9 views within +-60 (CVPR Multi-PIE, spec 5.1), 90 -> 13 within +-90.
    max_yaw: int = 60
    flip: bool = True  # random horizontal flip, mirroring the pose label (spec 4.3, 7)
    # Random in-plane rotation U(-r, r) degrees before the crop: 0 (paper [unverified]);
    # official 10 (bicubic).
    max_rotation: float = 0.0
    # The released code re-draws crop, flip and rotation on every session.run, so the D step
    # and the G steps of one iteration see different augmentations of the same images (spec
    # 4.3): false (default) = a fresh draw for every D, G and pre-training step; true = one
    # draw per iteration shared by all its steps (this port's behaviour before issue 15).
    same_batch_for_d_and_g: bool = False

    @property
    def num_views(self) -> int:
        """Views in the pose set: 2 * max_yaw / 15 + 1."""
        return 2 * self.max_yaw // YAW_STEP + 1

    def validate(self) -> None:
        if self.image_size < 16 or self.image_size % 16:
            raise ValueError(f"data.image_size must be a multiple of 16, got {self.image_size}")
        if self.load_size < self.image_size:
            raise ValueError(f"data.load_size={self.load_size} must be >= data.image_size="
                             f"{self.image_size}")
        if self.max_yaw not in (60, 90):
            raise ValueError(f"data.max_yaw must be 60 (9 views) or 90 (13 views), got "
                             f"{self.max_yaw}")
        if not 0 <= self.max_rotation <= 45:
            raise ValueError(f"data.max_rotation must be in [0, 45] degrees, got "
                             f"{self.max_rotation}")


@dataclasses.dataclass
class EvalConfig(CoreEvalConfig):
    """Options of the two evaluation protocols (evaluation.py; experiments.evaluate). z_seed
    is unused: DR-GAN evaluates with z = 0."""

    # Pair records (data_prep.build_tfrecords) for TP-GAN's frontalization protocol on the
    # frontal syntheses; "": that protocol is not run.
    pairs_dir: str = ""
    # Light-CNN-29 (.h5 from experiments.convert_lightcnn / pretrain_lightcnn, or the
    # original DeepFace168.pickle): the baseline row of spec 5.1's protocol and the rank-1 of
    # the frontalization protocol; "": neither. Its channel multiplier (0: the width stored
    # in the .h5, 1.0 for a pickle).
    lightcnn_weights: str = ""
    lightcnn_width: float = 0.0


@dataclasses.dataclass
class DrganConfig(ExperimentConfig):
    """DR-GAN: model / loss / train / data / eval sections (+ runtime)."""

    task: str = "drgan"
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)

    def check(self) -> None:
        m, d, t = self.model, self.data, self.train
        multiple = _SIZE_MULTIPLE[m.decoder]
        if d.image_size % multiple:
            raise ValueError(f"data.image_size={d.image_size} must be a multiple of {multiple} "
                             f"for model.decoder={m.decoder!r}")
        if m.pose_code == "onehot" and m.num_poses != d.num_views:
            raise ValueError(f"model.num_poses={m.num_poses} does not match data.max_yaw="
                             f"{d.max_yaw} ({d.num_views} views)")
        if self.loss.reconstruction_weight and m.multi_images > 1:
            raise ValueError("loss.reconstruction_weight is for single-image DR-GAN: set it "
                             f"to 0 or model.multi_images to 1 (got {m.multi_images})")
        if t.target_pose == "official" and m.pose_code != "yaw":
            raise ValueError("train.target_pose='official' samples yaws: it needs "
                             f"model.pose_code='yaw', got {m.pose_code!r}")


def norm_kwargs(cfg: DrganConfig) -> dict:
    """The BN dict of the DR-GAN layers (bn_mode, momentum, epsilon, synchronized)."""
    m = cfg.model
    return {"bn_mode": m.bn_mode, "momentum": m.bn_momentum, "epsilon": m.bn_epsilon,
            "synchronized": bool(cfg.runtime.sync_batch_norm)}
