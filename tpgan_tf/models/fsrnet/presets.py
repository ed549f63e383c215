"""FSRNet / FSRGAN's presets (the model registers them in task.py; the config sections are
in config.py).

Presets:
  paper   FSRNet on Helen priors (194 landmarks + 3 global parsing maps, K = 197), RMSprop
          2.5e-4 (rho 0.99, eps 1e-8), batch 14 (fsrnet spec 7), full width.
  celeba  the same with CelebA-style priors (68 landmarks + 11 parsing maps, K = 79).
  gan     FSRGAN: paper + the conditional PatchGAN D + the VGG-16 perceptual loss (spec 6.2).
  demo    a CPU demo on the synthetic faces: width 1/8, batch 4, input skip (see _demo).
  folder  the demo's CPU sizes on real faces of a photo folder (data_prep --source=folder:
          5 MTCNN points + 6 parts drawn from them, K = 11), flips, JPEG'd LR (see _folder).
  tiny    for unit tests.
Tags in comments: [UNV] recalled from the paper but not seen, [INF] the spec's inference,
[CS]/[CY]/[LI] the reimplementations, [OFF] the official release (fsrnet spec 0).
"""
from __future__ import annotations

from tpgan_tf.models.fsrnet.config import FsrnetConfig, PriorConfig


# ---------------------------------------------------------------------- presets
# The Helen and CelebA crops' five-point means are not measured here (no such records in
# this project): their presets leave priors.crop_template empty, so the photo tool asks for
# the measured template instead of cropping faces like the synthetic records.
def _paper() -> FsrnetConfig:
    cfg = FsrnetConfig(name="paper")
    cfg.priors.crop_template = []
    return cfg


def _celeba() -> FsrnetConfig:
    # 68 + 11 CelebA-style priors ([LI]); the paper's CelebA landmark count is [UNV]. The
    # 130 k iterations are ~100 epochs of the paper's 18,000 training images at batch 14 [INF].
    return FsrnetConfig(name="celeba", priors=PriorConfig.from_set("celeba68",
                                                                   crop_template=[]))


def _gan() -> FsrnetConfig:
    # FSRGAN from scratch ([CS]; whether the paper fine-tunes a trained FSRNet is [UNV]).
    cfg = FsrnetConfig(name="gan")
    cfg.train.gan = True
    cfg.priors.crop_template = []
    return cfg


def _demo() -> FsrnetConfig:
    # CPU demo on the synthetic faces (experiments/demo/fsrnet.py: 256 training faces of 64
    # identities, 32 held-out faces of 8 others): a visible gain over bicubic within ~2
    # minutes of training on 2 cores. NOT the paper's recipe: width 1/8, batch 4, the input
    # skip with zero-initialised image heads (model.input_residual, in no source), RMSprop at
    # 5e-4 instead of 2.5e-4 with [LI]'s polynomial decay. Measured (400 training faces, 20
    # held out, constant lr): width 1/8 learned faster per step than 1/4 (+1.3 dB over
    # bicubic after 500 steps against +0.5 dB after 400), and without the input skip neither
    # beat bicubic within 400 steps (24.4 dB against bicubic's 26.0). 1,000 iterations: the
    # 30-minute learning curve (benchmarks/results/fsrnet_learning_curves.md) still rises
    # there, and 500 gave +1.23 dB in a fresh-clone `make demo`, below the +1.28 of issue 16.
    cfg = FsrnetConfig(name="demo", priors=PriorConfig.from_set("synthetic"))
    cfg.model.width = 0.125
    cfg.model.input_residual = True
    cfg.train.batch_size = 4
    cfg.train.learning_rate = 5e-4
    cfg.train.lr_schedule = "poly"  # [LI]'s decay: the last weights settle (evaluated as is)
    cfg.train.num_iterations = 1000
    cfg.train.checkpoint_every = 500
    cfg.train.log_every = 25
    cfg.train.image_summary_every = 100
    return cfg


def _folder() -> FsrnetConfig:
    # Real faces on a CPU (benchmarks/fsrnet_real_faces.py): records of
    # `data_prep.build_face_records --source=folder` (MTCNN's 5 points + the 6 parts drawn
    # from them, prior set "folder", K = 11). The demo's sizes and schedule (_demo: width 1/8,
    # batch 4, the input skip, RMSprop 5e-4 with [LI]'s poly decay; NOT the paper's recipe),
    # plus random flips (train.flip: no source flips, [UNV]) for the few real faces, and LR
    # inputs JPEG'd at quality 75 (degradation.jpeg_lr: the release's LR test files are JPEG
    # q75 [COMP], whether the training inputs were is [INF]). The template of its crops is
    # the demo's (crop_rule.TEMPLATE), the folder job's default crop.
    cfg = FsrnetConfig(name="folder", priors=PriorConfig.from_set("folder"))
    cfg.model.width = 0.125
    cfg.model.input_residual = True
    cfg.degradation.jpeg_lr = True
    cfg.train.batch_size = 4
    cfg.train.learning_rate = 5e-4
    cfg.train.lr_schedule = "poly"
    cfg.train.flip = True
    cfg.train.num_iterations = 10_000  # ~1 hour on 2 cores (0.3 s per iteration)
    cfg.train.checkpoint_every = 1000
    cfg.train.log_every = 100
    cfg.train.image_summary_every = 1000
    return cfg


def _tiny() -> FsrnetConfig:
    # Unit tests: every channel / 16 (64 -> 4, 128 -> 8), so a model builds in about a second.
    cfg = FsrnetConfig(name="tiny", priors=PriorConfig.from_set("synthetic"))
    cfg.model.width = 0.0625
    cfg.train.batch_size = 2
    cfg.train.num_iterations = 4
    cfg.train.checkpoint_every = 2
    cfg.train.log_every = 1
    cfg.train.image_summary_every = 2
    return cfg


PRESETS = {"paper": _paper, "celeba": _celeba, "gan": _gan, "demo": _demo, "folder": _folder,
           "tiny": _tiny}
