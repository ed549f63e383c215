"""DR-GAN's presets (the model registers them in task.py; the config sections are in
config.py); "spec N.M" is a section of this package's README.md.

One network family with switches covers the three "DR-GANs" of spec 1 (CVPR 2017, TPAMI 2018,
the 2019 official code):

  paper     CVPR on Multi-PIE, the faithful default: one-hot target pose over 9 views,
            z 50-d U(-1, 1), D with an N^d + 1 identity softmax (last class = fake) and an
            N^p pose softmax, the losses of spec 3.1, Adam 2e-4 / 0.5, batch 64, weights 1.
  tpami     paper with a separate real/fake logit in D (spec 3.2).
  official  the released code's choices (spec 2-4): AM-softmax identity branch, yaw
            regression, label smoothing 0.999, separate BN statistics for real and fake,
            n = 4 images per row with the omega branch, the code's D:G schedule, identity
            pre-training of D copied into the encoder.
  multi     paper with n = 4 images of one subject per row and the 2(n + 1) generator terms.
  demo      paper at a width multiplier and a small batch for the CPU demo.
  tiny      paper at the smallest sizes, for unit tests.

Numbers the spec could not verify say "[unverified]" next to them.
"""
from __future__ import annotations

from tpgan_tf.models.drgan.config import DrganConfig


# ---------------------------------------------------------------------- presets
def _paper() -> DrganConfig:
    return DrganConfig(name="paper")


def _tpami() -> DrganConfig:
    cfg = DrganConfig(name="tpami")
    cfg.model.discriminator = "tpami"  # separate real/fake logit (spec 3.2)
    return cfg


def _official() -> DrganConfig:
    # The released code's choices (spec 2.1-4.4). Its data (VGGFace2 identities + AFLW
    # yaws + long-tail negatives) has no Multi-PIE path; here it runs on the same records as
    # `paper`, so N^d stays the training subjects (the code: 8631).
    cfg = DrganConfig(name="official")
    m = cfg.model
    m.pose_code, m.pose_embedding_dim = "yaw", 20  # yaw radians, Dense(1 -> 20) + ELU
    m.z_dim = 20  # U(-1, 1)
    m.last_activation = "none"  # Conv53 / branch ends: BN, no activation
    m.feature_dropout = 0.4  # keep 0.6 on f(x)
    m.decoder, m.decoder_dropout = "official", 0.4
    m.discriminator, m.identity_head = "official", "am_softmax"
    m.head_dropout = 0.4  # before the pose and adversarial Dense
    m.confidence, m.multi_images = "branch", 4  # multi_N = 4, omega branch on g_k41
    m.separate_bn_real_fake = True
    cfg.loss.real_label = 0.999  # one-sided label smoothing
    cfg.loss.am_margin, cfg.loss.am_scale = 0.35, 30.0
    cfg.loss.multi_reduction = "mean"
    t = cfg.train
    t.batch_size = 24  # B rows per group (script); D sees 6B real + 6B fake there
    t.schedule = "official"
    t.target_pose = "official"
    t.pretrain_d = True
    cfg.data.max_yaw = 90  # target yaws U(-90, 90); Multi-PIE's 13 views
    cfg.data.max_rotation = 10.0
    return cfg


def _multi() -> DrganConfig:
    cfg = DrganConfig(name="multi")
    cfg.model.multi_images = 4  # n [unverified]; kayamin's example and the code use 4
    cfg.model.confidence = "channel"  # paper: the 321st channel of Conv53
    # Paper: "applying drop-out on the coefficient omega" (spec 2.5); the rate is
    # [unverified] (not in the spec's sources): 0.2 keeps all 4 images in 41 % of the rows
    # (0.8^4) and trains fusions of 1..3 images in the rest.
    cfg.model.omega_dropout = 0.2
    return cfg


def _demo() -> DrganConfig:
    # CPU demo on the built-in synthetic faces (make demo; README "DR-GAN demo"). Measured
    # on 36 training / 12 test identities (issue 16): with the demo's former lr 1e-3 the
    # generator and D oscillate and every synthesis is the same stripe texture; at the
    # paper's lr 2e-4 faces form and turn with the pose code. D's identity softmax is the
    # bottleneck: at width 1/4 and 64 px D alone reached 19 % training accuracy on the
    # identities after 1,000 steps, at width 1/2 and 32 px 89 % (4-5x faster at a lower
    # cost per step), and 1,500 iterations of that give clean faces turning with the pose
    # code and an f(x) rank-1 of 90 % on the held-out subjects. Changes from `paper`:
    # width 1/2, 32 x 32 input (load size int(32 * 1.15) = 36, as 110 = int(96 * 1.15); the
    # decoder starts at 1 x 1), batch 16, the run length and intervals, deterministic ops
    # and data order (runtime.deterministic) so that a rerun reproduces the README's
    # result. Every layer, rule and the learning rate are `paper`'s.
    # One loss is added, an EXTENSION (loss.reconstruction_weight = 10, config.py): without
    # it G's identity term is never learned with the CVPR head (D calls every synthesis
    # fake from iteration ~350 and G's identity CE stays above ln 36), and the frontal
    # syntheses collapse onto a few faces that Light-CNN identifies at 11-17 % (chance
    # 8.3 %). With the input rebuilt at its own pose (weights 1 / 3 / 10 tried, same data
    # and Light-CNN): frontals 26-31 / 19-25 / 21-28 %, face colour error 0.079 / 0.088 /
    # 0.055 (none: 0.10), f(x) 94.2 / 89.7 / 86.5 %; 10 keeps each subject's skin tone and
    # gives the cleanest pose-code sheet (README "Demo results").
    # model.num_identities (200) covers the demo's training subjects.
    cfg = DrganConfig(name="demo")
    cfg.model.width = 0.5
    cfg.data.image_size, cfg.data.load_size = 32, 36
    cfg.loss.reconstruction_weight = 10.0
    cfg.train.batch_size = 16
    cfg.train.num_iterations = 1500
    cfg.train.checkpoint_every = 500
    cfg.train.log_every = 50
    cfg.train.image_summary_every = 500
    cfg.runtime.deterministic = True
    return cfg


def _tiny() -> DrganConfig:
    # For unit tests: width 1/16 (every row keeps >= 2 channels, so every layer exists),
    # 32 x 32 images (4 stride-2 rows -> 2 x 2 before the pool; the official decoder starts
    # at 1 x 1), batch 2, a few iterations.
    cfg = DrganConfig(name="tiny")
    cfg.model.width = 0.0625
    cfg.model.num_identities = 10
    cfg.data.image_size, cfg.data.load_size = 32, 36
    cfg.train.batch_size = 2
    cfg.train.num_iterations = 4
    cfg.train.checkpoint_every = 2
    cfg.train.log_every = 1
    cfg.train.image_summary_every = 2
    cfg.train.pretrain_iterations = 2
    return cfg


PRESETS = {"paper": _paper, "tpami": _tpami, "official": _official, "multi": _multi,
           "demo": _demo, "tiny": _tiny}
