"""DR-GAN (Tran, Yin, Liu, CVPR 2017; TPAMI 2018; the 2019 official code): a pose-conditioned
encoder-decoder GAN, single- and multi-image, on the shared core. The description of the
original is this package's README.md (what "spec N.M" refers to).

The model template's files:
  config.py      config sections (model, loss, train, data, eval)
  presets.py     the presets (paper, tpami, official, multi, demo, tiny)
  blocks.py      layers: conv units, dropout (spec 2.1, 2.6)
  networks.py    the builders of a config's networks, their parameter counts, D's identity
                 path and its copy into G_enc after pre-training (spec 4.2)
  losses.py      D and G losses of the three DR-GANs (spec 3)
  inputs.py      image records -> rows; each step's augmentation (spec 4.3, 7)
  steps.py       the per-replica D, G, pre-training and monitoring steps, their draws and the
                 D:G schedules (spec 3, 4)
  task.py        the Task: wiring only (registers the model "drgan")
  serving.py     DrganServing, the serving module (SavedModel signatures, Python API)
  evaluation.py  DrganEvaluator: both protocols and the results page
Beside them: encoder.py (G_enc), decoder.py (G_dec), discriminator.py (D and its heads),
confidence.py (omega and the fusion, spec 2.5), am_softmax.py (spec 3.4), sampling.py
(target poses and noise, spec 2.2, 4.4), monitoring.py (failure signals, spec 6),
identification.py (DR-GAN's evaluation protocol, spec 5.1) and frontal_protocol.py
(TP-GAN's, tpgan spec 7.1, on DR-GAN's frontals). Keras classes are registered under the
package "tpgan_tf.drgan" (no clash with TP-GAN's). Importing the package registers the model.
"""
from tpgan_tf.models.drgan import task  # noqa: F401  (registers the model)
