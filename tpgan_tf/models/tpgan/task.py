"""TP-GAN's task: the original schedule of tpgan spec 5 on the shared core (core/task.py).

Networks: generator, discriminator (networks.py). Optimisers (spec 5, three Adams): d_optim
over D, g_optim over all of G, rot_optim over the four local nets. Steps and schedule:
steps.py (1 D : 2 G). Random state: z_rng, the per-worker generator of every step's z (spec
2.5), checkpointed so that a resumed run draws the same noise. The frozen Light-CNN of the
identity loss (spec 4.4) comes from config `weights.lightcnn` and is never checkpointed.
"""
from __future__ import annotations

import functools

from tpgan_tf.core import optimizers
from tpgan_tf.core.registry import register_model
from tpgan_tf.core.steps import LabelCheck, ReplicatedStep, worker_generator
from tpgan_tf.core.summaries import image_grid
from tpgan_tf.core.task import MissingResourceError, Task
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.identity import weights as lightcnn_weights
from tpgan_tf.models.tpgan import networks, steps
from tpgan_tf.models.tpgan.config import TpganConfig
from tpgan_tf.models.tpgan.evaluation import TpganEvaluator
from tpgan_tf.models.tpgan.inputs import make_dataset
from tpgan_tf.models.tpgan.photos import TpganPhotos
from tpgan_tf.models.tpgan.presets import PRESETS
from tpgan_tf.models.tpgan.serving import Frontalizer


class MissingIdentityWeightsError(MissingResourceError):
    """loss.identity > 0 but no Light-CNN weights were given."""


def identity_weights_message(cfg: TpganConfig) -> str:
    """How to get Light-CNN weights, or how to switch the identity loss off."""
    return (
        f"loss.identity={cfg.loss.identity} needs the frozen Light-CNN-29 (spec 4.4), but no "
        f"weights were given. Pass --weights=lightcnn=PATH (config weights.lightcnn) with one "
        f"of:\n"
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


@register_model("tpgan", config=TpganConfig, presets=PRESETS)
class TpganTask(Task):
    """TP-GAN (tpgan spec 2-5); see the module doc."""

    serving = Frontalizer
    evaluator = TpganEvaluator
    photos = TpganPhotos

    @classmethod
    def check_weights(cls, config: TpganConfig) -> None:
        if config.loss.identity > 0 and not config.weights.lightcnn:
            raise MissingIdentityWeightsError(identity_weights_message(config))

    @property
    def generator(self):
        return self.networks["generator"]

    @property
    def discriminator(self):
        return self.networks["discriminator"]

    # ------------------------------------------------------------------ building
    def build_networks(self):
        cfg = self.config
        self.lightcnn = None
        if cfg.loss.identity > 0 and not self.for_inference:
            self.lightcnn = lightcnn_weights.load_lightcnn(cfg.weights.lightcnn,
                                                           cfg.model.lightcnn_width)
            self.lightcnn.trainable = False  # spec 4.4: frozen
        return networks.build_networks(cfg, self.for_inference)

    def build_optimizers(self):
        tc = self.config.train

        def adam(name, steps_per_iteration):
            lr = optimizers.decay_tail(tc.learning_rate, tc.num_iterations * steps_per_iteration,
                                       tc.lr_decay_start)
            return optimizers.adam(lr, tc.beta1, tc.beta2, tc.adam_epsilon, name)

        g, d = self.networks["generator"], self.networks["discriminator"]
        g_steps = tc.generator_steps_per_iteration  # spec 5: each G step updates both
        return {"d_optim": (adam("d_optim", 1), d.trainable_variables),
                "g_optim": (adam("g_optim", g_steps), g.trainable_variables),
                "rot_optim": (adam("rot_optim", g_steps), g.local.trainable_variables)}

    def build_steps(self):
        cfg, nets = self.config, self.networks
        self.z_rng = worker_generator(cfg.train.seed, self.worker.worker_index)
        draws = functools.partial(steps.draw_z, self.z_rng, cfg=cfg)
        labels = LabelCheck("label", cfg.model.num_identities)
        return {"d": ReplicatedStep(self, functools.partial(steps.d_step, nets, cfg),
                                    ["d_optim"], draws=draws, label_check=labels, name="d"),
                "g": ReplicatedStep(self, functools.partial(steps.g_step, nets, cfg,
                                                            self.lightcnn),
                                    ["g_optim", "rot_optim"], draws=draws, name="g")}

    def schedule(self):
        return steps.schedule(self.config)

    def random_state(self):
        return {"z_rng": self.z_rng}

    def inference_networks(self):
        return ["generator"]

    # ------------------------------------------------------------------ data
    def train_dataset(self, data_dir, input_context):
        tc, rt = self.config.train, self.config.runtime
        return make_dataset(split_pattern(data_dir, "train"),
                            input_context.get_per_replica_batch_size(tc.batch_size),
                            yaw_low=tc.yaw_low, yaw_high=tc.yaw_high, shuffle=True, repeat=True,
                            deterministic=rt.deterministic,
                            seed=tc.seed if rt.deterministic else None,
                            input_context=input_context)

    def random_batch(self, batch_size, seed=0):
        import tensorflow as tf

        from tpgan_tf.models.tpgan.inputs import random_examples
        return {k: tf.constant(v) for k, v in random_examples(batch_size, seed).items()}

    # ------------------------------------------------------------------ logging
    def log_line(self, values):
        last = f"g{self.config.train.generator_steps_per_iteration}"
        return (f"d_loss {values['d/d_loss']:.4f} | g_loss {values[f'{last}/g_loss']:.2f} | "
                f"rot_loss {values[f'{last}/rot_loss']:.2f} | "
                f"l1_128 {values[f'{last}/l1_128']:.1f}")

    def summary_images(self, images):
        return {"|".join(steps.SUMMARY_IMAGES): image_grid(
            [images[k] for k in steps.SUMMARY_IMAGES], 128)}

    # ------------------------------------------------------------------ sizes, inference
    def parameter_counts(self):
        return networks.parameter_counts(self.networks, self.config)

    def expected_parameter_counts(self):
        return networks.expected_parameter_counts(self.config)

    def frontalizer(self) -> Frontalizer:
        """The generator's Frontalizer (serving.py), shared with export and evaluation so
        that each of its functions is traced once."""
        return Frontalizer.for_task(self)
