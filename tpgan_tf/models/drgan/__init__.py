"""DR-GAN (Tran, Yin, Liu, CVPR 2017; TPAMI 2018; the 2019 official code): a pose-conditioned
encoder-decoder GAN, single- and multi-image (drgan spec = ../shared/spec/drgan.md).

Modules: config (sections + presets, registered as "drgan"), blocks (conv units, dropout),
encoder (G_enc), decoder (G_dec), discriminator (D and its heads), confidence (omega and
fusion), am_softmax (AM-softmax head), losses, networks (builders, parameter counts, the
pre-training transfer); inputs (image records -> batches), sampling (target poses, noise),
steps (per-replica D / G / pre-training computations), schedule (D:G plans), monitoring
(failure signals), task (the Task, registered as "drgan"), serving (SavedModel signatures),
identification / frontal_protocol / evaluation (the two evaluation protocols).
Keras classes are registered under the package "tpgan_tf.drgan" (no clash with TP-GAN's).
"""
from tpgan_tf.models.drgan import config, task  # noqa: F401  (register presets and task)
