"""TP-GAN (Huang et al., ICCV 2017), faithful to the original code; "spec N.M" in this
package is a section of its README.md (the description of the original).

The model template (tpgan_tf/README.md, "Adding a model"): config (sections), presets,
blocks (the original ops.py layers), networks (builders and parameter counts), losses, inputs
(pair records -> batches), steps (the per-replica D and G steps, the noise draws, the 1 D : 2 G
schedule), task (the registered Task: wiring), serving (the Frontalizer: signatures and Python
inference), evaluation (the spec 7.1 protocol), photos (the photo tool's applier). Its own
extras: global_pathway, local_pathway, fusion, generator, discriminator."""
from tpgan_tf.models.tpgan import task  # noqa: F401  (registers the model)
