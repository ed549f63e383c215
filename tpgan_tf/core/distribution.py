"""tf.distribute strategy, per-replica input and mixed-precision setup, for every model.

    strategy = make_strategy("mirrored")            # all local GPUs (or all logical CPUs)
    set_precision("mixed_bfloat16")                 # before any model is built
    info = worker_info(strategy)                    # who is chief, how many workers / replicas
    batches = distributed_batches(strategy, fn)     # each replica reads its own share

Losses are reduced over the GLOBAL batch (a task divides every replica's mean by the replica
count and the optimiser sums the gradients), and batch norm is synchronised across replicas
(config `runtime.sync_batch_norm`), so one device and N devices compute the same thing.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

import keras
import tensorflow as tf

from tpgan_tf.core.config import PRECISIONS, STRATEGIES


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


# What a deterministic run needs from the environment of its process: TensorFlow running one op
# of a graph at a time. With its default inter-op pool, independent ops of a step (TP-GAN's four
# local pathways, say) run concurrently, the oneDNN kernels among them then split their work over
# however many threads each gets, and the sums come out in a different order: two TP-GAN demo
# runs differed from the first iteration (D's batch-norm statistics by 1e-10) and by 0.3 % in
# the losses after 20 iterations; with this, identical weights. Cost on an AMD EPYC (2 cores):
# 10-20 % over the first 30-40 iterations of TP-GAN's and DR-GAN's demos; TP-GAN's whole demo
# training 636 s against 620 s without it. The pool is sized when the runtime starts, which every
# script's import of TensorFlow does (tpgan_tf/console.py), so it is set in the environment.
DETERMINISTIC_ENV = {"TF_NUM_INTEROP_THREADS": "1"}


def enable_determinism(seed: int) -> None:
    """Seeds Python, numpy, TF and Keras and turns on TF's deterministic kernels.

    With this, two runs from the same seed and data give identical losses and weights, and a
    resumed run equals an uninterrupted one (trainer checkpoints the remaining random state).
    Across processes that also needs DETERMINISTIC_ENV (one op at a time): without it a note
    says so on stderr.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    if any(os.environ.get(k) != v for k, v in DETERMINISTIC_ENV.items()):
        setting = " ".join(f"{k}={v}" for k, v in DETERMINISTIC_ENV.items())
        print(f"note: deterministic ops, but for identical runs across processes also set "
              f"{setting} (independent ops otherwise run concurrently and oneDNN's sums "
              f"can differ)", file=sys.stderr, flush=True)


def distributed_batches(strategy: tf.distribute.Strategy, dataset_fn):
    """The per-replica input of a training run: `dataset_fn(input_context)` builds ONE
    replica's dataset (batches of input_context.get_per_replica_batch_size(global batch)),
    and each replica reads its own. Under the default strategy this is the plain dataset, so
    its iterator can be checkpointed (core/checkpointing.py)."""
    if strategy.num_replicas_in_sync == 1:
        return dataset_fn(tf.distribute.InputContext())
    return strategy.distribute_datasets_from_function(dataset_fn)


def reduce_sum(strategy: tf.distribute.Strategy, per_replica):
    """Sums a (nested) per-replica value over all replicas (cross-replica context)."""
    return tf.nest.map_structure(
        lambda v: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None), per_replica)


def first_replica(strategy: tf.distribute.Strategy, per_replica):
    """The first local replica's value of a (nested) per-replica value (for summaries)."""
    return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0],
                                 per_replica)


def replica_slice(x: tf.Tensor, local_replicas: int) -> tf.Tensor:
    """In replica context: this replica's contiguous slice [b, ...] of a per-worker tensor
    [L*b, ...] (L = local replicas), e.g. noise drawn once per worker."""
    if local_replicas == 1:
        return x
    rid = tf.distribute.get_replica_context().replica_id_in_sync_group % local_replicas
    b = x.shape[0] // local_replicas
    return tf.gather(tf.reshape(x, [local_replicas, b, *x.shape[1:]]), rid)


def batch_size_of(batch) -> int:
    """The static size of the first axis of a (per-replica) batch dict, summed over local
    replicas for a distributed value."""
    first = next(iter(batch.values()))
    if hasattr(first, "values"):  # a PerReplica value
        return sum(int(v.shape[0]) for v in first.values)
    return int(first.shape[0])
