"""The toy model: y = x W + noise, one Dense net, one Adam, a checkpointed noise generator,
one serving signature, an evaluation that reports the mean squared error."""
from __future__ import annotations

import dataclasses
import functools
import json
import os

import keras
import numpy as np
import tensorflow as tf

from tpgan_tf.core import config
from tpgan_tf.core.registry import register_model
from tpgan_tf.core.schedule import Phase, Schedule
from tpgan_tf.core.steps import ReplicatedStep, StepOutput, worker_generator
from tpgan_tf.core.task import Task
from tpgan_tf.evaluation.evaluator import Evaluator
from tpgan_tf.serving.module import ServingModule


@dataclasses.dataclass
class TrainConfig(config.TrainLoopConfig):
    batch_size: int = 4
    num_iterations: int = 2
    checkpoint_every: int = 1
    log_every: int = 1
    image_summary_every: int = 1
    learning_rate: float = 0.05


@dataclasses.dataclass
class ModelConfig:
    units: int = 3
    noise: float = 0.1


@dataclasses.dataclass
class ToyConfig(config.ExperimentConfig):
    task: str = "toy"
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def toy_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    return x, x @ np.arange(12, dtype=np.float32).reshape(4, 3)


def step_fn(net, cfg, batch, noise):
    x, y = batch
    pred = tf.cast(net(x, training=True), tf.float32)
    loss = tf.reduce_mean(tf.square(pred - (y + cfg.model.noise * noise)))
    image = tf.tile(tf.reshape(pred, [1, -1, 3, 1]) * 0 + 0.5, [1, 1, 1, 3])
    return StepOutput(losses={"opt": loss}, scalars={"loss": loss}, images={"pred": image})


class ToyServing(ServingModule):
    ENDPOINTS = {"predict": "x"}
    SIGNATURES = {"serving_default": "predict"}
    SIGNATURE_INPUTS = {"serving_default": {"x": ("float32", (4,))}}

    def __init__(self, net):
        self.net = net

    @classmethod
    def from_networks(cls, networks, cfg):
        return cls(networks["net"])

    def predict(self, x):
        return {"y": self.net(x, training=False)}

    def spec(self, name):
        return [tf.TensorSpec([None, 4], tf.float32, name="x")]

    def export_info(self):
        return {"toy": True}


class ToyEvaluator(Evaluator):
    def evaluate(self, data_dir, output_dir, *, run_info=None, show_progress=True):
        x, y = toy_data(0)
        mse = float(np.mean((self.task.networks["net"](x).numpy() - y) ** 2))
        os.makedirs(output_dir, exist_ok=True)
        page = os.path.join(output_dir, "index.html")
        with open(page, "w") as f:
            f.write(f"<p>mse {mse}</p>")
        results = {"mse": mse, "run": run_info or {}}
        with open(os.path.join(output_dir, "results.json"), "w") as f:
            json.dump(results, f)
        return results, page


@register_model("toy", config=ToyConfig, presets={"tiny": ToyConfig})
class ToyTask(Task):
    serving = ToyServing
    evaluator = ToyEvaluator

    def build_networks(self):
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
            self.config.model.units, name="dense")], name="net")
        return {"net": net}

    def build_optimizers(self):
        return {"opt": (keras.optimizers.Adam(self.config.train.learning_rate, name="opt"),
                        self.networks["net"].trainable_variables)}

    def build_steps(self):
        self.noise = worker_generator(self.config.train.seed, self.worker.worker_index)
        draws = lambda batch: (self.noise.normal(tf.shape(batch[1])),)  # noqa: E731
        return {"step": ReplicatedStep(self, functools.partial(step_fn, self.networks["net"],
                                                               self.config),
                                       ["opt"], draws=draws, name="step")}

    def schedule(self):
        return Schedule((Phase("step"),))

    def random_state(self):
        return {"noise": self.noise}

    def train_dataset(self, data_dir, ctx):
        x, y = toy_data(ctx.input_pipeline_id)
        b = ctx.get_per_replica_batch_size(self.config.train.batch_size)
        return tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(b)
