"""TP-GAN (Huang et al., ICCV 2017), faithful to the original code (tpgan spec =
../shared/spec/tpgan_original.md): config + presets, the global and local pathways, fusion,
generator, discriminator, losses, inputs, the task (1 D : 2 G schedule, three Adams), the
frontalizer (inference and serving) and its evaluation."""
from tpgan_tf.models.tpgan import task  # noqa: F401  (registers the model)
