"""FSRNet / FSRGAN (Chen et al., CVPR 2018): x8 face super-resolution with facial priors
(fsrnet spec). Networks (blocks, networks, generator, discriminator), the VGG-16 perceptual
features, losses, the LR degradation, the prior targets, the config with its presets, the
input pipeline, the task (FSRNet step / FSRGAN D + G steps), serving and the evaluation.
Importing the package registers the "fsrnet" config and task."""
from tpgan_tf.models.fsrnet import config, task  # noqa: F401  (register the model)
