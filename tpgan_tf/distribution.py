"""tf.distribute strategy and mixed-precision setup for training (issue 4, point 5).

    strategy = make_strategy("mirrored")            # all local GPUs (or all logical CPUs)
    set_precision("mixed_bfloat16")                 # before any model is built
    info = worker_info(strategy)                    # who is chief, how many workers / replicas

Losses are reduced over the GLOBAL batch (trainer.py divides every replica's mean by the
replica count and the optimiser sums the gradients), and batch norm is synchronised across
replicas (config `model.bn_synchronized`), so one device and N devices compute the same thing.
"""
from __future__ import annotations

import dataclasses
import json
import os

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def make_strategy(name: str = "default", devices: list[str] | None = None
                  ) -> tf.distribute.Strategy:
    """Returns the tf.distribute strategy called `name`.

    default      : the default (one-device) strategy.
    mirrored     : MirroredStrategy over `devices`; by default every local GPU, or, without
                   GPUs, every logical CPU device (so two logical CPUs give two replicas).
    multi_worker : MultiWorkerMirroredStrategy; the cluster comes from the TF_CONFIG variable.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if devices is None and not tf.config.list_logical_devices("GPU"):
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy=multi_worker needs the TF_CONFIG environment variable "
                             "(cluster and task), see "
                             "https://www.tensorflow.org/guide/distributed_training")
        try:
            json.loads(os.environ["TF_CONFIG"])
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON: {e}") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; choose one of {STRATEGIES}")


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """This process's place in the cluster."""

    worker_index: int  # 0 for single-host runs
    num_workers: int
    local_replicas: int  # replicas (devices) on this worker
    is_chief: bool  # the chief writes checkpoints and summaries


def worker_info(strategy: tf.distribute.Strategy) -> WorkerInfo:
    """Worker index / count and chiefness from the strategy (TF_CONFIG for multi_worker)."""
    try:
        local = len(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy: one device
        local = 1
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return WorkerInfo(0, 1, local, True)
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    spec = resolver.cluster_spec().as_dict()
    num_workers = len(spec.get("worker", [])) + len(spec.get("chief", []))
    # With a "chief" task the chief is index 0 and workers follow; otherwise worker 0 is chief.
    if "chief" in spec:
        index = 0 if task_type == "chief" else task_id + 1
    else:
        index = task_id or 0
    is_chief = task_type == "chief" or (task_type == "worker" and task_id == 0
                                        and "chief" not in spec)
    return WorkerInfo(index, max(num_workers, 1), local, is_chief)


def set_precision(policy: str = "float32") -> None:
    """Sets Keras's global dtype policy; call it before building any model.

    float32 (default) is the faithful setting. mixed_float16 needs loss scaling, which the
    trainer adds (keras.optimizers.LossScaleOptimizer) when it sees this policy;
    mixed_bfloat16 needs none. Losses are always computed in float32 (losses.py casts).
    """
    if policy not in PRECISIONS:
        raise ValueError(f"unknown mixed precision policy {policy!r}; choose one of {PRECISIONS}")
    keras.mixed_precision.set_global_policy(policy)


def needs_loss_scaling() -> bool:
    """True under mixed_float16 (float16 gradients underflow without loss scaling)."""
    return keras.mixed_precision.global_policy().compute_dtype == "float16"


def enable_determinism(seed: int) -> None:
    """Seeds Python, numpy, TF and Keras and turns on TF's deterministic kernels.

    With this, two runs from the same seed and data give identical losses and weights, and a
    resumed run equals an uninterrupted one (trainer checkpoints the remaining random state).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
