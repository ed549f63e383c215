"""Checkpoints of a run (tpgan_tf/core/checkpointing.py): variables by path, the saver's resume
from the newest COMPLETE checkpoint, the multi-worker split, resolving a checkpoint path and
restoring networks. The half-written case runs on the shared tiny TP-GAN run
(tests/conftest.py `tiny_training`), relative to the iteration it finds."""
from __future__ import annotations

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core import checkpointing


def test_half_written_checkpoint_is_never_resumed(tiny_training):
    run = tiny_training
    t = run.task
    good_iteration = int(t.iteration.numpy())
    good = run.saver.save(good_iteration)
    # A process killed while writing a newer checkpoint leaves its files but no state entry.
    bad = os.path.join(run.model_dir, f"ckpt-{good_iteration + 7}")
    with open(bad + ".index", "wb") as f:
        f.write(b"\x00truncated")
    with open(bad + ".data-00000-of-00001", "wb") as f:
        f.write(b"\x00" * 100)
    os.makedirs(bad + "_temp", exist_ok=True)
    try:
        run.iterate(1)  # move away from the good state

        saver = run.new_saver()
        assert saver.latest == good
        assert saver.restore_latest() == good
        assert int(t.iteration.numpy()) == good_iteration
    finally:
        for p in glob.glob(bad + "*"):
            if os.path.isdir(p):
                os.rmdir(p)
            else:
                os.remove(p)


def _model(name="net"):
    inputs = keras.Input((3,))
    x = keras.layers.Dense(4, name="a")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="b")(x), name=name)


def test_variables_by_path_names_every_variable_and_refuses_duplicates(tmp_path):
    model = _model()
    node = checkpointing.variables_by_path(model.variables, "net")
    path = tf.train.Checkpoint(net=node).save(str(tmp_path / "ckpt"))
    # One child per variable, named by its Keras path ("/" is escaped as ".S" in the file).
    assert sorted(n for n, _ in tf.train.list_variables(path) if n.startswith("net/")) == [
        f"net/{p.replace('/', '.S')}/.ATTRIBUTES/VARIABLE_VALUE"
        for p in ("a/bias", "a/kernel", "b/bias", "b/kernel")]
    with pytest.raises(ValueError, match="two net variables share the path 'a/kernel'"):
        checkpointing.variables_by_path([model.variables[0]] * 2, "net")


def test_restore_networks_round_trip_and_mismatch(tmp_path):
    src, dst = _model(), _model()
    root = tf.train.Checkpoint(net=checkpointing.variables_by_path(src.variables, "net"),
                               other=tf.Variable(3))
    path = root.save(str(tmp_path / "ckpt"))
    checkpointing.restore_networks({"net": dst}, path)  # "other" is ignored
    for a, b in zip(src.weights, dst.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match=r"does not hold these networks \(other_net\)"):
        checkpointing.restore_networks({"other_net": _model()}, path)


def test_resolve_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint found"):
        checkpointing.resolve_checkpoint(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"ckpt-4\.index does not exist"):
        checkpointing.resolve_checkpoint(str(tmp_path / "ckpt-4"))
    root = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(root, str(tmp_path), max_to_keep=3,
                                         checkpoint_name=checkpointing.CHECKPOINT_NAME)
    manager.save(checkpoint_number=4)
    manager.save(checkpoint_number=9)
    assert checkpointing.resolve_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-9")
    assert checkpointing.resolve_checkpoint(str(tmp_path / "ckpt-4")) == str(tmp_path / "ckpt-4")


def test_saver_non_chief_writes_nothing_in_model_dir(tmp_path):
    value = tf.Variable(5.0)
    root = tf.train.Checkpoint(v=value)
    worker = checkpointing.CheckpointSaver(root, str(tmp_path), keep=2, is_chief=False,
                                           worker_index=1)
    assert worker.save(3) is None
    assert os.listdir(tmp_path) == []  # its private directory was removed again
    chief = checkpointing.CheckpointSaver(root, str(tmp_path), keep=2)
    assert chief.restore_latest() is None  # nothing to resume
    assert chief.save(3) == str(tmp_path / "ckpt-3")
    value.assign(-1.0)
    assert chief.restore_latest() == str(tmp_path / "ckpt-3") and float(value.numpy()) == 5.0


def test_only_tf_data_iterators_are_checkpointed():
    iterator = iter(tf.data.Dataset.range(3))
    assert checkpointing.iterator_is_checkpointable(iterator)
    assert not checkpointing.iterator_is_checkpointable(iter([1, 2, 3]))
