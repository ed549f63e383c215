"""DR-GAN's task: drgan spec 3-4 on the shared core (core/task.py).

Networks: encoder (G_enc), decoder (G_dec), discriminator (D). Optimisers (spec 4.1, Adam 2e-4
/ beta1 0.5, core.optimizers.adam): d_optim over D, g_optim over G_enc + G_dec, and
pretrain_optim over D's identity path when train.pretrain_d (spec 4.2). Random state: `rng`,
the tf.random.Generator of every target pose, noise z, omega-dropout and augmentation draw.

One loop iteration follows schedule.plan (identity pre-training, or the configured D:G
schedule: alternate / adaptive / official); each D or G step draws fresh targets and noise
and runs steps.py's computations (fresh syntheses per step, as the code's separate
session.run calls do). The input pipeline yields un-augmented rows (inputs.py); each step
augments them with seeds drawn from `rng` (inputs.augment_batch): fresh seeds for every D,
G and pre-training step (the code re-draws the augmentation per session.run, spec 4.3), or
one set per iteration shared by its steps with data.same_batch_for_d_and_g. The first GAN
iteration after pre-training copies D's identity trunk into G_enc
(networks.copy_identity_trunk).

Distribution: each replica reads its own share of the global batch (core/runner.py); targets,
z, omega and augmentation draws are made once per worker in cross-replica context for the
whole per-worker batch and each replica takes its contiguous slice, so the random stream is
the checkpointed generator's whatever the replica count. Every loss is the replica's batch
mean divided by the replica count; the optimiser sums gradients over replicas (the
global-batch mean).

Scalars: d/<term> (+ d/acc_<name>) of the last D step (an iteration without one repeats the
previous D step's values; schedule/d_steps says whether one ran), g/<term> of the last G step
(+ g/pose_accuracy_synth or g/yaw_error_synth_deg), schedule/d_steps and g_steps, pretrain/*,
and on logging iterations monitor/diversity_* (monitoring.py, on the centre crops of the
rows: inputs.centre_view). Images on summary iterations: input | synthesis of the last G step,
and one input rendered at every pose code.
"""
from __future__ import annotations

import functools

import tensorflow as tf

from tpgan_tf.core import distribution, optimizers
from tpgan_tf.core.registry import register_task
from tpgan_tf.core.summaries import image_grid
from tpgan_tf.core.task import Task
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.models.drgan import inputs, networks, sampling, schedule, serving, steps


def _identity_path(disc) -> list:
    """D's variables that identity pre-training trains (spec 4.2: all but the pose and the
    adversarial heads; for cvpr / tpami the one FC holds every head, so it is included)."""
    parts = [disc.trunk]
    if disc.variant == "official":
        parts += [disc.identity_branch, disc.identity_out]
    else:
        parts += [disc.fc] + ([disc.identity_out] if hasattr(disc, "identity_out") else [])
    return [v for part in parts for v in part.trainable_variables]


class DrganTask(Task):
    """DR-GAN (drgan spec 2-5); see the module doc."""

    name = "drgan"
    SIGNATURE_INPUTS = serving.SIGNATURE_INPUTS

    # ------------------------------------------------------------------ building
    def build_networks(self):
        nets = networks.build_networks(self.config)
        self.encoder, self.decoder = nets["encoder"], nets["decoder"]
        self.discriminator = nets["discriminator"]
        self.g_vars = list(self.encoder.trainable_variables) + list(
            self.decoder.trainable_variables)
        self.d_vars = list(self.discriminator.trainable_variables)
        self.pretrain_vars = _identity_path(self.discriminator)
        return nets

    def build_optimizers(self):
        tc = self.config.train
        make = functools.partial(optimizers.adam, beta1=tc.beta1, beta2=tc.beta2,
                                 epsilon=tc.adam_epsilon)
        self.d_optim = make(tc.learning_rate, name="d_optim")
        self.g_optim = make(tc.learning_rate, name="g_optim")
        self.d_optim.build(self.d_vars)  # slots now, so a checkpoint restores into them
        self.g_optim.build(self.g_vars)
        out = {"d_optim": self.d_optim, "g_optim": self.g_optim}
        self.pretrain_optim = None
        if tc.pretrain_d:
            self.pretrain_optim = make(tc.pretrain_learning_rate, name="pretrain_optim")
            self.pretrain_optim.build(self.pretrain_vars)
            out["pretrain_optim"] = self.pretrain_optim
        return out

    def build_steps(self):
        # One generator per worker, outside the strategy scope: used in the cross-replica
        # part of a step, its draws sliced per replica; other workers get their own stream.
        self.rng = tf.random.Generator.from_seed(
            self.config.train.seed + 7919 * self.worker.worker_index)
        cfg = self.config
        scale = 1.0 / self.num_replicas

        # Closures, not functools.partial: tf.function would take a partial's bound
        # arguments (the config) for inputs to trace.
        def d_fn(batch, targets, z, omega_draw=None):
            return steps.d_compute(self.networks, batch, targets, z, cfg, self.d_vars, scale,
                                   omega_draw, functools.partial(optimizers.scale_loss,
                                                                 self.d_optim))

        def g_fn(batch, targets, z, omega_draw=None):
            return steps.g_compute(self.networks, batch, targets, z, cfg, self.g_vars, scale,
                                   omega_draw, functools.partial(optimizers.scale_loss,
                                                                 self.g_optim))

        jit = cfg.runtime.jit_compile
        self._d_compute = tf.function(d_fn, jit_compile=True) if jit else d_fn
        self._g_compute = tf.function(g_fn, jit_compile=True) if jit else g_fn
        self.d_step = tf.function(self._d_step)
        self.g_step = tf.function(self._g_step)
        self.pretrain_step = tf.function(self._pretrain_step)
        self.monitor_step = tf.function(self._monitor_step)
        self._last_d: dict = {}

    def random_state(self):
        return {"rng": self.rng}

    def inference_networks(self):
        return ["encoder", "decoder"]

    # ------------------------------------------------------------------ data
    def train_dataset(self, data_dir, input_context):
        cfg = self.config
        tc, rt = cfg.train, cfg.runtime
        return inputs.make_dataset(
            split_pattern(data_dir, "train"),
            input_context.get_per_replica_batch_size(tc.batch_size), cfg.data,
            multi_images=cfg.model.multi_images, shuffle=True, repeat=True,
            deterministic=rt.deterministic, seed=tc.seed if rt.deterministic else None,
            input_context=input_context)

    def random_batch(self, batch_size, seed=0):
        """Random rows of the input pipeline (un-augmented, inputs.random_examples)."""
        return {k: tf.constant(v) for k, v in
                inputs.random_examples(batch_size, self.config, seed).items()}

    # ------------------------------------------------------------------ draws
    def _draws(self, batch):
        """Targets [rows, k], z [rows, k, N^z] and omega draws [rows, n] (or None) for the
        whole per-worker batch (cross-replica context)."""
        cfg = self.config
        rows = distribution.batch_size_of(batch)
        k = steps.syntheses_per_row(cfg)
        targets = sampling.draw_targets(self.rng, rows, k, cfg)
        z = sampling.draw_z(self.rng, rows, k, cfg)
        omega = None
        if cfg.model.multi_images > 1 and cfg.model.omega_dropout > 0:
            omega = self.rng.uniform([rows, cfg.model.multi_images])
        return targets, z, omega

    def augmentation_seeds(self, batch):
        """One stateless augmentation seed per image of the per-worker rows `batch`: int64
        [rows, 2] ([rows, n, 2] multi-image), cross-replica context (inputs.augment_batch)."""
        n = self.config.model.multi_images
        shape = [distribution.batch_size_of(batch)] + ([n] if n > 1 else []) + [2]
        return self.rng.uniform_full_int(shape, tf.int64)

    def _slice(self, *tensors):
        return [None if t is None else distribution.replica_slice(t, self.worker.local_replicas)
                for t in tensors]

    def _check_labels(self, batch):
        """Identity labels must index the identity head (model.num_identities = N^d)."""
        if self.config.runtime.jit_compile:
            return []
        n = self.config.model.num_identities
        label = tf.cast(batch["identity"], tf.int64)
        return [tf.debugging.assert_less(
                    label, tf.constant(n, tf.int64),
                    message=f"identity label (subject - 1) >= model.num_identities={n}; "
                            "raise model.num_identities to the number of training subjects"),
                tf.debugging.assert_non_negative(label, message="identity label < 0 "
                                                 "(subject ids start at 1)")]

    # ------------------------------------------------------------------ the steps
    # Each step takes the rows of the input pipeline and the augmentation seeds of the whole
    # per-worker batch (augmentation_seeds); every replica augments its own slice.
    def _augment(self, batch, seeds):
        (seeds,) = self._slice(seeds)
        return inputs.augment_batch(batch, seeds, self.config.data)

    def _d_step(self, batch, seeds):
        targets, z, omega = self._draws(batch)

        def replica_fn(batch, seeds, targets, z, omega):
            targets, z, omega = self._slice(targets, z, omega)
            with tf.control_dependencies(self._check_labels(batch)):
                grads, values = self._d_compute(self._augment(batch, seeds), targets, z,
                                                omega_draw=omega)
            self.d_optim.apply_gradients(zip(grads, self.d_vars))
            return values

        return distribution.reduce_sum(self.strategy, self.strategy.run(
            replica_fn, args=(batch, seeds, targets, z, omega)))

    def _g_step(self, batch, seeds):
        targets, z, omega = self._draws(batch)

        def replica_fn(batch, seeds, targets, z, omega):
            targets, z, omega = self._slice(targets, z, omega)
            grads, values, images = self._g_compute(self._augment(batch, seeds), targets, z,
                                                    omega_draw=omega)
            self.g_optim.apply_gradients(zip(grads, self.g_vars))
            return values, images

        values, images = self.strategy.run(replica_fn, args=(batch, seeds, targets, z, omega))
        return (distribution.reduce_sum(self.strategy, values),
                distribution.first_replica(self.strategy, images))

    def _pretrain_step(self, batch, seeds):
        scale = 1.0 / self.num_replicas

        def replica_fn(batch, seeds):
            with tf.control_dependencies(self._check_labels(batch)):
                grads, values = steps.pretrain_compute(
                    self.discriminator, self._augment(batch, seeds), self.config,
                    self.pretrain_vars, scale,
                    functools.partial(optimizers.scale_loss, self.pretrain_optim))
            self.pretrain_optim.apply_gradients(zip(grads, self.pretrain_vars))
            return values

        return distribution.reduce_sum(self.strategy, self.strategy.run(
            replica_fn, args=(batch, seeds)))

    def _monitor_step(self, batch):
        # The pose grid always: one trace, and a decoder pass on N^p images is cheap.
        scale = 1.0 / self.num_replicas
        data = self.config.data
        values, images = self.strategy.run(
            lambda b: steps.monitor(self.networks, inputs.centre_view(b, data), self.config,
                                    scale, with_grid=True),
            args=(batch,))
        return (distribution.reduce_sum(self.strategy, values),
                distribution.first_replica(self.strategy, images))

    def train_iteration(self, batch):
        """One iteration of schedule.plan (module doc). Returns (scalars, images).

        Traced as a whole (the benchmarks' FLOP count) the counter cannot be read: it then
        runs a steady-state GAN iteration with one D and one G step (an "adaptive" one with
        a weak D)."""
        tc = self.config.train
        eager = tf.executing_eagerly()
        it = int(self.iteration.numpy()) if eager else schedule.gan_start(tc) + 2
        plan = schedule.plan(tc, it)
        # Augmentation seeds: fresh for every step, or one set for the iteration (spec 4.3).
        shared = self.augmentation_seeds(batch) if self.config.data.same_batch_for_d_and_g else None
        seeds = lambda: self.augmentation_seeds(batch) if shared is None else shared  # noqa: E731
        values, images = {}, {}
        if plan.pretrain:
            values = {f"pretrain/{k}": v for k, v in self.pretrain_step(batch, seeds()).items()}
            return values, images
        if plan.copy_trunk:
            networks.copy_identity_trunk(self.discriminator, self.encoder)
        if plan.d_step:
            self._last_d = {f"d/{k}": v for k, v in self.d_step(batch, seeds()).items()}
        g_steps = plan.g_steps
        if g_steps is None:  # adaptive: decided by the D step just run
            g_steps = (schedule.adaptive_g_steps(tc, float(self._last_d["d/acc_mean"]))
                       if eager else 1)
        for _ in range(g_steps):
            g_values, g_images = self.g_step(batch, seeds())
        values.update(self._last_d)
        values.update({f"g/{k}": v for k, v in g_values.items()})
        values["schedule/d_steps"] = tf.constant(float(plan.d_step))
        values["schedule/g_steps"] = tf.constant(float(g_steps))
        last = it + 1 == tc.num_iterations
        log = (it + 1) % tc.log_every == 0 or last
        show = (it + 1) % tc.image_summary_every == 0 or last
        if log or show:
            m_values, m_images = self.monitor_step(batch)
            if log:
                values.update({f"monitor/{k}": v for k, v in m_values.items()})
            if show:
                images = {**g_images, **m_images}
        return values, images

    def log_line(self, values):
        if "pretrain/loss" in values:
            return (f"pretraining D: identity loss {values['pretrain/loss']:.4f} | "
                    f"accuracy {values['pretrain/accuracy']:.3f}")
        parts = []
        if "d/loss" in values:
            parts.append(f"d_loss {values['d/loss']:.4f} (acc {values['d/acc_mean']:.2f})")
        parts.append(f"g_loss {values['g/loss']:.4f}")
        if "g/pose_accuracy_synth" in values:
            parts.append(f"pose acc on syntheses {values['g/pose_accuracy_synth']:.2f}")
        if "g/yaw_error_synth_deg" in values:
            parts.append(f"yaw error on syntheses {values['g/yaw_error_synth_deg']:.1f} deg")
        if "monitor/diversity_l1_synth" in values:
            parts.append(f"diversity L1 synth/real {values['monitor/diversity_l1_synth']:.3f}/"
                         f"{values['monitor/diversity_l1_real']:.3f}")
        parts.append(f"D:G {values['schedule/d_steps']:.0f}:{values['schedule/g_steps']:.0f}")
        return " | ".join(parts)

    def summary_images(self, images):
        """{"input | synthesis": rows of inputs and their last G-step syntheses,
        "input | every pose code": one input decoded at every view} in [0, 1]."""
        if not images:
            return {}
        size = self.config.data.image_size
        to01 = lambda x: (tf.cast(x, tf.float32) + 1.0) / 2.0  # noqa: E731
        out = {"input | synthesis": image_grid([to01(images["input"]),
                                                to01(images["synthesis"])], size)}
        if "pose_grid" in images:
            grid = images["pose_grid"]
            columns = [images["pose_grid_input"]] + [grid[i:i + 1] for i in range(grid.shape[0])]
            out["input | every pose code"] = image_grid([to01(c) for c in columns], size)
        return out

    # ------------------------------------------------------------------ serving, evaluation
    @classmethod
    def command_flags(cls, purpose):
        if purpose == "evaluate":
            from tpgan_tf.models.drgan import evaluation
            return evaluation.command_flags()
        return super().command_flags(purpose)

    def serving_endpoints(self):
        endpoints = serving.Endpoints(self.encoder, self.decoder, self.config)
        return endpoints.endpoints(), endpoints.export_info()

    def serving_examples(self, batch_size, seed=0):
        return serving.examples(self.config, batch_size, seed)

    def evaluate(self, data_dir, output_dir, **options):
        from tpgan_tf.models.drgan import evaluation
        return evaluation.evaluate(self, data_dir, output_dir, **options)

    @classmethod
    def summary_text(cls, results):
        from tpgan_tf.models.drgan import evaluation
        return evaluation.summary_text(results)


register_task("drgan", DrganTask)
