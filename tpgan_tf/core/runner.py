"""The wiring of a run, for any registered model: training (`experiments.train`) and loading a
trained run for export, evaluation and inference.

    result = train(cfg, data_dir, model_dir)            # weight files: cfg.weights.*
    run = start_training(cfg, data_dir, model_dir); run.train_until(100); run.train_until(200)
    task, cfg, ckpt = load_trained(model_dir)           # or (None, "demo", task="tpgan"): random

Which config a command uses (one rule for every script):
  * training: the preset (--config) plus --override; config.json in model_dir is (re)written;
  * commands that load a run (export, evaluate, frontalize, ...): the run's config.json plus
    --override (e.g. model.bn_mode=inference); a preset as well is an error, since the
    checkpoint only fits the config it was trained with; without a run: the preset plus
    --override, with randomly initialised weights.

In order: the task's weight-file check (before anything heavy, so a missing file costs
nothing), the strategy (first TF work: multi-worker collectives must be set up before any
other op), seeds / determinism, the dtype policy, synchronised batch norm for several
replicas, the task's networks and optimisers, each replica's own input
(distribution.distributed_batches), the checkpoint (restored from the newest complete one in
model_dir if there is one), config.json, then the shared loop.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from typing import Callable

import keras

from tpgan_tf.core import checkpointing, distribution, memory, registry
from tpgan_tf.core.config import (ExperimentConfig, apply_overrides, get_config, load_config,
                                  save_config)
from tpgan_tf.core.loop import LoopResult, run_training
from tpgan_tf.core.summaries import SUMMARY_SUBDIR


def resolve_runtime(cfg: ExperimentConfig, num_replicas: int) -> ExperimentConfig:
    """cfg with `runtime.sync_batch_norm` decided: True exactly when there are several
    replicas, unless the config says otherwise explicitly."""
    if cfg.runtime.sync_batch_norm is None:
        cfg = dataclasses.replace(cfg, runtime=dataclasses.replace(
            cfg.runtime, sync_batch_norm=num_replicas > 1))
    return cfg


def setup(cfg: ExperimentConfig):
    """Everything before the data: (task built in its strategy, resolved config)."""
    task_cls = registry.get_model(cfg.task).task
    task_cls.check_weights(cfg)  # before anything heavy
    rt = cfg.runtime
    if rt.keep_freed_memory:
        memory.keep_freed_memory()  # before the first large allocation of the run
    strategy = distribution.make_strategy(rt.strategy)
    if rt.deterministic:
        distribution.enable_determinism(cfg.train.seed)
    else:
        keras.utils.set_random_seed(cfg.train.seed)  # reproducible initial weights
    distribution.set_precision(rt.mixed_precision)
    cfg = resolve_runtime(cfg, strategy.num_replicas_in_sync)
    task = task_cls(cfg, strategy=strategy).build()
    return task, cfg


@dataclasses.dataclass
class TrainingRun:
    """A built run ready to train (start_training): the task, its input iterator and checkpoint
    saver; `train_until` may be called again and again (training in chunks)."""

    task: object  # the built core.task.Task
    config: ExperimentConfig  # resolved (runtime decided)
    batches: object  # iterator of distributed batches (restored with the checkpoint)
    saver: checkpointing.CheckpointSaver
    model_dir: str
    restored: str | None  # the checkpoint the run resumed from
    log: Callable[[str], None]

    def train_until(self, num_iterations: int, stop: Callable[[], bool] | None = None
                    ) -> LoopResult:
        """The shared loop up to iteration `num_iterations` (or until `stop()`: loop.py)."""
        return run_training(self.task, self.batches, self.saver, num_iterations,
                            summary_dir=os.path.join(self.model_dir, SUMMARY_SUBDIR),
                            log=self.log, stop=stop)


def start_training(cfg: ExperimentConfig, data_dir: str | None, model_dir: str, *,
                   dataset_fn: Callable | None = None,
                   log: Callable[[str], None] | None = None) -> TrainingRun:
    """Builds everything for `cfg`, restores the newest checkpoint of `model_dir` (if any),
    writes config.json and logs the run's line; no iteration yet.

    dataset_fn (tests): input_context -> one replica's tf.data.Dataset, replacing the task's
    records of data_dir.
    """
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    task, cfg = setup(cfg)
    make = dataset_fn or (lambda ctx: task.train_dataset(data_dir, ctx))
    iterator = iter(distribution.distributed_batches(task.strategy, make))
    checkpoint = checkpointing.make_checkpoint(task, iterator)
    info = task.worker
    saver = checkpointing.CheckpointSaver(checkpoint, model_dir, cfg.train.keep_checkpoints,
                                          info.is_chief, info.worker_index)
    restored = saver.restore_latest()
    if info.is_chief:
        save_config(cfg, model_dir)
    rt = cfg.runtime
    saved_position = checkpointing.iterator_is_checkpointable(iterator)
    log(f"{'resumed from ' + restored if restored else 'fresh run'} | model {cfg.task} | "
        f"config {cfg.name} | strategy {rt.strategy} ({task.num_replicas} replicas, "
        f"{info.num_workers} workers) | precision {rt.mixed_precision} | jit {rt.jit_compile} | "
        f"global batch {cfg.train.batch_size} | input position "
        f"{'is' if saved_position else 'is NOT'} checkpointed")
    return TrainingRun(task, cfg, iterator, saver, model_dir, restored, log)


def train(cfg: ExperimentConfig, data_dir: str | None, model_dir: str, *,
          num_iterations: int | None = None,
          dataset_fn: Callable | None = None, log: Callable[[str], None] | None = None
          ) -> LoopResult:
    """Builds everything for `cfg` and trains into `model_dir` up to `num_iterations` (default
    the config's); returns the LoopResult. dataset_fn: as in start_training."""
    run = start_training(cfg, data_dir, model_dir, dataset_fn=dataset_fn, log=log)
    return run.train_until(num_iterations or run.config.train.num_iterations)


def resolve_config(model_dir: str | None = None, preset: str | None = None,
                   overrides=(), task: str | None = None) -> ExperimentConfig:
    """The config of a command that loads a run (see the module doc for the rule).

    model_dir: a run directory or a checkpoint prefix inside one. task: the --model flag
    (None: the run's own; required without a run). Errors name the conflict."""
    if model_dir:
        if preset:
            raise ValueError(f"give --config (a preset, random weights) or --model_dir (a "
                             f"trained run: its config.json is used), not both; got "
                             f"--config={preset} and --model_dir={model_dir}")
        run_dir = model_dir if os.path.isdir(model_dir) else os.path.dirname(model_dir)
        cfg = load_config(run_dir)
        if task and task != cfg.task:
            raise ValueError(f"{run_dir} holds a {cfg.task!r} run, but --model={task}")
    else:
        if not task:
            raise ValueError("give --model (tpgan, drgan, fsrnet, ...) with --config, or "
                             "--model_dir of a trained run")
        cfg = get_config(preset or "paper", task)
    return apply_overrides(cfg, overrides)


def load_trained(model_dir: str | None = None, preset: str | None = None, overrides=(),
                 task: str | None = None):
    """Builds a task's inference networks and restores them from a run.

    model_dir: a training run directory (its newest complete checkpoint) or a checkpoint
    prefix (`<model_dir>/ckpt-1500`); None gives randomly initialised networks of `preset`.
    Returns (task built for inference, its config, the checkpoint prefix or None).
    """
    cfg = resolve_config(model_dir, preset, overrides, task)
    ckpt = checkpointing.resolve_checkpoint(model_dir) if model_dir else None
    distribution.set_precision("float32")  # inference graphs in float32, whatever trained
    cfg = resolve_runtime(dataclasses.replace(cfg, runtime=dataclasses.replace(
        cfg.runtime, sync_batch_norm=False)), 1)
    instance = registry.get_model(cfg.task).task(cfg).build_for_inference()
    if ckpt:
        checkpointing.restore_networks(
            {name: instance.networks[name] for name in instance.inference_networks()}, ckpt)
    return instance, cfg, ckpt
