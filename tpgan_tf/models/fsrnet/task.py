"""FSRNet / FSRGAN's task on the shared core (core/task.py): fsrnet spec 6-7.

Networks (networks.py): generator, and with train.gan the discriminator. Optimisers (spec 7):
g_optim over G and, with train.gan, d_optim over D: RMSprop in Torch's form
(core/optimizers.py) at a constant or [LI]-decayed learning rate (steps.learning_rate).
Steps and schedule (steps.py): one phase "g" per iteration, FSRNet's step or FSRGAN's D-then-G
step on one forward pass of G (the D update is the "d" ReplicatedStep run inside G's step, so
G's step is built without XLA; D's forward + backward is XLA-compiled under
runtime.jit_compile, FSRNet's whole forward + backward). The frozen VGG-16 of the perceptual
loss (spec 6.2) comes from config `weights.vgg16` and is never checkpointed; without it the
term is off and a message says how to make the file. train.init_from starts the generator
from a trained FSRNet run (init_from.py). Nothing is random in a step, so the checkpoint of
networks, optimisers, counter and input iterator is the whole state: resume is exact with
runtime.deterministic.
"""
from __future__ import annotations

import functools
import os
import sys

from tpgan_tf.core import optimizers
from tpgan_tf.core.registry import register_model
from tpgan_tf.core.steps import ReplicatedStep
from tpgan_tf.core.summaries import image_grid
from tpgan_tf.core.task import MissingResourceError, Task
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.models.fsrnet import networks, steps
from tpgan_tf.models.fsrnet.config import FsrnetConfig
from tpgan_tf.models.fsrnet.evaluation import FsrnetEvaluator
from tpgan_tf.models.fsrnet.perceptual import HOW_TO_GET_WEIGHTS, load_vgg16_features
from tpgan_tf.models.fsrnet.photos import FsrnetPhotos
from tpgan_tf.models.fsrnet.presets import PRESETS
from tpgan_tf.models.fsrnet.serving import SuperResolver


def perceptual_message() -> str:
    """What FSRGAN without VGG-16 weights does, and how to switch the term on."""
    return (f"FSRGAN: no VGG-16 weights given (weights.vgg16), so the perceptual loss "
            f"(gamma_P, fsrnet spec 6.2) is OFF and logged as 0. To switch it on, "
            f"{HOW_TO_GET_WEIGHTS} as --weights=vgg16=PATH.")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@register_model("fsrnet", config=FsrnetConfig, presets=PRESETS)
class FsrnetTask(Task):
    """FSRNet / FSRGAN (fsrnet spec 2-7); see the module doc."""

    serving = SuperResolver
    evaluator = FsrnetEvaluator
    photos = FsrnetPhotos

    @classmethod
    def check_weights(cls, config: FsrnetConfig) -> None:
        """A named VGG-16 file must exist; train.init_from must name an FSRNet run with this
        config's generator. MissingResourceError (one line) otherwise."""
        from tpgan_tf.models.fsrnet.init_from import check_init_from

        path = config.weights.vgg16
        if path and not os.path.isfile(path):
            raise MissingResourceError(f"weights.vgg16={path!r} does not exist; "
                                       f"{HOW_TO_GET_WEIGHTS}")
        try:
            check_init_from(config)
        except (FileNotFoundError, ValueError) as err:
            raise MissingResourceError(str(err)) from None

    @property
    def gan(self) -> bool:
        return bool(self.config.train.gan)

    @property
    def generator(self):
        return self.networks["generator"]

    @property
    def discriminator(self):
        return self.networks.get("discriminator")

    # ------------------------------------------------------------------ building
    def build_networks(self):
        cfg = self.config
        nets = networks.build_networks(cfg, self.for_inference)
        self.vgg = None
        if self.for_inference:
            return nets
        from tpgan_tf.models.fsrnet.init_from import init_generator

        init_generator(nets["generator"], cfg, _log)  # train.init_from (empty: nothing)
        if self.gan and cfg.loss.gamma_p > 0:
            if cfg.weights.vgg16:
                self.vgg = load_vgg16_features(cfg.weights.vgg16, cfg.loss.perceptual_layer)
            else:
                _log(perceptual_message())
        return nets

    def build_optimizers(self):
        tc = self.config.train
        rmsprop = functools.partial(optimizers.rmsprop, rho=tc.rmsprop_rho,
                                    epsilon=tc.rmsprop_epsilon)
        lr = functools.partial(steps.learning_rate, self.config)
        out = {"g_optim": (rmsprop(lr(tc.learning_rate), name="g_optim"),
                           self.generator.trainable_variables)}
        if self.gan:
            out["d_optim"] = (rmsprop(lr(tc.d_learning_rate), name="d_optim"),
                              self.discriminator.trainable_variables)
        return out

    def build_steps(self):
        cfg, nets = self.config, self.networks
        if not self.gan:
            return {"g": ReplicatedStep(self, functools.partial(steps.fsrnet_step, nets, cfg),
                                        ["g_optim"], name="g")}
        # FSRGAN: D's update runs inside G's step (between G's forward pass and G's loss),
        # so G's step is not one XLA function; D's own forward + backward is.
        self.d_step = ReplicatedStep(self, functools.partial(steps.d_step, nets), ["d_optim"],
                                     name="d")
        return {"g": ReplicatedStep(
            self, functools.partial(steps.fsrgan_step, nets, cfg, self.vgg,
                                    self.d_step.update_in_replica),
            ["g_optim"], jit=False, name="g")}

    def schedule(self):
        return steps.schedule(self.config)

    def inference_networks(self):
        return ["generator"]

    # ------------------------------------------------------------------ data
    def train_dataset(self, data_dir, input_context):
        from tpgan_tf.models.fsrnet.inputs import check_landmark_count, make_dataset

        tc, rt = self.config.train, self.config.runtime
        pattern = split_pattern(data_dir, "train")
        check_landmark_count(pattern, self.config)  # one clear error, not a failed assertion
        return make_dataset(pattern, self.config,
                            input_context.get_per_replica_batch_size(tc.batch_size),
                            deterministic=rt.deterministic,
                            seed=tc.seed if rt.deterministic else None,
                            input_context=input_context)

    def random_batch(self, batch_size, seed=0):
        from tpgan_tf.models.fsrnet.inputs import random_batch
        return random_batch(batch_size, self.config, seed)

    # ------------------------------------------------------------------ logging
    def log_line(self, values):
        line = (f"loss {values['g/loss']:.4f} | coarse {values['g/coarse']:.4f} | "
                f"fine {values['g/fine']:.4f} | prior {values['g/prior']:.4f}")
        if "g/d_loss" in values:
            line += f" | adv {values['g/adversarial']:.3f} | d_loss {values['g/d_loss']:.3f}"
        return line

    def summary_images(self, images):
        from tpgan_tf.models.fsrnet.visualize import prior_images

        pc = self.config.priors
        size = int(images["hr"].shape[1])
        pred = prior_images(images["priors"], pc.num_landmarks, pc.parsing_set)
        gt = prior_images(images["priors_gt"], pc.num_landmarks, pc.parsing_set)
        return {"|".join(steps.SUMMARY_TITLES): image_grid(
                    [images[k] for k in steps.SUMMARY_IMAGES], size),
                "heatmaps pred|GT, parsing pred|GT": image_grid(
                    [pred["heatmaps"], gt["heatmaps"], pred["parsing"], gt["parsing"]], size)}

    # ------------------------------------------------------------------ sizes, inference
    def parameter_counts(self):
        return networks.parameter_counts(self.networks, self.config)

    def expected_parameter_counts(self):
        return networks.expected_parameter_counts(self.config)

    def super_resolver(self) -> SuperResolver:
        """The generator's SuperResolver (serving.py), shared with export and evaluation so
        that each of its functions is traced once."""
        return SuperResolver.for_task(self)
