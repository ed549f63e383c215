"""Random in-memory data of TP-GAN's training batch (tpgan_tf/models/tpgan/inputs.py)."""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.models.tpgan.inputs import random_examples  # noqa: F401  (re-exported)


def random_dataset(n: int, batch_size: int, seed: int = 0, shuffle_seed: int | None = 1
                   ) -> tf.data.Dataset:
    """A repeating, optionally shuffled (seeded) dataset of contract batches."""
    ds = tf.data.Dataset.from_tensor_slices(random_examples(n, seed))
    if shuffle_seed is not None:
        ds = ds.shuffle(n, seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.repeat().batch(batch_size, drop_remainder=True)
