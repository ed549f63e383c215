"""FSRNet / FSRGAN's task on the shared core (core/task.py): fsrnet spec 6-7.

One iteration on one batch:
  * FSRNet (train.gan off): one step: G's forward pass in training mode, L = MSE(y_c, y) +
    alpha MSE(y_hat, y) + beta MSE(p, p_gt) (spec 6.1, mean-normalised MSEs, losses.py), one
    RMSprop update of every generator variable (Torch's form, spec 7: core/optimizers.py).
  * FSRGAN (train.gan on): one D step, then one G step on the same batch ([CS], spec 6.2),
    from ONE forward pass of G, as [CS]: the D step scores (x, y) against (x, stop_gradient(
    y_hat)) and updates D; then G's loss L_FSRNet + gamma_C BCE(D(x, y_hat), real) + gamma_P
    MSE(VGG(y_hat), VGG(y)) uses the updated D, and G is updated. The perceptual term is on
    only when a VGG-16 weight file is given (--vgg16_weights); without one a message at start
    says how to make it and the term is logged as 0.

Distribution: each replica reads its own share of the global batch (core/runner.py); every
loss is the replica's batch mean divided by the replica count and the optimiser sums the
gradients, so the update is that of the global-batch mean (core/task.py contract). Nothing
here is random (no noise, no dropout), so the checkpoint of the networks, optimisers, counter
and input iterator is the whole state: resume is exact with runtime.deterministic.
XLA (runtime.jit_compile): FSRNet's forward + backward pass is one compiled function; FSRGAN's
interleaved step (an optimiser update between two halves of G's tape) compiles only D's
forward + backward.
"""
from __future__ import annotations

import sys
from typing import Mapping

import tensorflow as tf

from tpgan_tf.core import distribution, optimizers
from tpgan_tf.core.registry import register_task
from tpgan_tf.core.summaries import image_grid
from tpgan_tf.core.task import MissingResourceError, Task
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.models.fsrnet import losses as L
from tpgan_tf.models.fsrnet.config import FsrnetConfig
from tpgan_tf.models.fsrnet.discriminator import ConditionalPatchDiscriminator
from tpgan_tf.models.fsrnet.generator import FsrnetGenerator, norm_dict
from tpgan_tf.models.fsrnet.perceptual import (HOW_TO_GET_WEIGHTS, load_vgg16_features,
                                               perceptual_features)
from tpgan_tf.models.fsrnet.visualize import prior_images

VGG_FLAG_HELP = ("VGG-16 weights for FSRGAN's perceptual loss (fsrnet spec 6.2): a Keras "
                 "weights file of keras.applications.VGG16(include_top=False); the term is off "
                 "without it.")
SUMMARY_IMAGES = ("lr", "x", "coarse", "sr", "hr")
SUMMARY_TITLES = ("LR", "bicubic", "coarse", "SR", "HR")
# fsrnet spec 4.5 [COMP]: trainable parameters (BN gamma / beta counted) at width 1,
# depth 4, decoder input "maps".
SPEC_COUNTS = {"paper": {"coarse": 225_536, "encoder": 926_528, "prior_head": 25_413,
                         "decoder": 439_808}}


def perceptual_message() -> str:
    return (f"FSRGAN: no --vgg16_weights given, so the perceptual loss (gamma_P, fsrnet spec "
            f"6.2) is OFF and logged as 0. To switch it on, {HOW_TO_GET_WEIGHTS} as "
            f"--vgg16_weights=PATH.")


class FsrnetTask(Task):
    """FSRNet / FSRGAN (fsrnet spec). Networks: generator (+ discriminator with train.gan);
    optimisers: g_optim (+ d_optim), RMSprop in Torch's form (spec 7). The frozen VGG-16 of
    the perceptual loss comes from `vgg16_weights` and is never checkpointed."""

    name = "fsrnet"
    RESOURCES = {"vgg16_weights": VGG_FLAG_HELP}
    SIGNATURE_INPUTS = {
        "serving_default": {"lr": ("uint8", (16, 16, 3))},
        "super_resolve": {"lr": ("uint8", (16, 16, 3))},
        "super_resolve_upsampled": {"image": ("uint8", (128, 128, 3))},
        "priors": {"lr": ("uint8", (16, 16, 3))},
    }

    @classmethod
    def check_resources(cls, config: FsrnetConfig, resources: Mapping[str, str]) -> None:
        import os

        from tpgan_tf.models.fsrnet.init_from import check_init_from

        path = resources.get("vgg16_weights")
        if path and not os.path.isfile(path):
            raise MissingResourceError(f"--vgg16_weights={path!r} does not exist; "
                                       f"{HOW_TO_GET_WEIGHTS}")
        try:
            check_init_from(config)
        except (FileNotFoundError, ValueError) as err:
            raise MissingResourceError(str(err)) from None

    # ------------------------------------------------------------------ building
    @property
    def gan(self) -> bool:
        return bool(self.config.train.gan)

    def build_networks(self):
        cfg = self.config
        # Fully convolutional: the weights do not depend on the input size, so build small.
        size = max(32, 2 ** (cfg.model.hourglass_depth + 1))
        self.generator = FsrnetGenerator.from_config_sections(
            cfg.model, cfg.num_priors).build_for_size(size)
        if not self.for_inference:  # train.init_from: the generator of a trained FSRNet run
            from tpgan_tf.models.fsrnet.init_from import init_generator
            init_generator(self.generator, cfg, lambda s: print(s, file=sys.stderr, flush=True))
        networks = {"generator": self.generator}
        self.discriminator = self.vgg = None
        if self.gan:
            self.discriminator = ConditionalPatchDiscriminator(
                cfg.model.width, cfg.model.d_num_layers, norm_dict(cfg.model),
                cfg.model.init_stddev).build_for_size(size)
            networks["discriminator"] = self.discriminator
            if not self.for_inference and cfg.loss.gamma_p > 0:
                if self.resources.get("vgg16_weights"):
                    self.vgg = load_vgg16_features(self.resources["vgg16_weights"],
                                                   cfg.loss.perceptual_layer)
                else:
                    print(perceptual_message(), file=sys.stderr, flush=True)
        self.g_vars = list(self.generator.trainable_variables)
        self.d_vars = list(self.discriminator.trainable_variables) if self.gan else []
        return networks

    def learning_rate(self, initial: float):
        """The learning rate (or schedule) of train.lr_schedule: constant, or [LI]'s
        polynomial decay to 0 at train.num_iterations (one optimiser step per iteration)."""
        tc = self.config.train
        if tc.lr_schedule == "constant":
            return initial
        import keras

        return keras.optimizers.schedules.PolynomialDecay(
            initial, decay_steps=tc.num_iterations, end_learning_rate=0.0, power=tc.lr_power)

    def build_optimizers(self):
        tc = self.config.train
        self.g_optim = optimizers.rmsprop(self.learning_rate(tc.learning_rate), tc.rmsprop_rho,
                                          tc.rmsprop_epsilon, "g_optim")
        self.g_optim.build(self.g_vars)
        out = {"g_optim": self.g_optim}
        if self.gan:
            self.d_optim = optimizers.rmsprop(self.learning_rate(tc.d_learning_rate),
                                              tc.rmsprop_rho, tc.rmsprop_epsilon, "d_optim")
            self.d_optim.build(self.d_vars)
            out["d_optim"] = self.d_optim
        return out

    def build_steps(self):
        jit = self.config.runtime.jit_compile
        wrap = (lambda f: tf.function(f, jit_compile=True)) if jit else (lambda f: f)
        self._g_compute = wrap(self._g_compute_fn)
        self._d_compute = wrap(self._d_compute_fn)
        self.step = tf.function(self._gan_step if self.gan else self._fsrnet_step)

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

    # ------------------------------------------------------------------ per-replica pieces
    def _images(self, batch, outputs) -> dict:
        images = {"lr": batch["lr"], "x": batch["x"], "hr": batch["hr"],
                  "coarse": outputs["coarse"], "sr": outputs["sr"],
                  "priors": outputs["priors"], "priors_gt": batch["priors"]}
        return {k: tf.cast(v, tf.float32) for k, v in images.items()}

    def _fsrnet_terms(self, batch, outputs):
        lc = self.config.loss
        return L.fsrnet_loss(outputs["coarse"], outputs["sr"], outputs["priors"], batch["hr"],
                             batch["priors"], lc.alpha, lc.beta)

    def _g_compute_fn(self, batch):
        """FSRNet's forward and backward pass on one replica's batch: (grads, terms, images)."""
        scale = 1.0 / self.num_replicas
        with tf.GradientTape() as tape:
            outputs = self.generator(batch["x"], training=True)
            total, terms = self._fsrnet_terms(batch, outputs)
            loss = optimizers.scale_loss(self.g_optim, total * scale)
        grads = tape.gradient(loss, self.g_vars)
        logged = {"loss": total * scale, **{k: v * scale for k, v in terms.items()}}
        return grads, logged, self._images(batch, outputs)

    def _d_compute_fn(self, x, hr, fake):
        """D's forward and backward pass: real (x, y) and fake (x, y_hat) in two calls
        (separate BN statistics). Returns (grads, terms)."""
        scale = 1.0 / self.num_replicas
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(x, hr, training=True)
            fake_logits = self.discriminator(x, fake, training=True)
            total, terms = L.discriminator_loss(real_logits, fake_logits)
            loss = optimizers.scale_loss(self.d_optim, total * scale)
        grads = tape.gradient(loss, self.d_vars)
        return grads, {"d_loss": total * scale, **{f"d_{k}": v * scale for k, v in terms.items()}}

    # ------------------------------------------------------------------ the steps
    def _fsrnet_step(self, batch):
        def replica_fn(batch):
            grads, terms, images = self._g_compute(batch)
            self.g_optim.apply_gradients(zip(grads, self.g_vars))
            return terms, images

        terms, images = self.strategy.run(replica_fn, args=(batch,))
        return (distribution.reduce_sum(self.strategy, terms),
                distribution.first_replica(self.strategy, images))

    def _gan_step(self, batch):
        lc = self.config.loss
        scale = 1.0 / self.num_replicas

        def replica_fn(batch):
            x, hr = batch["x"], batch["hr"]
            with tf.GradientTape() as tape:
                outputs = self.generator(x, training=True)
                # D step on this forward pass's y_hat (no gradient to G), then G with the new D.
                d_grads, d_terms = self._d_compute(x, hr, tf.stop_gradient(outputs["sr"]))
                self.d_optim.apply_gradients(zip(d_grads, self.d_vars))
                fake_logits = self.discriminator(x, outputs["sr"], training=True)
                perceptual = None
                if self.vgg is not None:
                    perceptual = L.perceptual_loss(perceptual_features(self.vgg, outputs["sr"]),
                                                   perceptual_features(self.vgg, hr))
                total, terms = L.fsrgan_generator_loss(
                    outputs["coarse"], outputs["sr"], outputs["priors"], hr, batch["priors"],
                    fake_logits, perceptual, lc.alpha, lc.beta, lc.gamma_c, lc.gamma_p)
                loss = optimizers.scale_loss(self.g_optim, total * scale)
            grads = tape.gradient(loss, self.g_vars)
            self.g_optim.apply_gradients(zip(grads, self.g_vars))
            logged = {"loss": total * scale, **{k: v * scale for k, v in terms.items()},
                      **d_terms}
            return logged, self._images(batch, outputs)

        terms, images = self.strategy.run(replica_fn, args=(batch,))
        return (distribution.reduce_sum(self.strategy, terms),
                distribution.first_replica(self.strategy, images))

    def train_iteration(self, batch):
        """One step (FSRNet) or one D + one G step (FSRGAN): ({"g/<term>", "d/<term>"}, images)."""
        terms, images = self.step(batch)
        values = {(f"d/{k[2:]}" if k.startswith("d_") else f"g/{k}"): v
                  for k, v in terms.items()}
        return values, images

    def log_line(self, values):
        line = (f"loss {values['g/loss']:.4f} | coarse {values['g/coarse']:.4f} | "
                f"fine {values['g/fine']:.4f} | prior {values['g/prior']:.4f}")
        if "d/loss" in values:
            line += f" | adv {values['g/adversarial']:.3f} | d_loss {values['d/loss']:.3f}"
        return line

    def summary_images(self, images):
        pc = self.config.priors
        size = int(images["hr"].shape[1])
        pred = prior_images(images["priors"], pc.num_landmarks, pc.parsing_set)
        gt = prior_images(images["priors_gt"], pc.num_landmarks, pc.parsing_set)
        return {"|".join(SUMMARY_TITLES): image_grid([images[k] for k in SUMMARY_IMAGES], size),
                "heatmaps pred|GT, parsing pred|GT": image_grid(
                    [pred["heatmaps"], gt["heatmaps"], pred["parsing"], gt["parsing"]], size)}

    # ------------------------------------------------------------------ sizes
    def parameter_counts(self):
        """Trainable parameters per part of the built networks (as config.parameter_counts)."""
        g, count = self.generator, self.count_params
        counts = {"coarse": count(g.coarse.trainable_weights),
                  "encoder": count(g.encoder.trainable_weights),
                  "prior": sum(count(layer.trainable_weights)
                               for layer in g.prior.trunk_layers()),
                  "prior_head": count(g.prior.head.trainable_weights),
                  "decoder": count(g.decoder.trainable_weights),
                  "generator": count(g.trainable_weights)}
        if self.discriminator is not None:
            counts["discriminator"] = count(self.discriminator.trainable_weights)
        return counts

    def expected_parameter_counts(self):
        m = self.config.model
        faithful = (m.width == 1.0 and m.hourglass_depth == 4 and m.num_stacks == 2
                    and m.decoder_prior_input == "maps" and self.config.num_priors == 197)
        return dict(SPEC_COUNTS["paper"]) if faithful else {}

    # ------------------------------------------------------------------ serving, evaluation
    @classmethod
    def command_flags(cls, purpose):
        from tpgan_tf.models.fsrnet.evaluation import evaluate_flags
        if purpose == "evaluate":
            return evaluate_flags()
        return super().command_flags(purpose)

    @classmethod
    def evaluation_needs_weights(cls, options):
        """--method=bicubic scores the bicubic input alone: no network."""
        return options.get("method", "fsrnet") != "bicubic"

    def super_resolver(self):
        from tpgan_tf.models.fsrnet.serving import SuperResolver
        return SuperResolver(self.generator, self.config)

    def serving_endpoints(self):
        resolver = self.super_resolver()
        return resolver.endpoints(), resolver.export_info()

    def serving_examples(self, batch_size, seed=0):
        from tpgan_tf.models.fsrnet.serving import serving_examples
        return serving_examples(self.config, batch_size, seed)

    def evaluate(self, data_dir, output_dir, **options):
        from tpgan_tf.models.fsrnet.evaluation import evaluate
        return evaluate(self, data_dir, output_dir, **options)

    @classmethod
    def summary_text(cls, results):
        from tpgan_tf.models.fsrnet.report import summary_text
        return summary_text(results)


register_task("fsrnet", FsrnetTask)
