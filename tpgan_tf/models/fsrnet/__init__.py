"""FSRNet / FSRGAN (Chen et al., CVPR 2018): x8 face super-resolution with facial priors
(fsrnet spec). Networks (blocks, networks, generator, discriminator), the VGG-16 perceptual
features, losses, the LR degradation, the prior targets and the config with its presets.
Importing the package registers the "fsrnet" config."""
from tpgan_tf.models.fsrnet import config  # noqa: F401  (registers the presets)
