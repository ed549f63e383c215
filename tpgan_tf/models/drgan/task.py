"""DR-GAN's task: drgan spec 3-4 on the shared core (core/task.py); "spec N.M" is a section
of this package's README.md.

Networks (networks.py): encoder (G_enc), decoder (G_dec), discriminator (D). Optimisers
(spec 4.1, Adam 2e-4 / beta1 0.5, core.optimizers.adam): d_optim over D, g_optim over G_enc +
G_dec, and with train.pretrain_d pretrain_optim over D's identity path (spec 4.2,
networks.identity_path). Steps and schedule (steps.py): "d", "g", and with train.pretrain_d
"pretrain" and "copy_trunk" (D's identity trunk copied into G_enc once, at the first GAN
iteration); the configured D:G schedule (alternate / adaptive / official). Every D, G and
pre-training step draws its own augmentation, targets, noise and omega dropout from `rng`, the
checkpointed per-worker generator (steps.draws), so a resumed run continues the same stream.

Scalars: d/<term> and d/acc_<name> of the last D step (an iteration without one repeats the
previous D step's values), g/<term> of the last G step (+ g/pose_accuracy_synth or
g/yaw_error_synth_deg), pretrain/loss and pretrain/accuracy, schedule/<step>_steps (how
often each step ran in the iteration, core/schedule.py), and on the loop's logging and image
iterations of the GAN phase monitor/diversity_* (`observe`, monitoring.py). Images: input |
synthesis of the last G step, and one input decoded at every pose code (`observe`).
"""
from __future__ import annotations

import functools

import tensorflow as tf

from tpgan_tf.core import optimizers
from tpgan_tf.core.registry import register_model
from tpgan_tf.core.steps import LabelCheck, ReplicatedStep, worker_generator
from tpgan_tf.core.summaries import image_grid
from tpgan_tf.core.task import Task
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.models.drgan import inputs, networks, steps
from tpgan_tf.models.drgan.config import DrganConfig
from tpgan_tf.models.drgan.evaluation import DrganEvaluator
from tpgan_tf.models.drgan.photos import DrganPhotos
from tpgan_tf.models.drgan.presets import PRESETS
from tpgan_tf.models.drgan.serving import DrganServing


@register_model("drgan", config=DrganConfig, presets=PRESETS)
class DrganTask(Task):
    """DR-GAN (drgan spec 2-5); see the module doc."""

    serving = DrganServing
    evaluator = DrganEvaluator
    photos = DrganPhotos

    @property
    def encoder(self):
        return self.networks["encoder"]

    @property
    def decoder(self):
        return self.networks["decoder"]

    @property
    def discriminator(self):
        return self.networks["discriminator"]

    # ------------------------------------------------------------------ building
    def build_networks(self):
        return networks.build_networks(self.config)

    def build_optimizers(self):
        tc = self.config.train
        adam = functools.partial(optimizers.adam, beta1=tc.beta1, beta2=tc.beta2,
                                 epsilon=tc.adam_epsilon)
        g_vars = list(self.encoder.trainable_variables) + list(self.decoder.trainable_variables)
        out = {"d_optim": (adam(tc.learning_rate, name="d_optim"),
                           self.discriminator.trainable_variables),
               "g_optim": (adam(tc.learning_rate, name="g_optim"), g_vars)}
        if tc.pretrain_d:
            out["pretrain_optim"] = (adam(tc.pretrain_learning_rate, name="pretrain_optim"),
                                     networks.identity_path(self.discriminator))
        return out

    def build_steps(self):
        cfg, nets = self.config, self.networks
        self.rng = worker_generator(cfg.train.seed, self.worker.worker_index)
        where = {"iteration": self.iteration, "worker": self.worker.worker_index}
        gan_draws = functools.partial(steps.draws, self.rng, cfg, **where)
        labels = LabelCheck("identity", cfg.model.num_identities)
        augment = steps.augment_first(cfg.data)
        out = {"d": ReplicatedStep(self, functools.partial(steps.d_step, nets, cfg),
                                   ["d_optim"], draws=gan_draws, prepare=augment,
                                   label_check=labels, name="d"),
               "g": ReplicatedStep(self, functools.partial(steps.g_step, nets, cfg),
                                   ["g_optim"], draws=gan_draws, prepare=augment, name="g")}
        if cfg.train.pretrain_d:
            out["pretrain"] = ReplicatedStep(
                self, functools.partial(steps.pretrain_step, self.discriminator, cfg),
                ["pretrain_optim"],
                draws=functools.partial(steps.pretrain_draws, self.rng, cfg, **where),
                prepare=augment, label_check=labels, name="pretrain")
            out["copy_trunk"] = self._copy_trunk
        # Measures only (inference mode): the pose grid always, one trace.
        self.monitor_step = ReplicatedStep(self, functools.partial(steps.monitor, nets, cfg),
                                           jit=False, name="monitor")
        return out

    def _copy_trunk(self, batch):
        """The "copy_trunk" step (spec 4.2): D's identity trunk into G_enc; no scalars."""
        networks.copy_identity_trunk(self.discriminator, self.encoder)
        return {}, {}

    def schedule(self):
        return steps.schedule(self.config)

    def random_state(self):
        return {"rng": self.rng}

    def inference_networks(self):
        return ["encoder", "decoder"]

    def observe(self, batch):
        """monitor/diversity_* and the pose grid, in the GAN phase (none while D pre-trains:
        the decoder is not trained yet)."""
        if int(self.iteration.numpy()) < steps.gan_start(self.config.train):
            return {}, {}
        values, images = self.monitor_step(batch)
        return {f"monitor/{k}": v for k, v in values.items()}, images

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

    # ------------------------------------------------------------------ logging
    def log_line(self, values):
        if "pretrain/loss" in values:
            return (f"pretraining D: identity loss {values['pretrain/loss']:.4f} | "
                    f"accuracy {values['pretrain/accuracy']:.3f}")
        parts = []
        if "d/loss" in values:
            parts.append(f"d_loss {values['d/loss']:.4f} (acc {values['d/acc_mean']:.2f})")
        parts.append(f"g_loss {values['g/loss']:.4f}")
        if "g/reconstruction" in values:
            parts.append(f"reconstruction L1 {values['g/reconstruction']:.4f}")
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
        "input | every pose code": one input decoded at every view} in [0, 1] (each when
        the iteration has its images)."""
        size = self.config.data.image_size
        to01 = lambda x: (tf.cast(x, tf.float32) + 1.0) / 2.0  # noqa: E731
        out = {}
        if "synthesis" in images:
            out["input | synthesis"] = image_grid([to01(images["input"]),
                                                   to01(images["synthesis"])], size)
        if "pose_grid" in images:
            grid = images["pose_grid"]
            columns = [images["pose_grid_input"]] + [grid[i:i + 1] for i in range(grid.shape[0])]
            out["input | every pose code"] = image_grid([to01(c) for c in columns], size)
        return out

    # ------------------------------------------------------------------ sizes
    def parameter_counts(self):
        return networks.parameter_counts(self.networks, self.config)

    def expected_parameter_counts(self):
        return networks.expected_parameter_counts(self.config)
