"""Replicated training steps: the one place where a model's per-replica computation meets
tf.distribute, loss scaling, XLA and the optimisers.

A model writes each of its steps as a function of ONE replica's inputs that returns a
`StepOutput`: its losses by optimiser name, the scalars to log and the summary images, all
as means over that replica's batch. `ReplicatedStep` does the rest, identically for every
model:

  * draws: `draws(batch)` runs in cross-replica context on the per-worker batch and returns
    tensors [per-worker batch, ...] (noise, target poses) drawn once per worker from the
    task's checkpointed generator; each replica gets its contiguous slice, so the random
    stream is the same whatever the replica count;
  * one gradient tape watching exactly the variables of the step's optimisers (what the
    step only reads, e.g. G's forward pass inside a D step, is not recorded); each loss is
    divided by the number of replicas in sync, here and only here, and multiplied by the
    optimiser's loss scale under mixed_float16; the optimisers sum gradients over replicas,
    so every update is that of the global-batch mean;
  * every gradient is taken before any update (TP-GAN's g_optim and rot_optim step from the
    same parameters);
  * forward + backward is one XLA-compiled function under runtime.jit_compile (the updates
    stay outside XLA); the label check (identity labels inside the identity head) runs
    without XLA only, where tf.debugging assertions exist;
  * the logged scalars are scaled by the same 1 / replicas and summed over replicas: the
    global-batch mean; images come from the first local replica.

A step may run another step's update inside its own computation (FSRGAN: D's update between
G's forward pass and G's loss): `inner.update_in_replica(*args)` applies the inner update in
the current replica and returns its unscaled scalars for the outer step to log.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import tensorflow as tf

from tpgan_tf.core import distribution, optimizers


@dataclasses.dataclass
class StepOutput:
    """What a per-replica step function returns (every value a mean over the replica's
    batch): losses {optimizer name: scalar loss}, scalars {tag: scalar} to log, images
    {name: [n, H, W, C]} for summaries."""

    losses: dict = dataclasses.field(default_factory=dict)
    scalars: dict = dataclasses.field(default_factory=dict)
    images: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class LabelCheck:
    """Integer labels `batch[key]` must index a head of `num_classes` outputs; `field` names
    the config field that sets num_classes (for the error message)."""

    key: str
    num_classes: int
    field: str = "model.num_identities"

    def assertions(self, batch) -> list:
        if self.key not in batch:
            return []
        label = tf.cast(batch[self.key], tf.int64)
        n = tf.constant(self.num_classes, tf.int64)
        message = (f"a label batch[{self.key!r}] lies outside [0, {self.field}="
                   f"{self.num_classes}); raise {self.field} to the number of training "
                   "subjects or relabel them from 0")
        return [tf.debugging.assert_less(label, n, message=message),
                tf.debugging.assert_non_negative(label, message=message)]


def worker_generator(seed: int, worker_index: int) -> tf.random.Generator:
    """The checkpointed random generator of a task's draws: one per worker (other workers
    get their own stream), created outside the strategy scope because draws are made in
    cross-replica context and sliced per replica."""
    return tf.random.Generator.from_seed(seed + 7919 * worker_index)


def build_optimizers(optimizers_and_variables: dict) -> tuple[dict, dict]:
    """{name: (optimizer, variables)} -> ({name: optimizer}, {name: variables}), every
    optimiser built over its variables now, so a checkpoint restores into existing slots."""
    opts, variables = {}, {}
    for name, (optimizer, vs) in optimizers_and_variables.items():
        vs = list(vs)
        optimizer.build(vs)
        opts[name], variables[name] = optimizer, vs
    return opts, variables


class ReplicatedStep:
    """One step of a model, run on every replica (module doc).

    Args:
      task: the core.task.Task (its strategy, worker, optimizers and their variables).
      fn: the per-replica function: fn(*inputs, *draws) -> StepOutput; inputs are the
        step's call arguments (usually one replica's batch dict).
      optimizers: names of the task's optimisers this step updates (each takes the loss of
        the same name in StepOutput.losses); none: a step that only measures.
      draws: optional cross-replica function of the call arguments returning a tuple of
        per-worker tensors (or None entries) that are sliced per replica.
      jit: compile forward + backward with XLA (default: runtime.jit_compile). A step that
        updates another step inside it must say jit=False.
      label_check: an optional LabelCheck on the batch (the first input).
      prepare: an optional per-replica function of the step's inputs and sliced draws that
        returns the arguments of `fn`, run before the compiled computation (outside XLA):
        e.g. a data augmentation whose ops XLA lacks.
      name: for error messages and traces.
    """

    def __init__(self, task, fn: Callable, optimizers: Sequence[str] = (), *,
                 draws: Callable | None = None, jit: bool | None = None,
                 label_check: LabelCheck | None = None, prepare: Callable | None = None,
                 name: str = "step"):
        self.task, self.fn, self.optimizer_names = task, fn, tuple(optimizers)
        self.draws, self.label_check, self.name = draws, label_check, name
        self.prepare = prepare
        unknown = [n for n in self.optimizer_names if n not in task.optimizers]
        if unknown:
            raise ValueError(f"step {name!r} updates unknown optimisers {unknown}; the task "
                             f"has {sorted(task.optimizers)}")
        self.jit = task.config.runtime.jit_compile if jit is None else jit
        self._compute = (tf.function(self._compute_fn, jit_compile=True) if self.jit
                         else self._compute_fn)
        self._run = tf.function(self._cross_replica)

    # ------------------------------------------------------------------ per replica
    @property
    def _scale(self) -> float:
        return 1.0 / self.task.strategy.num_replicas_in_sync

    def _variables(self):
        return [self.task.optimizer_variables[n] for n in self.optimizer_names]

    def _compute_fn(self, *args):
        """Forward + backward: (gradients per optimiser, unscaled scalars, images)."""
        variables = self._variables()
        with tf.GradientTape(persistent=len(variables) > 1,
                             watch_accessed_variables=False) as tape:
            for vs in variables:  # Keras 3 variables wrap the tf.Variable the tape watches
                tape.watch([getattr(v, "value", v) for v in vs])
            out = self.fn(*args)
            missing = [n for n in self.optimizer_names if n not in out.losses]
            if missing:
                raise ValueError(f"step {self.name!r} returned no loss for {missing}")
            objectives = [optimizers.scale_loss(self.task.optimizers[n],
                                                out.losses[n] * self._scale)
                          for n in self.optimizer_names]
        grads = [tape.gradient(obj, vs) for obj, vs in zip(objectives, variables)]
        del tape
        scalars = {k: tf.cast(v, tf.float32) for k, v in out.scalars.items()}
        images = {k: tf.cast(v, tf.float32) for k, v in out.images.items()}
        return grads, scalars, images

    def update_in_replica(self, *args):
        """Runs the step in the current replica context (`prepare`, the label check, forward
        + backward, then every update). Returns (unscaled scalars, images)."""
        if self.prepare is not None:
            args = tuple(self.prepare(*args))
        checks = [] if self.jit or self.label_check is None else \
            self.label_check.assertions(args[0])
        with tf.control_dependencies(checks):
            grads, scalars, images = self._compute(*args)
        for name, g, vs in zip(self.optimizer_names, grads, self._variables()):
            self.task.optimizers[name].apply_gradients(zip(g, vs))
        return scalars, images

    # ------------------------------------------------------------------ cross replica
    def _cross_replica(self, *args):
        draws = tuple(self.draws(*args)) if self.draws is not None else ()
        local = self.task.worker.local_replicas
        scale = self._scale

        # Plain graph code: nothing for autograph to convert (MirroredStrategy.run would
        # otherwise convert it from its source file on every trace).
        @tf.autograph.experimental.do_not_convert
        def replica_fn(*all_args):
            inputs, drawn = all_args[:len(args)], all_args[len(args):]
            drawn = tuple(None if d is None else distribution.replica_slice(d, local)
                          for d in drawn)
            scalars, images = self.update_in_replica(*inputs, *drawn)
            return {k: v * scale for k, v in scalars.items()}, images

        strategy = self.task.strategy
        scalars, images = strategy.run(replica_fn, args=(*args, *draws))
        return (distribution.reduce_sum(strategy, scalars),
                distribution.first_replica(strategy, images))

    def __call__(self, *args):
        """Runs the step on (distributed) inputs. Returns (global-batch scalars, images of
        the first local replica)."""
        return self._run(*args)
