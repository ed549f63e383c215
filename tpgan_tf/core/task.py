"""The Task: how a model trains, on the shared core. It only trains; a model's serving
signatures are its ServingModule (tpgan_tf/serving/module.py), its evaluation protocol its
Evaluator (tpgan_tf/evaluation/evaluator.py) and its part of the photo tool its
PhotoApplier (tpgan_tf/photos/applier.py), named by the Task's `serving`, `evaluator` and
`photos`.

A model is a sub-package of tpgan_tf.models (see tpgan_tf/README.md, "Adding a model") whose
task.py registers a Task subclass with its config and presets (core/registry.py). What the
subclass writes:

    build_networks()        -> {name: built keras.Model} (networks.py builds them)
    build_optimizers()      -> {name: (optimizer, variables it updates)}
    build_steps()           -> {name: callable(batch) -> (scalars, images)}: ReplicatedSteps
                               (core/steps.py) of the per-replica functions of steps.py, and
                               plain actions (e.g. a weight copy)
    schedule()              -> the Schedule of an iteration (core/schedule.py): data
    train_dataset(data_dir, input_context) -> tf.data.Dataset of PER-REPLICA batches
and may override: check_weights, random_state, random_batch, observe, log_line,
summary_images, inference_networks, parameter_counts, expected_parameter_counts.

What the core does with it: builds everything in the strategy's scope (optimisers built over
their variables, so a checkpoint restores into existing slots), runs the schedule
(`train_iteration`), guards against non-finite values and counts iterations (`iterate`), and
gives benchmarks the steady-state iteration (`steady_state_iteration`). The loop
(core/loop.py) owns the cadence: on logging and image iterations it asks `observe(batch)` for
extra scalars and pictures.
"""
from __future__ import annotations

import abc
import math
from typing import Any, ClassVar, Mapping

import numpy as np
import tensorflow as tf

from tpgan_tf.core import distribution
from tpgan_tf.core.config import ExperimentConfig
from tpgan_tf.core.schedule import Schedule, ScheduleRunner
from tpgan_tf.core.steps import build_optimizers


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or inf; training stops without saving that iteration."""


class MissingResourceError(ValueError):
    """A file the run needs (e.g. identity-network weights) was not given; the message says
    how to get it."""


class Task(abc.ABC):
    """One model's training recipe (see the module doc).

    Args:
      config: the run's config (the model's registered config class).
      strategy: a tf.distribute strategy (default: the current one); everything is built in
        its scope.
    """

    name: ClassVar[str] = ""  # set by core.registry.register_model
    serving: ClassVar[type | None] = None  # its tpgan_tf.serving.module.ServingModule
    evaluator: ClassVar[type | None] = None  # its tpgan_tf.evaluation.evaluator.Evaluator
    photos: ClassVar[type | None] = None  # its tpgan_tf.photos.applier.PhotoApplier

    def __init__(self, config: ExperimentConfig, *,
                 strategy: tf.distribute.Strategy | None = None):
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        self.worker = distribution.worker_info(self.strategy)
        self.for_inference = False
        self.networks: dict[str, Any] = {}
        self.optimizers: dict[str, Any] = {}
        self.optimizer_variables: dict[str, list] = {}
        self.steps: dict[str, Any] = {}
        self.iteration: tf.Variable | None = None
        self._runner: ScheduleRunner | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def check_weights(cls, config: ExperimentConfig) -> None:
        """Raises MissingResourceError (saying how to get the file) when `config` needs a
        weight file it does not name; called before anything heavy. Default: none needed."""

    def build(self) -> "Task":
        """check_weights, then networks, optimisers and the iteration counter in the
        strategy's scope, then the steps and the schedule. Returns self."""
        self.check_weights(self.config)
        with self.strategy.scope():
            self.networks = dict(self.build_networks())
            self.optimizers, self.optimizer_variables = build_optimizers(
                dict(self.build_optimizers()))
            self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        self.steps = dict(self.build_steps())
        self._runner = ScheduleRunner(self.schedule(), self.steps)
        return self

    def build_for_inference(self) -> "Task":
        """Only the networks (no weight files, optimisers or steps), for export and
        evaluation; `self.for_inference` is True while build_networks runs, so a task can
        skip frozen training-only networks. Returns self."""
        self.for_inference = True
        with self.strategy.scope():
            self.networks = dict(self.build_networks())
        return self

    @abc.abstractmethod
    def build_networks(self) -> Mapping[str, Any]:
        """{name: built keras.Model}, in the strategy scope. Variables are checkpointed by
        their Keras path, so every layer is named explicitly. Frozen helper networks loaded
        from files (identity nets, VGG) are attributes of the task, not entries here: they
        are not checkpointed."""

    @abc.abstractmethod
    def build_optimizers(self) -> Mapping[str, tuple]:
        """{name: (optimizer, the variables it updates)}, in the strategy scope; the core
        builds each optimiser over its variables."""

    @abc.abstractmethod
    def build_steps(self) -> Mapping[str, Any]:
        """{name: callable(batch) -> (scalars, images)} that the schedule names; outside the
        strategy scope (random generators used in cross-replica context live here)."""

    @abc.abstractmethod
    def schedule(self) -> Schedule:
        """The phases of one iteration (core/schedule.py)."""

    def random_state(self) -> Mapping[str, Any]:
        """{name: trackable} of random state outside the networks (e.g. a
        tf.random.Generator of noise) that a resumed run must continue; default none."""
        return {}

    # ------------------------------------------------------------------ training
    @abc.abstractmethod
    def train_dataset(self, data_dir: str | None,
                      input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        """The training input of ONE replica: batches of
        input_context.get_per_replica_batch_size(config.train.batch_size), repeating,
        sharded by input_context.input_pipeline_id when there are several pipelines."""

    def random_batch(self, batch_size: int, seed: int = 0) -> dict:
        """A batch of the training input with random content (benchmarks, tests)."""
        raise NotImplementedError(f"{type(self).__name__} gives no random batches")

    def train_iteration(self, batch) -> tuple[dict, dict]:
        """One iteration of the schedule at the current counter on one (distributed) batch:
        (scalars {"<phase>/<tag>": global-batch value}, images). Does not move the counter."""
        return self._runner.run(batch, int(self.iteration.numpy()))

    def steady_state_iteration(self, batch) -> tuple[dict, dict]:
        """The schedule's steady-state iteration (benchmarks): reads nothing back from the
        device, so a tf.function can trace it as a whole."""
        return self._runner.run(batch, self._runner.schedule.steady_iteration, steady=True)

    def observe(self, batch) -> tuple[dict, dict]:
        """Extra (scalars, images) on the loop's logging and image iterations (failure
        signals that cost a pass of their own); default none."""
        return {}, {}

    def iterate(self, batch, observe: bool = False) -> tuple[dict, dict]:
        """train_iteration (and `observe` when asked), then the non-finite guard, then
        iteration += 1 (what the loop and tests call). Raises NonFiniteLossError before the
        counter moves."""
        values, images = self.train_iteration(batch)
        if observe:
            extra_values, extra_images = self.observe(batch)
            values, images = {**values, **extra_values}, {**images, **extra_images}
        it = int(self.iteration.numpy()) + 1
        self.check_finite(values, it)
        self.iteration.assign(it)
        return values, images

    def log_line(self, values: Mapping[str, float]) -> str:
        """The model's part of the progress line from the iteration's scalars."""
        return " | ".join(f"{k} {v:.4g}" for k, v in list(values.items())[:4])

    def summary_images(self, images: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """{TensorBoard tag: [1, H, W, 3] float image in [0, 1]} from an iteration's images;
        default: each image's first example."""
        return {k: tf.clip_by_value(tf.cast(v[:1], tf.float32), 0.0, 1.0)
                for k, v in images.items()}

    # ------------------------------------------------------------------ helpers
    @property
    def num_replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    def trainable_snapshot(self) -> dict[str, np.ndarray]:
        """Every variable of every network as numpy, keyed by its path (tests, resume)."""
        return {v.path: np.array(v.numpy()) for net in self.networks.values()
                for v in net.variables}

    def parameter_counts(self) -> dict[str, int]:
        """{part: trainable parameters} of the built networks; default: each network and
        their total."""
        counts = {name: count_params(net.trainable_weights)
                  for name, net in self.networks.items()}
        counts["total"] = sum(counts.values())
        return counts

    def expected_parameter_counts(self) -> dict[str, int]:
        """Counts the model's description gives for this config ({} when it gives none);
        model_summary prints whether they match."""
        return {}

    def inference_networks(self) -> list[str]:
        """Names of the networks export and evaluation restore (default: all)."""
        return list(self.networks)

    @staticmethod
    def check_finite(values: Mapping[str, Any], iteration: int) -> None:
        """Raises NonFiniteLossError naming the first non-finite value and the iteration."""
        bad = {k: float(v) for k, v in values.items() if not math.isfinite(float(v))}
        if bad:
            first = next(iter(bad))
            raise NonFiniteLossError(
                f"non-finite loss at iteration {iteration}: {first} = {bad[first]} "
                f"(all non-finite terms: {', '.join(f'{k}={v}' for k, v in bad.items())}); "
                "training stopped, nothing was saved for this iteration")


def count_params(weights) -> int:
    """The number of scalars in a list of weights."""
    return int(sum(np.prod(w.shape) for w in weights))
