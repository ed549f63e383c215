"""TensorBoard summaries of a training run (tf.summary, from the tensorboard package).

The chief writes `<model_dir>/train/events.*`; other workers write nothing.
"""
from __future__ import annotations

from typing import Mapping

import tensorflow as tf

SUMMARY_SUBDIR = "train"


class SummaryWriter:
    """Scalars and images at an iteration; a no-op when `directory` is None (non-chief)."""

    def __init__(self, directory: str | None):
        self._writer = tf.summary.create_file_writer(directory) if directory else None

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        if self._writer is None:
            return
        with self._writer.as_default():
            for tag, value in values.items():
                tf.summary.scalar(tag, float(value), step=step)

    def images(self, images: Mapping[str, tf.Tensor], step: int) -> None:
        """{tag: [n, H, W, 3] float in [0, 1]}: each tag as up to n PNG images."""
        if self._writer is None:
            return
        with self._writer.as_default():
            for tag, image in images.items():
                image = tf.clip_by_value(tf.cast(image, tf.float32), 0.0, 1.0)
                tf.summary.image(tag, image, step=step, max_outputs=int(image.shape[0]))

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()


def image_grid(columns: list[tf.Tensor], size: int, max_rows: int = 4) -> tf.Tensor:
    """Images side by side: columns of [n, h, w, 3] (each resized to size x size, nearest)
    -> one [1, rows * size, len(columns) * size, 3] float32 picture, one row per example."""
    tiles = []
    for x in columns:
        x = tf.cast(x[:max_rows], tf.float32)
        if x.shape[1] != size or x.shape[2] != size:
            x = tf.image.resize(x, [size, size], method="nearest")
        if x.shape[-1] == 1:
            x = tf.tile(x, [1, 1, 1, 3])
        tiles.append(tf.clip_by_value(x, 0.0, 1.0))
    rows = tf.concat(tiles, axis=2)  # [n, size, k * size, 3]
    return tf.reshape(rows, [1, rows.shape[0] * size, rows.shape[2], 3])
