"""Random in-memory data of the training batch contract (input_pipeline.make_dataset)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from tpgan_tf.faces.parts import PARTS


def random_examples(n: int, seed: int = 0, num_labels: int = 10) -> dict:
    """n examples of the batch contract as numpy arrays (images uniform in [0, 1))."""
    rng = np.random.default_rng(seed)
    img = lambda *shape: rng.uniform(0, 1, (n, *shape)).astype(np.float32)  # noqa: E731
    ex = {"image": img(128, 128, 3), "frontal": img(128, 128, 3),
          "label": rng.integers(0, num_labels, n).astype(np.int32),
          "yaw": rng.choice([0, 15, 30, 45, 60], n).astype(np.int32)}
    for p in PARTS:
        ex[p.name] = img(p.height, p.width, 3)
        ex[f"frontal_{p.name}"] = img(p.height, p.width, 3)
    return ex


def random_dataset(n: int, batch_size: int, seed: int = 0, shuffle_seed: int | None = 1
                   ) -> tf.data.Dataset:
    """A repeating, optionally shuffled (seeded) dataset of contract batches."""
    ds = tf.data.Dataset.from_tensor_slices(random_examples(n, seed))
    if shuffle_seed is not None:
        ds = ds.shuffle(n, seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.repeat().batch(batch_size, drop_remainder=True)
