"""TP-GAN training: the original schedule of spec 5 as tf.functions, in the style of a Keras
custom-train-step GAN (issue 4).

One iteration on one batch (spec 5, 10.7):
  * D step: a fresh G forward pass with fresh z (no G update); D on the real frontal and on the
    fake img128 in two separate calls (separate BN statistics, spec 3); d_optim on D's variables.
  * then `generator_steps_per_iteration` (= 2) G steps, each with a fresh forward pass and fresh
    z: one persistent tape gives the gradient of g_loss w.r.t. ALL generator variables and of
    rot_loss w.r.t. the four local nets, both at the same parameters; then g_optim and rot_optim
    apply them (two Adam states, spec 5).

Distribution: every step runs through `strategy.run`. The per-worker batch and the per-worker z
are passed to every replica, which takes its own contiguous slice, so the examples and their z
pair up the same way for any replica count. Every loss is the replica's batch mean divided by
the replica count; the optimiser sums gradients over replicas, so the update is that of the
global-batch mean, and the logged numbers (summed over replicas) are global-batch means too.
"""
from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from typing import Callable, Iterator, Mapping

import keras
import numpy as np
import tensorflow as tf

from tpgan_tf import losses as L
from tpgan_tf.config import Config, TrainConfig
from tpgan_tf.discriminator import Discriminator
from tpgan_tf.distribution import needs_loss_scaling, worker_info
from tpgan_tf.fused_adam import FusedAdam
from tpgan_tf.generator import Generator
from tpgan_tf.parts import PART_NAMES

# Generator inputs taken from the batch contract (the rest is ground truth / metadata).
G_INPUT_KEYS = ("image", *PART_NAMES)
SUMMARY_IMAGES = ("input", "img32", "img64", "img128", "ground_truth", "fused_local")


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or inf; training stops without saving (issue 4, point 6)."""


class MissingIdentityWeightsError(ValueError):
    """loss.identity > 0 but no Light-CNN weights were given."""


def identity_weights_message(cfg: Config) -> str:
    """How to get Light-CNN weights, or how to switch the identity loss off."""
    return (
        f"loss.identity={cfg.loss.identity} needs the frozen Light-CNN-29 (spec 4.4), but no "
        f"weights were given. Pass --lightcnn_weights=PATH with one of:\n"
        f"  * the .h5 converted from the public PyTorch LightCNN-29 v1 checkpoint:\n"
        f"      python -m experiments.convert_lightcnn --checkpoint=LightCNN_29Layers_checkpoint"
        f".pth.tar --output=lightcnn29.h5\n"
        f"  * an .h5 trained on your own TFRecords (width must equal model.lightcnn_width="
        f"{cfg.model.lightcnn_width}):\n"
        f"      python -m experiments.pretrain_lightcnn --data_dir=DATA --output=lightcnn29.h5 "
        f"--width={cfg.model.lightcnn_width}\n"
        f"  * the original TP-GAN DeepFace168.pickle.\n"
        f"Or switch the identity loss off explicitly with --override=loss.identity=0 "
        f"(not faithful to the original).")


def check_identity_weights(cfg: Config, lightcnn_weights) -> None:
    """Raises MissingIdentityWeightsError when the identity loss is on and no weights are given."""
    if cfg.loss.identity > 0 and not lightcnn_weights:
        raise MissingIdentityWeightsError(identity_weights_message(cfg))


def make_adam(train: TrainConfig, name: str) -> keras.optimizers.Optimizer:
    """Spec 5: Adam, constant lr 1e-4, beta1 0.9, beta2 0.999, epsilon 1e-8 (TF1 defaults),
    with TF1's fused per-variable update (tpgan_tf/fused_adam.py).

    Wrapped in a dynamic LossScaleOptimizer under the mixed_float16 policy.
    """
    opt = FusedAdam(learning_rate=train.learning_rate, beta_1=train.beta1, beta_2=train.beta2,
                    epsilon=train.adam_epsilon, name=name)
    if needs_loss_scaling():
        opt = keras.optimizers.LossScaleOptimizer(opt, name=f"{name}_loss_scale")
    return opt


def _scalar_dict(values: Mapping[str, tf.Tensor]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items()}


class Trainer:
    """Holds G, D, the frozen Light-CNN, the three optimisers, the iteration counter and the z
    random state; runs the steps of spec 5.

    Args:
      config: the run's Config (model / loss / train sections).
      strategy: a tf.distribute strategy (default: the current one). Everything is built in
        its scope. With > 1 replica, `config.model.bn_synchronized` should be True.
      lightcnn_weights: path of Light-CNN weights (.h5 or the original pickle); required when
        config.loss.identity > 0 unless `lightcnn` is given.
      lightcnn: an already built (and loaded) Light-CNN keras.Model to use instead; build it in
        the strategy's scope.
      jit_compile: compile each step's forward + backward pass with XLA.

    Public state: generator, discriminator, lightcnn (or None), d_optim, g_optim, rot_optim,
    iteration (int64 tf.Variable: completed iterations), z_rng (tf.random.Generator).
    """

    def __init__(self, config: Config, *, strategy: tf.distribute.Strategy | None = None,
                 lightcnn_weights: str | None = None, lightcnn: keras.Model | None = None,
                 jit_compile: bool = False):
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        self.worker = worker_info(self.strategy)
        self.jit_compile = jit_compile
        self.loss_scaling = needs_loss_scaling()
        if lightcnn is None:
            check_identity_weights(config, lightcnn_weights)
        mc, tc = config.model, config.train
        with self.strategy.scope():
            self.generator = Generator.from_model_config(mc).build_for_batch(1)
            self.discriminator = Discriminator.from_model_config(mc).build_for_batch(1)
            self.lightcnn = lightcnn
            if lightcnn is None and config.loss.identity > 0:
                from tpgan_tf.lightcnn import build_lightcnn, load_weights
                self.lightcnn = build_lightcnn(mc.lightcnn_width)
                load_weights(self.lightcnn, lightcnn_weights)
            if self.lightcnn is not None:
                self.lightcnn.trainable = False  # spec 4.4: frozen
            self.g_vars = list(self.generator.trainable_variables)
            self.local_vars = list(self.generator.local.trainable_variables)
            self.d_vars = list(self.discriminator.trainable_variables)
            self.d_optim = make_adam(tc, "d_optim")
            self.g_optim = make_adam(tc, "g_optim")
            self.rot_optim = make_adam(tc, "rot_optim")
            # Build the slots now, so that a checkpoint restores into existing variables.
            self.d_optim.build(self.d_vars)
            self.g_optim.build(self.g_vars)
            self.rot_optim.build(self.local_vars)
            self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        # z (spec 2.5) from a checkpointed generator, so that a resumed run draws the same z.
        # One per worker, outside the strategy scope: it is used in the cross-replica part of
        # a step and its draws are sliced per replica. Other workers get their own stream.
        self.z_rng = tf.random.Generator.from_seed(tc.seed + 7919 * self.worker.worker_index)

        compute = dict(jit_compile=True) if jit_compile else {}
        self._d_compute = tf.function(self._d_compute_fn, **compute) if jit_compile \
            else self._d_compute_fn
        self._g_compute = tf.function(self._g_compute_fn, **compute) if jit_compile \
            else self._g_compute_fn
        self.d_step = tf.function(self._d_step)
        self.g_step = tf.function(self._g_step)

    # ------------------------------------------------------------------ per-replica pieces
    @property
    def local_replicas(self) -> int:
        return self.worker.local_replicas

    def _replica_slice(self, x: tf.Tensor) -> tf.Tensor:
        """This replica's contiguous slice [b, ...] of a per-worker tensor [L*b, ...]."""
        n = self.local_replicas
        if n == 1:
            return x
        rid = tf.distribute.get_replica_context().replica_id_in_sync_group % n
        b = x.shape[0] // n
        return tf.gather(tf.reshape(x, [n, b, *x.shape[1:]]), rid)

    def _generator_inputs(self, batch, z) -> dict:
        inputs = {k: batch[k] for k in G_INPUT_KEYS}
        inputs["z"] = z
        return inputs

    def _d_compute_fn(self, batch, z):
        """D-step forward and backward on one replica's batch. Returns (grads, terms)."""
        outputs = self.generator(self._generator_inputs(batch, z), training=True)
        fake = tf.stop_gradient(outputs["img128"])
        scale = 1.0 / self.strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            # spec 3: two separate calls -> separate BN statistics for real and fake.
            real_logits = self.discriminator(batch["frontal"], training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss, d_real, d_fake = L.discriminator_loss(
                real_logits, fake_logits, self.config.loss.real_label)
            loss = d_loss * scale
            if self.loss_scaling:
                loss = self.d_optim.scale_loss(loss)
        grads = tape.gradient(loss, self.d_vars)
        terms = {"d_loss": d_loss * scale, "d_real": d_real * scale, "d_fake": d_fake * scale}
        return grads, terms

    def _g_compute_fn(self, batch, z):
        """G-step forward and backward on one replica's batch.

        Returns (g_grads over all generator variables, rot_grads over the local nets, terms,
        images for summaries). Both gradients come from one forward pass (spec 10.7).
        """
        cfg = self.config.loss
        scale = 1.0 / self.strategy.num_replicas_in_sync
        with tf.GradientTape(persistent=True) as tape:
            outputs = self.generator(self._generator_inputs(batch, z), training=True)
            fake_logits = self.discriminator(outputs["img128"], training=True)
            terms = L.generator_loss_terms(outputs, batch, fake_logits, self.lightcnn,
                                           cfg.real_label)
            g_loss = L.combine_generator_loss(terms, cfg) * scale
            rot_loss = L.rotation_loss(terms, cfg) * scale
            g_obj, rot_obj = g_loss, rot_loss
            if self.loss_scaling:
                g_obj = self.g_optim.scale_loss(g_loss)
                rot_obj = self.rot_optim.scale_loss(rot_loss)
        g_grads = tape.gradient(g_obj, self.g_vars)
        rot_grads = tape.gradient(rot_obj, self.local_vars)
        del tape
        logged = {"g_loss": g_loss, "rot_loss": rot_loss}
        logged.update({k: terms[k] * scale for k in L.TERM_NAMES})
        images = {"input": batch["image"], "img32": outputs["img32"],
                  "img64": outputs["img64"], "img128": outputs["img128"],
                  "ground_truth": batch["frontal"], "fused_local": outputs["fused_image"]}
        images = {k: tf.cast(v, tf.float32) for k, v in images.items()}
        return g_grads, rot_grads, logged, images

    def _check_labels(self, batch):
        """Identity labels must index the identity head (spec 2.5: 340 logits)."""
        if self.jit_compile or "label" not in batch:
            return []
        n = self.config.model.num_identities
        return [tf.debugging.assert_less(
            tf.cast(batch["label"], tf.int64), tf.constant(n, tf.int64),
            message=f"batch label >= model.num_identities={n}; relabel the subjects or raise "
                    "model.num_identities")]

    # ------------------------------------------------------------------ the steps
    def _draw_z(self, batch) -> tf.Tensor:
        n = batch["image"].shape[0]
        mc = self.config.model
        return self.z_rng.normal([n, mc.z_dim], stddev=mc.z_stddev)  # spec 2.5

    def _d_step(self, batch):
        """One discriminator step on a per-worker batch. Returns global-mean D terms."""
        z = self._draw_z(batch)

        def replica_fn(batch, z):
            batch = {k: self._replica_slice(v) for k, v in batch.items()}
            z = self._replica_slice(z)
            with tf.control_dependencies(self._check_labels(batch)):
                grads, terms = self._d_compute(batch, z)
            self.d_optim.apply_gradients(zip(grads, self.d_vars))
            return terms

        per_replica = self.strategy.run(replica_fn, args=(batch, z))
        return self._reduce(per_replica)

    def _g_step(self, batch):
        """One generator step on a per-worker batch: g_optim and rot_optim, same parameters.

        Returns (global-mean G terms, images of the first local replica for summaries).
        """
        z = self._draw_z(batch)

        def replica_fn(batch, z):
            batch = {k: self._replica_slice(v) for k, v in batch.items()}
            z = self._replica_slice(z)
            g_grads, rot_grads, terms, images = self._g_compute(batch, z)
            # Both gradients were taken before either update (spec 5: one session.run).
            self.g_optim.apply_gradients(zip(g_grads, self.g_vars))
            self.rot_optim.apply_gradients(zip(rot_grads, self.local_vars))
            return terms, images

        terms, images = self.strategy.run(replica_fn, args=(batch, z))
        images = tf.nest.map_structure(
            lambda v: self.strategy.experimental_local_results(v)[0], images)
        return self._reduce(terms), images

    def _reduce(self, per_replica):
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in per_replica.items()}

    def train_iteration(self, batch) -> tuple[dict, dict]:
        """One iteration of spec 5 on one per-worker batch: 1 D step, then the G steps.

        batch: the dict of the batch contract (input_pipeline.make_dataset). Returns
        (values, images): values maps "d/<term>" and "g<k>/<term>" (k = 1, 2, ...) to scalar
        tensors, images are the last G step's outputs (SUMMARY_IMAGES). Raises
        NonFiniteLossError (before the iteration counter moves) if any term is not finite.
        """
        batch = {k: v for k, v in batch.items()}
        values = {f"d/{k}": v for k, v in self.d_step(batch).items()}
        images = None
        for k in range(1, self.config.train.generator_steps_per_iteration + 1):
            terms, images = self.g_step(batch)
            values.update({f"g{k}/{name}": v for name, v in terms.items()})
        self._check_finite(values, int(self.iteration.numpy()) + 1)
        self.iteration.assign_add(1)
        return values, images

    @staticmethod
    def _check_finite(values: Mapping[str, tf.Tensor], iteration: int) -> None:
        bad = {k: float(v) for k, v in values.items() if not math.isfinite(float(v))}
        if bad:
            first = next(iter(bad))
            raise NonFiniteLossError(
                f"non-finite loss at iteration {iteration}: {first} = {bad[first]} "
                f"(all non-finite terms: {', '.join(f'{k}={v}' for k, v in bad.items())}); "
                "training stopped, nothing was saved for this iteration")

    def weights_snapshot(self) -> dict[str, np.ndarray]:
        """Every G and D variable (weights, BN statistics, dropout seed state) as numpy, keyed
        by its path."""
        out = {}
        for model in (self.generator, self.discriminator):
            for v in model.variables:
                out[v.path] = np.array(v.numpy())
        return out


# ---------------------------------------------------------------------- the training loop
@dataclasses.dataclass
class LoopResult:
    """What `run_training` did."""

    start_iteration: int  # restored from a checkpoint (0 for a fresh run)
    end_iteration: int
    last_values: dict  # the last iteration's terms as floats
    seconds: float


def image_grid(images: Mapping[str, tf.Tensor], max_examples: int = 4) -> tf.Tensor:
    """SUMMARY_IMAGES side by side (all shown at 128x128, clipped to [0, 1]), one row per
    example. Returns [1, rows*128, 6*128, 3] float32 for tf.summary.image."""
    columns = []
    for key in SUMMARY_IMAGES:
        x = tf.cast(images[key][:max_examples], tf.float32)
        if x.shape[1] != 128:
            x = tf.image.resize(x, [128, 128], method="nearest")
        columns.append(tf.clip_by_value(x, 0.0, 1.0))
    rows = tf.concat(columns, axis=2)  # [n, 128, 6*128, 3]
    n = rows.shape[0]
    return tf.reshape(rows, [1, n * 128, rows.shape[2], 3])


def _summary_metadata(plugin: str, data_class: int):
    from tensorflow.core.framework import summary_pb2

    md = summary_pb2.SummaryMetadata()
    md.plugin_data.plugin_name = plugin  # content b"": plugin data version 0
    md.data_class = data_class
    return md


# The on-disk form of tensorboard's tf.summary.scalar / tf.summary.image, written with the
# core tf.summary.write so that summaries work without the tensorboard package installed.
_SCALAR_METADATA = _summary_metadata("scalars", 1)  # DATA_CLASS_SCALAR
_IMAGE_METADATA = _summary_metadata("images", 3)  # DATA_CLASS_BLOB_SEQUENCE


def write_scalar(tag: str, value: float, step: int) -> None:
    """A TensorBoard scalar on the default writer."""
    tf.summary.write(tag, tf.constant(value, tf.float32), step=step,
                     metadata=_SCALAR_METADATA)


def write_image(tag: str, image: tf.Tensor, step: int) -> None:
    """A TensorBoard image ([H, W, 3] float in [0, 1]) on the default writer, as PNG."""
    png = tf.image.encode_png(tf.image.convert_image_dtype(image, tf.uint8, saturate=True))
    h, w = int(image.shape[0]), int(image.shape[1])
    tensor = tf.stack([tf.constant(str(w)), tf.constant(str(h)), png])
    tf.summary.write(tag, tensor, step=step, metadata=_IMAGE_METADATA)


def _format_eta(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def run_training(trainer: Trainer, batches: Iterator, manager, num_iterations: int,
                 summary_dir: str | None = None, log: Callable[[str], None] | None = None
                 ) -> LoopResult:
    """Runs iterations until `trainer.iteration == num_iterations`.

    batches: an iterator of per-worker batches (already restored with the checkpoint if it is
    part of it). manager: a checkpointing.CheckpointSaver (or None). Every `log_every`
    iterations: a progress line and TensorBoard scalars of every term; every
    `image_summary_every`: an image grid; every `checkpoint_every` and at the end: a
    checkpoint. A NonFiniteLossError propagates before anything is saved for that iteration,
    so the last good checkpoint stays the latest.
    """
    tc = trainer.config.train
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    chief = trainer.worker.is_chief
    writer = tf.summary.create_file_writer(summary_dir) if (summary_dir and chief) else None
    start = int(trainer.iteration.numpy())
    examples_per_iteration = tc.batch_size
    values: dict = {}
    t_start = time.perf_counter()
    t_window, it_window = t_start, start
    while int(trainer.iteration.numpy()) < num_iterations:
        batch = next(batches)
        raw, images = trainer.train_iteration(batch)
        it = int(trainer.iteration.numpy())
        if it % tc.log_every == 0 or it == num_iterations:
            values = _scalar_dict(raw)
            now = time.perf_counter()
            rate = (it - it_window) * examples_per_iteration / max(now - t_window, 1e-9)
            eta = (num_iterations - it) * examples_per_iteration / max(rate, 1e-9)
            t_window, it_window = now, it
            last_g = f"g{tc.generator_steps_per_iteration}"
            log(f"iter {it}/{num_iterations} | d_loss {values['d/d_loss']:.4f} | "
                f"g_loss {values[f'{last_g}/g_loss']:.2f} | rot_loss "
                f"{values[f'{last_g}/rot_loss']:.2f} | l1_128 {values[f'{last_g}/l1_128']:.1f} | "
                f"{rate:.2f} ex/s | ETA {_format_eta(eta)}")
            if writer is not None:
                with writer.as_default():
                    for name, value in values.items():
                        write_scalar(name, value, it)
                    write_scalar("perf/examples_per_second", rate, it)
        if writer is not None and (it % tc.image_summary_every == 0 or it == num_iterations):
            with writer.as_default():
                write_image("input|img32|img64|img128|ground_truth|fused_local",
                            image_grid(images)[0], it)
        if manager is not None and (it % tc.checkpoint_every == 0 or it == num_iterations):
            manager.save(it)
    if writer is not None:
        writer.flush()
    if not values and int(trainer.iteration.numpy()) > start:
        values = _scalar_dict(raw)
    return LoopResult(start, int(trainer.iteration.numpy()), values,
                      time.perf_counter() - t_start)


def model_dir_summary_path(model_dir: str) -> str:
    """Where TensorBoard event files go."""
    return os.path.join(model_dir, "train")
