"""The Task protocol is the seam: a toy model registered from this file (no change to core
code) trains through the shared loop, checkpoints, resumes exactly, exports a SavedModel that
TF Serving's session loader runs, and does so under every precision x XLA combination."""
from __future__ import annotations

import dataclasses
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core import checkpointing, config, distribution, registry, runner
from tpgan_tf.core.task import Task
from tpgan_tf.serving import export


@dataclasses.dataclass
class ToyTrain(config.TrainLoopConfig):
    batch_size: int = 4
    num_iterations: int = 2
    checkpoint_every: int = 1
    log_every: int = 1
    image_summary_every: int = 1
    learning_rate: float = 0.05


@dataclasses.dataclass
class ToyModel:
    units: int = 3
    noise: float = 0.1


@dataclasses.dataclass
class ToyConfig(config.ExperimentConfig):
    task: str = "toy"
    model: ToyModel = dataclasses.field(default_factory=ToyModel)
    train: ToyTrain = dataclasses.field(default_factory=ToyTrain)


class ToyTask(Task):
    """y = x W + noise: one Dense net, one Adam, a checkpointed noise generator."""

    name = "toy"
    SIGNATURE_INPUTS = {"serving_default": {"x": ("float32", (4,))}}

    def build_networks(self):
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(self.config.model.units, name="dense")],
                               name="net")
        return {"net": net}

    def build_optimizers(self):
        opt = keras.optimizers.Adam(self.config.train.learning_rate, name="opt")
        opt.build(self.networks["net"].trainable_variables)
        return {"opt": opt}

    def build_steps(self):
        self.noise = tf.random.Generator.from_seed(self.config.train.seed)
        self.step = tf.function(self._step, jit_compile=self.config.runtime.jit_compile or None)

    def random_state(self):
        return {"noise": self.noise}

    def train_dataset(self, data_dir, ctx):
        rng = np.random.default_rng(ctx.input_pipeline_id)
        x = rng.normal(size=(16, 4)).astype(np.float32)
        y = x @ np.arange(12, dtype=np.float32).reshape(4, 3)
        b = ctx.get_per_replica_batch_size(self.config.train.batch_size)
        return tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(b)

    def _step(self, x, y):
        net, opt = self.networks["net"], self.optimizers["opt"]
        noise = self.config.model.noise * self.noise.normal(tf.shape(y))
        with tf.GradientTape() as tape:
            pred = tf.cast(net(x, training=True), tf.float32)
            loss = tf.reduce_mean(tf.square(pred - (y + noise)))
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables),
                                net.trainable_variables))
        return loss, pred

    def train_iteration(self, batch):
        loss, pred = self.step(*batch)
        image = tf.clip_by_value(tf.reshape(pred, [1, -1, 3, 1]) * 0 + 0.5, 0, 1)
        return {"loss": loss}, {"pred": tf.tile(image, [1, 1, 1, 3])}

    def serving_endpoints(self):
        net = self.networks["net"]
        fn = tf.function(lambda x: {"y": net(x, training=False)})
        spec = [tf.TensorSpec([None, 4], tf.float32, name="x")]
        fn.get_concrete_function(*spec)
        return {"serving_default": (fn, spec)}, {"toy": True}


config.register_config("toy", ToyConfig, {"tiny": ToyConfig})
registry.register_task("toy", ToyTask)


@pytest.fixture(autouse=True)
def _float32_afterwards():
    yield
    distribution.set_precision("float32")


def test_toy_task_trains_checkpoints_resumes_and_exports(tmp_path):
    cfg = config.get_config("tiny", task="toy")
    straight = runner.train(cfg, None, str(tmp_path / "a"), num_iterations=3, log=lambda s: None)
    first = runner.train(cfg, None, str(tmp_path / "b"), num_iterations=2, log=lambda s: None)
    resumed = runner.train(cfg, None, str(tmp_path / "b"), num_iterations=3, log=lambda s: None)
    assert (straight.start_iteration, first.end_iteration, resumed.start_iteration) == (0, 2, 2)
    assert resumed.last_values == straight.last_values  # exact resume (data, noise, Adam)
    saved = json.loads((tmp_path / "b" / "config.json").read_text())
    assert saved["task"] == "toy" and saved["runtime"]["sync_batch_norm"] is False
    a = tf.train.load_checkpoint(str(tmp_path / "a" / "ckpt-3"))
    b = tf.train.load_checkpoint(str(tmp_path / "b" / "ckpt-3"))
    for name in a.get_variable_to_shape_map():
        if not name.endswith("ITERATOR_STATE") and name != "_CHECKPOINTABLE_OBJECT_GRAPH":
            np.testing.assert_array_equal(a.get_tensor(name), b.get_tensor(name), err_msg=name)
    names = " ".join(a.get_variable_to_shape_map())
    assert "net" in names and "opt" in names and "noise" in names and "data_iterator" in names
    # TensorBoard: the scalar and the image of every iteration.
    events = [e for f in os.listdir(tmp_path / "a" / "train")
              for e in tf.compat.v1.train.summary_iterator(str(tmp_path / "a" / "train" / f))]
    tags = {v.tag for e in events for v in e.summary.value}
    assert {"loss", "perf/examples_per_second", "pred"} <= tags

    task, loaded, ckpt = runner.load_trained(str(tmp_path / "b"))
    assert isinstance(task, ToyTask) and ckpt.endswith("ckpt-3") and loaded.task == "toy"
    restored = task.networks["net"].get_weights()
    np.testing.assert_array_equal(restored[0], b.get_tensor(
        [n for n in b.get_variable_to_shape_map() if "kernel" in n and "opt" not in n][0]))
    version = export.export_task(task, str(tmp_path / "export"))
    assert version.endswith(os.path.join("toy", "1"))
    assert export.read_export_info(version)["toy"] is True
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    out, signatures = export.session_loader_check(version, "serving_default", {"x": x},
                                                  str(tmp_path / "session"))
    assert signatures == ["serving_default"]
    np.testing.assert_allclose(out["y"], task.networks["net"](x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("precision", ["float32", "mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("jit", [False, True])
def test_every_precision_and_xla_combination_trains(tmp_path, precision, jit):
    cfg = config.apply_overrides(config.get_config("tiny", task="toy"), [
        f"runtime.mixed_precision={precision}", f"runtime.jit_compile={jit}"])
    result = runner.train(cfg, None, str(tmp_path), num_iterations=2, log=lambda s: None)
    assert result.end_iteration == 2 and np.isfinite(result.last_values["loss"])
    saved = config.load_config(str(tmp_path))
    assert (saved.runtime.mixed_precision, saved.runtime.jit_compile) == (precision, jit)
    task, _, _ = runner.load_trained(str(tmp_path))
    assert task.networks["net"].dtype_policy.name == "float32"  # inference graphs in float32


def test_unknown_model_and_preset_errors_name_the_choices():
    with pytest.raises(ValueError, match="unknown model 'nope'.*toy.*tpgan"):
        config.get_config("paper", task="nope")
    with pytest.raises(ValueError, match="unknown config preset 'huge' for model 'toy'"):
        config.get_config("huge", task="toy")
    with pytest.raises(ValueError, match="not both"):
        runner.resolve_config("some/run", "tiny")


def test_checkpoint_names_every_network_optimizer_and_random_state():
    task = ToyTask(config.get_config("tiny", task="toy")).build()
    children = set(checkpointing.make_checkpoint(task)._trackable_children())
    assert children == {"net", "opt", "noise", "iteration"}
