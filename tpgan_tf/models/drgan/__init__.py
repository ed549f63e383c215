"""DR-GAN (Tran, Yin, Liu, CVPR 2017; TPAMI 2018; the 2019 official code): a pose-conditioned
encoder-decoder GAN, single- and multi-image (drgan spec = ../shared/spec/drgan.md).

Modules: config (sections + presets, registered as "drgan"), blocks (conv units, dropout),
encoder (G_enc), decoder (G_dec), discriminator (D and its heads), confidence (omega and
fusion), am_softmax (AM-softmax head), losses, networks (builders, parameter counts, the
pre-training transfer). Importing the package registers the presets and nothing heavier.
"""
from tpgan_tf.models.drgan import config  # noqa: F401  (registers the presets)
