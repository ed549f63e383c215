"""tpgan_tf/core/runner.py: which config a command uses, loading a trained run for inference
(load_trained: config.json + the newest complete checkpoint), and training through `train`
with an exact resume (slow)."""
from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core import runner
from tpgan_tf.core.checkpointing import variables_by_path
from tpgan_tf.core.config import get_config, save_config


def test_resolve_config_rules(tmp_path):
    # Without a run: the model's preset plus the overrides; the model must be named.
    cfg = runner.resolve_config(preset="tiny", overrides=["model.bn_mode=inference"],
                                task="tpgan")
    assert (cfg.name, cfg.task, cfg.model.bn_mode) == ("tiny", "tpgan", "inference")
    assert runner.resolve_config(task="tpgan").name == "paper"
    with pytest.raises(ValueError, match="give --model"):
        runner.resolve_config(preset="tiny")
    # A preset AND a run is an error (the checkpoint fits only the run's own config).
    with pytest.raises(ValueError, match="not both.*--config=tiny.*--model_dir="):
        runner.resolve_config(str(tmp_path), preset="tiny")
    # A run: its config.json (plus overrides); --model must agree with it.
    save_config(get_config("tiny", "tpgan"), str(tmp_path))
    cfg = runner.resolve_config(str(tmp_path), overrides=["train.batch_size=4"])
    assert cfg.name == "tiny" and cfg.train.batch_size == 4
    assert runner.resolve_config(os.path.join(str(tmp_path), "ckpt-3")).name == "tiny"
    with pytest.raises(ValueError, match="holds a 'tpgan' run, but --model=drgan"):
        runner.resolve_config(str(tmp_path), task="drgan")


def test_resolve_runtime_synchronises_batch_norm_only_for_several_replicas():
    cfg = get_config("tiny", "tpgan")
    assert cfg.runtime.sync_batch_norm is None
    assert runner.resolve_runtime(cfg, 1).runtime.sync_batch_norm is False
    assert runner.resolve_runtime(cfg, 2).runtime.sync_batch_norm is True
    cfg.runtime.sync_batch_norm = False  # an explicit choice wins
    assert runner.resolve_runtime(cfg, 2).runtime.sync_batch_norm is False


def test_load_trained_errors(tmp_path, tiny_tpgan):
    model_dir = str(tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="config"):
        runner.load_trained(model_dir)
    save_config(tiny_tpgan.config, model_dir)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        runner.load_trained(model_dir)
    # A checkpoint holding only the encoder is refused, not half-restored.
    partial = tf.train.Checkpoint(generator=variables_by_path(
        tiny_tpgan.generator.encoder.variables, "generator"))
    tf.train.CheckpointManager(partial, model_dir, max_to_keep=1).save(checkpoint_number=1)
    with pytest.raises(ValueError, match=r"does not hold these networks \(generator\)"):
        runner.load_trained(model_dir)
    with pytest.raises(FileNotFoundError, match="ckpt-9.index does not exist"):
        runner.load_trained(os.path.join(model_dir, "ckpt-9"))


def test_load_trained_restores_the_checkpoint(tmp_path, tiny_tpgan):
    """Saved as training does (tpgan_tf.core.checkpointing.make_checkpoint's layout under a
    CheckpointManager), with every variable moved away from its initial value so that a
    variable that is not restored shows; loaded by model_dir and by checkpoint prefix."""
    generator = tiny_tpgan.generator
    model_dir = str(tmp_path / "run")
    save_config(tiny_tpgan.config, model_dir)
    originals = [w.numpy() for w in generator.weights]
    try:
        for i, w in enumerate(generator.weights):
            w.assign(originals[i] + np.float32(0.25 + 0.001 * i))
        expected = [w.numpy() for w in generator.weights]
        root = tf.train.Checkpoint(
            generator=variables_by_path(generator.variables, "generator"),
            iteration=tf.Variable(7, dtype=tf.int64))
        tf.train.CheckpointManager(root, model_dir, max_to_keep=2).save(checkpoint_number=7)
    finally:
        for w, value in zip(generator.weights, originals):
            w.assign(value)
    by_prefix, _, ckpt_prefix = runner.load_trained(os.path.join(model_dir, "ckpt-7"))
    assert ckpt_prefix == os.path.join(model_dir, "ckpt-7")
    for w, value in zip(by_prefix.generator.weights, expected):
        np.testing.assert_array_equal(w.numpy(), value, err_msg=w.path)
    task, cfg, ckpt = runner.load_trained(model_dir, overrides=["model.bn_mode=inference"])
    assert ckpt == os.path.join(model_dir, "ckpt-7")
    assert cfg.name == "tiny" and cfg.model.bn_mode == "inference"
    assert task.for_inference and task.inference_networks() == ["generator"]
    restored = task.generator
    assert restored.norm["bn_mode"] == "inference"
    assert len(restored.weights) == len(expected)
    for w, value in zip(restored.weights, expected):
        np.testing.assert_array_equal(w.numpy(), value, err_msg=w.path)


@pytest.mark.slow
def test_resume_with_new_objects_through_the_train_entry_point(tmp_path):
    """core.runner.train: 3 iterations straight vs 1, then a NEW task, iterator and
    checkpoint (as a restarted process builds them) resuming to 3: identical checkpoints."""
    from tests.batch_contract import random_dataset
    from tpgan_tf.identity.lightcnn import build_lightcnn
    from tpgan_tf.identity.weights import save_h5_weights

    cfg = get_config("tiny", "tpgan")
    cfg.train.checkpoint_every = 1
    cfg.runtime.deterministic = True
    lightcnn_path = str(tmp_path / "lightcnn.h5")
    save_h5_weights(build_lightcnn(cfg.model.lightcnn_width), lightcnn_path)
    batch = cfg.train.batch_size
    kwargs = dict(resources={"lightcnn_weights": lightcnn_path}, log=lambda s: None,
                  dataset_fn=lambda ctx: random_dataset(8, ctx.get_per_replica_batch_size(batch)))
    straight = runner.train(cfg, None, str(tmp_path / "a"), num_iterations=3, **kwargs)
    first = runner.train(cfg, None, str(tmp_path / "b"), num_iterations=1, **kwargs)
    resumed = runner.train(cfg, None, str(tmp_path / "b"), num_iterations=3, **kwargs)
    assert (first.start_iteration, resumed.start_iteration) == (0, 1)
    assert resumed.last_values == straight.last_values
    a = tf.train.load_checkpoint(str(tmp_path / "a" / "ckpt-3"))
    b = tf.train.load_checkpoint(str(tmp_path / "b" / "ckpt-3"))
    names = sorted(a.get_variable_to_shape_map())
    assert names == sorted(b.get_variable_to_shape_map())
    assert len(names) > 3000  # G, D, three optimisers with slots, counters, random state
    for name in names:
        if name.endswith("ITERATOR_STATE") or name == "_CHECKPOINTABLE_OBJECT_GRAPH":
            continue
        np.testing.assert_array_equal(a.get_tensor(name), b.get_tensor(name), err_msg=name)
