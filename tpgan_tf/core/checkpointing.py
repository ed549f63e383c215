"""Checkpoints of a training run: everything needed to continue bit-for-bit, for any task.

A checkpoint holds every network of the task (weights, BN moving statistics, dropout seed
states), every optimiser with its slots, the iteration counter, the task's other random state
(e.g. a noise generator) and, when it is a plain tf.data iterator, the input iterator. Frozen
helper networks loaded from their own files (identity nets, VGG) are not part of it.

Half-written checkpoints: tf.train.CheckpointManager writes the data and index files first and
the small `checkpoint` state file last (atomically, by rename), and `latest_checkpoint` reads
only the state file. A process that dies while writing step N leaves files of step N that the
state file does not name, so the run resumes from the last complete checkpoint.

Multi-worker: every worker must take part in a save (it may need collective ops), but only the
chief writes to `model_dir`; the others write to a private temporary directory that is deleted
right away (the tf.distribute multi-worker checkpointing recipe).
"""
from __future__ import annotations

import os
import shutil

import tensorflow as tf

CHECKPOINT_NAME = "ckpt"


def variables_by_path(variables, what: str) -> tf.train.Checkpoint:
    """A checkpoint node whose children are `variables`, each named by its Keras path.

    Why not the Keras objects themselves: tf.train.Checkpoint follows Keras 3 layers only
    through plain attributes, so layers held in lists or dicts (the part nets, the residual
    chains) and the dropout seed state would be silently left out, and an optimiser would
    save its slots but reach the model weights only through its own variable list. Naming
    every variable by its path (unique per model, the same in every build) saves them all.
    """
    mapping = {}
    for v in variables:
        if v.path in mapping:
            raise ValueError(f"tpgan_tf/core/checkpointing.py: two {what} variables share the path "
                             f"{v.path!r}; cannot checkpoint them by path")
        mapping[v.path] = v
    return tf.train.Checkpoint(**mapping)


def make_checkpoint(task, iterator=None) -> tf.train.Checkpoint:
    """A tf.train.Checkpoint over a built task's state (core/task.py): its networks and
    optimisers by variable path, its iteration counter and random state, and `iterator` if it
    can be saved."""
    objects = {name: variables_by_path(net.variables, name) for name, net in task.networks.items()}
    for name, opt in task.optimizers.items():
        if name in objects:
            raise ValueError(f"a network and an optimiser are both named {name!r}")
        objects[name] = variables_by_path(opt.variables, name)
    objects.update(task.random_state())
    objects["iteration"] = task.iteration
    if iterator is not None and iterator_is_checkpointable(iterator):
        objects["data_iterator"] = iterator
    return tf.train.Checkpoint(**objects)


def iterator_is_checkpointable(iterator) -> bool:
    """True for tf.data iterators (their position, shuffle buffers included, can be saved);
    False for Python iterators and tf.distribute iterators."""
    return isinstance(iterator, tf.data.Iterator) and isinstance(
        iterator, tf.__internal__.tracking.Trackable)


class CheckpointSaver:
    """tf.train.CheckpointManager with the chief / non-chief split and automatic resume.

    Args:
      checkpoint: from make_checkpoint.
      model_dir: the run's directory (checkpoints are `model_dir/ckpt-<iteration>`).
      keep: how many checkpoints to keep (config train.keep_checkpoints).
      is_chief, worker_index: from distribution.worker_info.
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, model_dir: str, keep: int,
                 is_chief: bool = True, worker_index: int = 0):
        self.checkpoint = checkpoint
        self.model_dir = model_dir
        self.is_chief = is_chief
        directory = model_dir if is_chief else os.path.join(
            model_dir, f".worker_tmp_{worker_index}")
        self.manager = tf.train.CheckpointManager(
            checkpoint, directory, max_to_keep=keep, checkpoint_name=CHECKPOINT_NAME)

    @property
    def latest(self) -> str | None:
        """The newest complete checkpoint in model_dir (None if there is none)."""
        return tf.train.latest_checkpoint(self.model_dir)

    def save(self, iteration: int) -> str | None:
        """Writes checkpoint `ckpt-<iteration>`; returns its path on the chief, else None."""
        path = self.manager.save(checkpoint_number=iteration)
        if not self.is_chief:
            shutil.rmtree(self.manager.directory, ignore_errors=True)
            return None
        return path

    def restore_latest(self) -> str | None:
        """Restores the newest complete checkpoint of model_dir, if any; returns its path."""
        path = self.latest
        if path is None:
            return None
        status = self.checkpoint.restore(path)
        # Every object we track must be in the file (a checkpoint of another config fails here).
        status.assert_existing_objects_matched()
        return path


def resolve_checkpoint(path: str) -> str:
    """The checkpoint prefix `path` names: a run's model_dir (its newest complete checkpoint)
    or a checkpoint prefix such as `<model_dir>/ckpt-1500` itself.

    Raises FileNotFoundError naming `path` when there is no such checkpoint."""
    if os.path.isdir(path):
        ckpt = tf.train.latest_checkpoint(path)
        if ckpt is None:
            raise FileNotFoundError(f"{path}: no checkpoint found (tf.train.latest_checkpoint "
                                    "reads the 'checkpoint' state file there); train first")
        return ckpt
    if not tf.io.gfile.exists(path + ".index"):
        raise FileNotFoundError(f"{path}: neither a training run directory nor a checkpoint "
                                f"prefix ({path}.index does not exist)")
    return path


def restore_networks(networks: dict, ckpt: str) -> None:
    """Restores every variable of the built `networks` ({name: keras model}, named as in the
    task) from a training checkpoint (the by-path layout of make_checkpoint); the optimisers
    and everything else in it are ignored.

    Raises ValueError naming the checkpoint when it lacks some of the variables or their
    shapes differ (e.g. a checkpoint of another width or model)."""
    root = tf.train.Checkpoint(**{name: variables_by_path(net.variables, name)
                                  for name, net in networks.items()})
    try:
        status = root.restore(ckpt).expect_partial()
        status.assert_existing_objects_matched()
    except (AssertionError, ValueError) as err:
        raise ValueError(f"{ckpt}: the checkpoint does not hold these networks "
                         f"({', '.join(networks)}) of this config: {err}") from None
