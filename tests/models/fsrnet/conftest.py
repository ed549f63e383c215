"""Shared fixtures of the FSRNet tests (built once per session). Tracing FSRNet's training step
costs more than running it (26 bottleneck units at hourglass depth 4 x 2 stacks), so the task
and serving fixtures use the tiny preset with SMALL_OVERRIDES (one hourglass of depth 1):
  * `fsrnet_records`: a folder of tiny face records (random faces, the tiny preset's 68
    landmarks), `train-*` (6 faces) and `test-*` (3 faces), written with the real schema;
  * `fsrnet_training`: a tiny FSRNet task (width 1/16, batch 2, deterministic ops) with its
    records iterator and checkpoint saver; tests restore its initial state (`reset`) or
    assert relative to the state they find;
  * `fsrnet_inference`: the tiny task built for inference (seeded) and its SuperResolver.
"""
from __future__ import annotations


import cv2
import pytest

SMALL_OVERRIDES = ("model.hourglass_depth=1", "model.num_stacks=1")


def write_face_records(path: str, cfg, n: int, seed: int = 0) -> dict:
    """n random faces of `cfg`'s landmark count as one shard; returns the numpy examples."""
    import tensorflow as tf

    from tpgan_tf.data.face_records import make_example
    from tpgan_tf.models.fsrnet.inputs import random_examples

    ex = random_examples(n, cfg, seed)
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(n):
            writer.write(make_example({
                "hr_png": cv2.imencode(".png", ex["hr"][i][:, :, ::-1])[1].tobytes(),
                "parsing_png": cv2.imencode(".png", ex["parsing"][i])[1].tobytes(),
                "landmarks": ex["landmarks"][i], "landmark_scheme": "ibug68",
                "label_set": "helen11", "name": f"face{seed}_{i}", "source": "synthetic"}))
    return ex


class FsrnetTraining:
    """The tiny deterministic run: task, iterator over `fsrnet_records`, saver, and a
    checkpoint of its initial state."""

    def __init__(self, records: str, tmp, overrides=()):
        from tpgan_tf.core import checkpointing, distribution
        from tpgan_tf.core.config import apply_overrides, get_config
        from tpgan_tf.models.fsrnet.task import FsrnetTask

        self.cfg = apply_overrides(get_config("tiny", "fsrnet"),
                                   [*SMALL_OVERRIDES, "runtime.deterministic=true", *overrides])
        distribution.enable_determinism(self.cfg.train.seed)
        self.task = FsrnetTask(self.cfg).build()
        ctx = __import__("tensorflow").distribute.InputContext()
        self.iterator = iter(self.task.train_dataset(records, ctx))
        ckpt = checkpointing.make_checkpoint(self.task, self.iterator)
        self.saver = checkpointing.CheckpointSaver(ckpt, str(tmp / "run"), 3)
        self._initial = checkpointing.make_checkpoint(self.task, self.iterator)
        self._initial_path = self._initial.write(str(tmp / "initial" / "ckpt"))

    def reset(self) -> None:
        self._initial.read(self._initial_path).assert_existing_objects_matched()

    def iterate(self, n: int) -> list[dict]:
        out = []
        for _ in range(n):
            values, self.images = self.task.iterate(next(self.iterator))
            out.append({k: float(v) for k, v in values.items()})
        return out


@pytest.fixture(scope="session")
def fsrnet_training(fsrnet_records, tmp_path_factory) -> FsrnetTraining:
    return FsrnetTraining(fsrnet_records, tmp_path_factory.mktemp("fsrnet_training"))


@pytest.fixture(scope="session")
def fsrnet_inference():
    """(task built for inference with seeded random weights, its SuperResolver)."""
    import keras

    from tpgan_tf.core.runner import load_trained

    keras.utils.set_random_seed(7)
    task, _, _ = load_trained(preset="tiny", overrides=SMALL_OVERRIDES, task="fsrnet")
    return task, task.super_resolver()
