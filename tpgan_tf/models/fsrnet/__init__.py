"""FSRNet / FSRGAN (Chen et al., CVPR 2018): x8 face super-resolution with facial priors, on
the shared core. The description of the original is this package's README.md (what "spec
N.M" refers to).

The model template's files:
  config.py      config sections (model, priors, degradation, loss, train, weights, eval)
  presets.py     the presets (paper, celeba, gan, demo, folder, tiny)
  blocks.py      layers: RB, BR, hourglass (spec 3)
  networks.py    the four sub-networks (spec 4.1-4.4), the builders of a config's networks and
                 their parameter counts (spec 4.5)
  losses.py      FSRNet, FSRGAN and D losses (spec 6)
  inputs.py      face records -> training batches (spec 1, 5)
  steps.py       the per-replica steps (FSRNet; FSRGAN's D-then-G step), learning rate and
                 schedule (spec 6-7)
  task.py        the Task: wiring only (registers the model "fsrnet")
  serving.py     SuperResolver, the serving module (SavedModel signatures, Python API)
  evaluation.py  FsrnetEvaluator, the spec 9 protocol
Beside them: generator.py, discriminator.py, perceptual.py (VGG-16), degradation.py,
priors.py and prior_sets.py (spec 5 targets), eval_data.py and report.py (evaluation data and
results page), init_from.py (train.init_from), input_kinds.py, visualize.py.
Importing the package registers the model.
"""
from tpgan_tf.models.fsrnet import task  # noqa: F401  (registers the model)
