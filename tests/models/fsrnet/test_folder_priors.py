"""The `folder` prior set and preset (prior_sets.py, presets.py): five points and the six
parts drawn from them (data_prep/drawn_parsing.py), Helen-11 ids remapped to the parts."""
from __future__ import annotations

import numpy as np

from tpgan_tf.core.config import get_config
from tpgan_tf.models.fsrnet import priors
from tpgan_tf.models.fsrnet.prior_sets import PRIOR_SETS, label_remap


def test_parts6_channels_of_helen11_labels():
    # one 2 x 2 cell per Helen-11 label on a 64 x 64 map (128 / 2): labels 0..10 in the first
    # row of cells, the rest background
    labels = np.zeros((1, 128, 128), np.uint8)
    for k in range(11):
        labels[0, 0:2, 2 * k:2 * k + 2] = k
    prior_set = PRIOR_SETS["folder"]
    assert (prior_set.num_landmarks, prior_set.landmark_scheme, prior_set.num_priors) == (
        5, "celeba5", 11)
    maps = priors.prior_maps(np.full((1, 5, 2), 60.0, np.float32), labels, prior_set).numpy()
    parsing = maps[0, 0, :11, 5:]  # the first row of cells, labels 0..10, the 6 part maps
    # background, skin, brows, brows, eyes, eyes, nose, lips, inner mouth, lips, hair
    expected = [0, 1, 2, 2, 3, 3, 4, 5, 5, 5, 0]
    np.testing.assert_array_equal(parsing.argmax(-1), expected)
    np.testing.assert_array_equal(parsing.max(-1), 1.0)
    assert label_remap("helen11", "parts6") == tuple(expected)


def test_folder_preset():
    cfg = get_config("folder", "fsrnet")
    assert (cfg.priors.num_landmarks, cfg.priors.landmark_scheme, cfg.priors.parsing_set,
            cfg.num_priors) == (5, "celeba5", "parts6", 11)
    assert cfg.train.flip and cfg.degradation.jpeg_lr and not cfg.degradation.jpeg_hr
    assert (cfg.model.width, cfg.model.input_residual, cfg.train.batch_size,
            cfg.train.learning_rate, cfg.train.lr_schedule) == (0.125, True, 4, 5e-4, "poly")
    assert cfg.loss.beta == 1.0  # the priors are trained (the benchmark's other run: 0)
