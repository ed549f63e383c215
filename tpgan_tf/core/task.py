"""The Task protocol: what a model gives the shared core.

A model is a sub-package of tpgan_tf.models that registers a Task subclass
(core/registry.py) and its config (core/config.py). The shared code then does the rest:

    training runner (core/runner.py)   strategy, precision, determinism, per-replica input,
                                       checkpoints + resume, config.json, the loop
    the loop (core/loop.py)            iterations, non-finite guard, logging, TensorBoard
    checkpoints (core/checkpointing.py)every network, optimiser and random state by path
    export (serving/export.py)         versioned, atomic SavedModels of `serving_endpoints`
    evaluation scripts                 `evaluate(...)`, whose results the report module writes

What a Task implements (abstract below):
    build_networks()          -> {name: keras.Model}, built, in the strategy scope
    build_optimizers()        -> {name: optimizer}, built over their variables
    train_dataset(data_dir, input_context) -> tf.data.Dataset of PER-REPLICA batches
    train_iteration(batch)    -> (scalars, images): one iteration of the model's own schedule
and may override: check_resources, random_state, log_line, summary_images,
inference_networks, serving_endpoints, evaluate.

Distribution contract. `train_iteration` receives what iterating the distributed dataset
gives: a plain batch under the default strategy, a PerReplica batch otherwise. It runs its
steps with `self.strategy.run` and returns scalars already reduced to the GLOBAL batch
(`distribution.reduce_sum` of per-replica means divided by `num_replicas_in_sync`: the
optimiser sums gradients over replicas, so every update is that of the global-batch mean).
The loop never sees a replica.
"""
from __future__ import annotations

import abc
import math
from typing import Any, ClassVar, Mapping

import numpy as np
import tensorflow as tf

from tpgan_tf.core import distribution
from tpgan_tf.core.config import ExperimentConfig


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or inf; training stops without saving that iteration."""


class MissingResourceError(ValueError):
    """A file the run needs (e.g. identity-network weights) was not given; the message says
    how to get it."""


class Task(abc.ABC):
    """One model's recipe (see the module doc).

    Args:
      config: the run's config (an ExperimentConfig subclass registered for this task).
      strategy: a tf.distribute strategy (default: the current one); everything is built in
        its scope.
      resources: files the model needs, by flag name (e.g. lightcnn_weights=PATH); the
        class lists the names it accepts in `RESOURCES` ({flag name: help}).
    """

    name: ClassVar[str] = ""
    # {flag name: help} of the files this model reads in training (weights of frozen helper
    # networks); `experiments.train` defines them as flags (command_flags("train")).
    RESOURCES: ClassVar[Mapping[str, str]] = {}
    # {signature: {input name: (dtype name, shape of one instance)}} of the export, for the
    # serving client (tests check it against a real export).
    SIGNATURE_INPUTS: ClassVar[Mapping[str, Mapping[str, tuple]]] = {}
    # {signature: [output names]} for the signatures with ONE output (TF Serving's REST API
    # answers those with bare values, without the name).
    SIGNATURE_OUTPUTS: ClassVar[Mapping[str, list]] = {}

    @classmethod
    def command_flags(cls, purpose: str) -> list:
        """The extra flags of the shared scripts for this model (core/flags.py): "train" gives
        the RESOURCES; "export" and "evaluate" none unless a model adds them. Their values
        reach `serving_endpoints(**options)` and `evaluate(**options)`."""
        from tpgan_tf.core.flags import FlagSpec
        if purpose == "train":
            return [FlagSpec(name, "string", None, help) for name, help in cls.RESOURCES.items()]
        return []

    def __init__(self, config: ExperimentConfig, *, strategy: tf.distribute.Strategy | None = None,
                 **resources):
        unknown = sorted(set(resources) - set(self.RESOURCES))
        if unknown:
            raise TypeError(f"{type(self).__name__} takes no resources {unknown}; it takes "
                            f"{sorted(self.RESOURCES)}")
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        self.worker = distribution.worker_info(self.strategy)
        self.resources = {k: v for k, v in resources.items() if v}
        self.for_inference = False
        self.networks: dict[str, Any] = {}
        self.optimizers: dict[str, Any] = {}
        self.iteration: tf.Variable | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def check_resources(cls, config: ExperimentConfig, resources: Mapping[str, str]) -> None:
        """Raises MissingResourceError (saying how to get the file) when `config` needs a
        resource that is not given; called before anything heavy. Default: nothing needed."""

    def build(self) -> "Task":
        """check_resources, then networks, optimisers and the iteration counter, in the
        strategy's scope. Returns self."""
        self.check_resources(self.config, self.resources)
        with self.strategy.scope():
            self.networks = dict(self.build_networks())
            self.optimizers = dict(self.build_optimizers())
            self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        self.build_steps()
        return self

    @abc.abstractmethod
    def build_networks(self) -> Mapping[str, Any]:
        """{name: built keras.Model}. Called in the strategy scope. Variables are checkpointed
        by their Keras path, so name every layer explicitly: Keras' automatic names ("dense_1")
        carry a process-wide counter and change from one build to the next. Frozen helper
        networks loaded from files (identity nets, VGG) are attributes of the task, not
        entries here: they are not checkpointed."""

    @abc.abstractmethod
    def build_optimizers(self) -> Mapping[str, Any]:
        """{name: optimizer}, each already `build(variables)` so a checkpoint restores into
        existing slots. Called in the strategy scope after build_networks."""

    def build_for_inference(self) -> "Task":
        """Only the networks (no resources, optimisers or steps), for export and evaluation;
        `self.for_inference` is True while build_networks runs, so a task can skip frozen
        training-only networks. Returns self."""
        self.for_inference = True
        with self.strategy.scope():
            self.networks = dict(self.build_networks())
        return self

    def build_steps(self) -> None:
        """Hook after the networks, outside the strategy scope: random generators used in
        cross-replica context, tf.functions of the steps. Default: nothing."""

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

    @abc.abstractmethod
    def train_iteration(self, batch) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]:
        """One iteration of the model's schedule on one (distributed) batch.

        Returns (scalars, images): scalars {tag: global-batch scalar tensor} for logging and
        TensorBoard (the non-finite guard checks every one of them); images {name: float
        tensor [n, H, W, 3]} for `summary_images`. Must not touch self.iteration (the loop
        advances it after the guard)."""

    def iterate(self, batch) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]:
        """train_iteration, then the non-finite guard, then iteration += 1 (what the loop and
        tests call). Raises NonFiniteLossError before the counter moves."""
        values, images = self.train_iteration(batch)
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

    def per_worker_batch_size(self) -> int:
        """The global batch divided by the number of workers (it must split evenly over
        workers and replicas)."""
        b, info = self.config.train.batch_size, self.worker
        if b % (info.num_workers * info.local_replicas):
            raise ValueError(f"train.batch_size={b} must be divisible by workers x replicas = "
                             f"{info.num_workers} x {info.local_replicas}")
        return b // info.num_workers

    def trainable_snapshot(self) -> dict[str, np.ndarray]:
        """Every variable of every network as numpy, keyed by its path (tests, resume)."""
        return {v.path: np.array(v.numpy()) for net in self.networks.values()
                for v in net.variables}

    @staticmethod
    def count_params(weights) -> int:
        return int(sum(np.prod(w.shape) for w in weights))

    def parameter_counts(self) -> dict[str, int]:
        """{part: trainable parameters} of a built task (model_summary); default: each
        network and their total."""
        counts = {name: self.count_params(net.trainable_weights)
                  for name, net in self.networks.items()}
        counts["total"] = sum(counts.values())
        return counts

    def expected_parameter_counts(self) -> dict[str, int]:
        """Counts the spec gives for this config ({} when it gives none); model_summary
        prints whether they match."""
        return {}

    @staticmethod
    def check_finite(values: Mapping[str, tf.Tensor], iteration: int) -> None:
        """Raises NonFiniteLossError naming the first non-finite value and the iteration."""
        bad = {k: float(v) for k, v in values.items() if not math.isfinite(float(v))}
        if bad:
            first = next(iter(bad))
            raise NonFiniteLossError(
                f"non-finite loss at iteration {iteration}: {first} = {bad[first]} "
                f"(all non-finite terms: {', '.join(f'{k}={v}' for k, v in bad.items())}); "
                "training stopped, nothing was saved for this iteration")

    # ------------------------------------------------------------------ inference / serving
    def inference_networks(self) -> list[str]:
        """Names of the networks export and evaluation restore (default: all)."""
        return list(self.networks)

    def serving_endpoints(self, **options) -> tuple[dict[str, tuple[Any, list]], dict]:
        """({signature name: (function of the spec's tensors returning {output: tensor},
        input specs)}, metadata for the export's assets.extra JSON) for serving/export.py;
        "serving_default" first. options: the values of command_flags("export")."""
        raise NotImplementedError(f"{type(self).__name__} has no serving signatures")

    def serving_examples(self, batch_size: int, seed: int = 0) -> dict[str, dict]:
        """{signature: {input name: numpy array of batch_size instances}}: valid requests for
        every signature (benchmarks and export tests)."""
        raise NotImplementedError(f"{type(self).__name__} gives no serving examples")

    def evaluate(self, data_dir: str | None, output_dir: str, **options) -> tuple[dict, str]:
        """Runs the model's evaluation protocol on a task built for inference (restored);
        options are the values of command_flags("evaluate") and the common evaluation flags.
        Common options every evaluate accepts (and may ignore): split, batch_size,
        max_examples, z_seed, sheet_rows, show_progress, run_info (dict for the page; with
        "random_weights": True the model's rows say so: evaluation/report.weights_label).
        Returns (results dict, path of the results page)."""
        raise NotImplementedError(f"{type(self).__name__} has no evaluation")

    @classmethod
    def evaluation_needs_weights(cls, options: Mapping[str, Any]) -> bool:
        """Whether an evaluation with these options (command_flags("evaluate") values) scores
        the model's learned networks, so that `experiments.evaluate` needs a trained run
        (default True; e.g. FSRNet's --method=bicubic needs none)."""
        return True

    @classmethod
    def summary_text(cls, results: dict) -> str:
        """A few lines for the terminal after an evaluation (default: none)."""
        return ""
