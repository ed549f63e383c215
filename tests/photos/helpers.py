"""Helpers of the photo-tool tests: a randomly initialised training run of any model."""
from __future__ import annotations

import os


def random_run(folder: str, task: str, preset: str = "tiny", overrides=(), seed: int = 10
               ) -> str:
    """Builds `preset` of model `task` with random weights (keras seed), saves its config and
    one checkpoint of its networks in `folder`; returns the checkpoint prefix (a --model_dir
    the photo tool's ModelSource opens)."""
    import keras
    import tensorflow as tf

    from tpgan_tf.core import checkpointing
    from tpgan_tf.core.config import save_config
    from tpgan_tf.core.runner import load_trained

    keras.utils.set_random_seed(seed)
    built, cfg, _ = load_trained(None, preset, task=task, overrides=list(overrides))
    save_config(cfg, folder)
    return tf.train.Checkpoint(**{name: checkpointing.variables_by_path(net.variables, name)
                                  for name, net in built.networks.items()}).save(
        os.path.join(folder, "ckpt"))
