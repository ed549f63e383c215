"""TP-GAN's task: the original schedule of tpgan spec 5 on the shared core (core/task.py).

One iteration on one batch (spec 5, 10.7):
  * D step: a fresh G forward pass with fresh z (no G update); D on the real frontal and on the
    fake img128 in two separate calls (separate BN statistics, spec 3); d_optim on D's variables.
  * then `generator_steps_per_iteration` (= 2) G steps, each with a fresh forward pass and fresh
    z: one persistent tape gives the gradient of g_loss w.r.t. ALL generator variables and of
    rot_loss w.r.t. the four local nets, both at the same parameters; then g_optim and rot_optim
    apply them (two Adam states, spec 5).

Distribution: each replica reads its own share of the global batch (core/runner.py). z is
drawn once per worker in cross-replica context for the whole per-worker batch and each replica
takes its contiguous slice, so the noise stream is the checkpointed generator's whatever the
replica count. Every loss is the replica's batch mean divided by the replica count; the
optimiser sums gradients over replicas, so the update is that of the global-batch mean.
"""
from __future__ import annotations

from typing import Mapping

import tensorflow as tf

from tpgan_tf.core import distribution, optimizers
from tpgan_tf.core.registry import register_task
from tpgan_tf.core.task import MissingResourceError, Task
from tpgan_tf.core.summaries import image_grid
from tpgan_tf.data.pipeline import split_pattern
from tpgan_tf.faces.parts import PART_NAMES
from tpgan_tf.identity import weights as lightcnn_weights
from tpgan_tf.models.tpgan import losses as L
from tpgan_tf.models.tpgan.config import Config
from tpgan_tf.models.tpgan.discriminator import Discriminator
from tpgan_tf.models.tpgan.generator import Generator
from tpgan_tf.models.tpgan.inputs import make_dataset

# Generator inputs taken from the batch (the rest is ground truth / metadata).
G_INPUT_KEYS = ("image", *PART_NAMES)
SUMMARY_IMAGES = ("input", "img32", "img64", "img128", "ground_truth", "fused_local")
LIGHTCNN_FLAG_HELP = ("Light-CNN-29 weights (.h5 from experiments.convert_lightcnn or "
                      "experiments.pretrain_lightcnn, or the original DeepFace168.pickle).")


class MissingIdentityWeightsError(MissingResourceError):
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


class TpganTask(Task):
    """TP-GAN (tpgan spec 2-5). Networks: generator, discriminator; optimisers: d_optim,
    g_optim, rot_optim (Adam, spec 5); random state: z_rng (spec 2.5 noise). The frozen
    Light-CNN (spec 4.4) is loaded from `lightcnn_weights` and never checkpointed."""

    name = "tpgan"
    RESOURCES = {"lightcnn_weights": LIGHTCNN_FLAG_HELP}
    SIGNATURE_INPUTS = {
        "serving_default": {"image": ("uint8", (128, 128, 3)), "landmarks": ("float32", (5, 2))},
        "frontal_float": {"image": ("uint8", (128, 128, 3)), "landmarks": ("float32", (5, 2))},
        "frontalize_image": {"image_bytes": ("string", ()), "landmarks": ("float32", (5, 2))},
    }
    SIGNATURE_OUTPUTS = {"serving_default": ["frontal"], "frontal_float": ["frontal_float"]}

    @classmethod
    def check_resources(cls, config: Config, resources: Mapping[str, str]) -> None:
        if config.loss.identity > 0 and not resources.get("lightcnn_weights"):
            raise MissingIdentityWeightsError(identity_weights_message(config))

    # ------------------------------------------------------------------ building
    def build_networks(self):
        cfg = self.config
        self.generator = Generator.for_config(cfg).build_for_batch(1)
        self.discriminator = Discriminator.for_config(cfg).build_for_batch(1)
        self.lightcnn = None
        if cfg.loss.identity > 0 and not self.for_inference:
            self.lightcnn = lightcnn_weights.load_lightcnn(self.resources["lightcnn_weights"],
                                                           cfg.model.lightcnn_width)
            self.lightcnn.trainable = False  # spec 4.4: frozen
        self.g_vars = list(self.generator.trainable_variables)
        self.local_vars = list(self.generator.local.trainable_variables)
        self.d_vars = list(self.discriminator.trainable_variables)
        return {"generator": self.generator, "discriminator": self.discriminator}

    def build_optimizers(self):
        tc = self.config.train
        make = lambda name: optimizers.adam(tc.learning_rate, tc.beta1, tc.beta2,  # noqa: E731
                                            tc.adam_epsilon, name)
        self.d_optim, self.g_optim, self.rot_optim = (make("d_optim"), make("g_optim"),
                                                      make("rot_optim"))
        # Build the slots now, so that a checkpoint restores into existing variables.
        self.d_optim.build(self.d_vars)
        self.g_optim.build(self.g_vars)
        self.rot_optim.build(self.local_vars)
        return {"d_optim": self.d_optim, "g_optim": self.g_optim, "rot_optim": self.rot_optim}

    def build_steps(self):
        # z (spec 2.5) from a checkpointed generator, so that a resumed run draws the same z.
        # One per worker, outside the strategy scope: it is used in the cross-replica part of
        # a step and its draws are sliced per replica. Other workers get their own stream.
        self.z_rng = tf.random.Generator.from_seed(
            self.config.train.seed + 7919 * self.worker.worker_index)
        jit = dict(jit_compile=True) if self.config.runtime.jit_compile else None
        self._d_compute = tf.function(self._d_compute_fn, **jit) if jit else self._d_compute_fn
        self._g_compute = tf.function(self._g_compute_fn, **jit) if jit else self._g_compute_fn
        self.d_step = tf.function(self._d_step)
        self.g_step = tf.function(self._g_step)

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
        from tpgan_tf.models.tpgan.inputs import random_examples
        return {k: tf.constant(v) for k, v in random_examples(batch_size, seed).items()}

    # ------------------------------------------------------------------ per-replica pieces
    def _generator_inputs(self, batch, z) -> dict:
        inputs = {k: batch[k] for k in G_INPUT_KEYS}
        inputs["z"] = z
        return inputs

    def _d_compute_fn(self, batch, z):
        """D-step forward and backward on one replica's batch. Returns (grads, terms)."""
        outputs = self.generator(self._generator_inputs(batch, z), training=True)
        fake = tf.stop_gradient(outputs["img128"])
        scale = 1.0 / self.num_replicas
        with tf.GradientTape() as tape:
            # spec 3: two separate calls -> separate BN statistics for real and fake.
            real_logits = self.discriminator(batch["frontal"], training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss, d_real, d_fake = L.discriminator_loss(
                real_logits, fake_logits, self.config.loss.real_label)
            loss = optimizers.scale_loss(self.d_optim, d_loss * scale)
        grads = tape.gradient(loss, self.d_vars)
        terms = {"d_loss": d_loss * scale, "d_real": d_real * scale, "d_fake": d_fake * scale}
        return grads, terms

    def _g_compute_fn(self, batch, z):
        """G-step forward and backward on one replica's batch.

        Returns (g_grads over all generator variables, rot_grads over the local nets, terms,
        images for summaries). Both gradients come from one forward pass (spec 10.7).
        """
        cfg = self.config.loss
        scale = 1.0 / self.num_replicas
        with tf.GradientTape(persistent=True) as tape:
            outputs = self.generator(self._generator_inputs(batch, z), training=True)
            fake_logits = self.discriminator(outputs["img128"], training=True)
            terms = L.generator_loss_terms(outputs, batch, fake_logits, self.lightcnn,
                                           cfg.real_label)
            g_loss = L.combine_generator_loss(terms, cfg) * scale
            rot_loss = L.rotation_loss(terms, cfg) * scale
            g_obj = optimizers.scale_loss(self.g_optim, g_loss)
            rot_obj = optimizers.scale_loss(self.rot_optim, rot_loss)
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
        if self.config.runtime.jit_compile or "label" not in batch:
            return []
        n = self.config.model.num_identities
        return [tf.debugging.assert_less(
            tf.cast(batch["label"], tf.int64), tf.constant(n, tf.int64),
            message=f"batch label >= model.num_identities={n}; relabel the subjects or raise "
                    "model.num_identities")]

    # ------------------------------------------------------------------ the steps
    def draw_z(self, batch) -> tf.Tensor:
        """Spec 2.5 noise for the whole per-worker batch, [n, z_dim] ~ N(0, 0.02^2)."""
        mc = self.config.model
        return self.z_rng.normal([distribution.batch_size_of(batch), mc.z_dim],
                                 stddev=mc.z_stddev)

    def replica_z(self, z):
        return distribution.replica_slice(z, self.worker.local_replicas)

    def _d_step(self, batch):
        """One discriminator step on a (distributed) batch. Returns global-mean D terms."""
        z = self.draw_z(batch)

        # Plain graph code: nothing for autograph to convert (MirroredStrategy.run would
        # otherwise convert it from its source file on every trace).
        @tf.autograph.experimental.do_not_convert
        def replica_fn(batch, z):
            z = self.replica_z(z)
            with tf.control_dependencies(self._check_labels(batch)):
                grads, terms = self._d_compute(batch, z)
            self.d_optim.apply_gradients(zip(grads, self.d_vars))
            return terms

        return distribution.reduce_sum(self.strategy,
                                       self.strategy.run(replica_fn, args=(batch, z)))

    def _g_step(self, batch):
        """One generator step: g_optim and rot_optim at the same parameters.

        Returns (global-mean G terms, images of the first local replica for summaries).
        """
        z = self.draw_z(batch)

        @tf.autograph.experimental.do_not_convert  # see _d_step
        def replica_fn(batch, z):
            z = self.replica_z(z)
            g_grads, rot_grads, terms, images = self._g_compute(batch, z)
            # Both gradients were taken before either update (spec 5: one session.run).
            self.g_optim.apply_gradients(zip(g_grads, self.g_vars))
            self.rot_optim.apply_gradients(zip(rot_grads, self.local_vars))
            return terms, images

        terms, images = self.strategy.run(replica_fn, args=(batch, z))
        return (distribution.reduce_sum(self.strategy, terms),
                distribution.first_replica(self.strategy, images))

    def train_iteration(self, batch):
        """Spec 5: 1 D step, then the G steps. Returns ({"d/<term>", "g<k>/<term>"}, the last
        G step's images)."""
        values = {f"d/{k}": v for k, v in self.d_step(batch).items()}
        images = None
        for k in range(1, self.config.train.generator_steps_per_iteration + 1):
            terms, images = self.g_step(batch)
            values.update({f"g{k}/{name}": v for name, v in terms.items()})
        return values, images

    def log_line(self, values):
        last = f"g{self.config.train.generator_steps_per_iteration}"
        return (f"d_loss {values['d/d_loss']:.4f} | g_loss {values[f'{last}/g_loss']:.2f} | "
                f"rot_loss {values[f'{last}/rot_loss']:.2f} | "
                f"l1_128 {values[f'{last}/l1_128']:.1f}")

    def summary_images(self, images):
        return {"|".join(SUMMARY_IMAGES): image_grid([images[k] for k in SUMMARY_IMAGES], 128)}

    # Spec 2.7 (trainable parameters of the original, BN counted as gamma + beta).
    SPEC_2_7 = {"encoder": 39_420_672, "decoder": 49_197_818, "identity_head": 87_380,
                "local_eye_left": 17_199_043, "local_eye_right": 17_200_771,
                "local_nose": 17_199_043, "local_mouth": 17_199_043,
                "local_total": 68_797_900, "generator": 157_503_770,
                "discriminator": 13_357_441}

    def parameter_counts(self):
        from tpgan_tf.identity.lightcnn import build_lightcnn
        g, count = self.generator, self.count_params
        counts = {"encoder": count(g.encoder.trainable_weights),
                  "decoder": count(g.decoder.trainable_weights),
                  "identity_head": count(g.identity_head.trainable_weights)}
        for part, net in g.local.nets.items():
            counts[f"local_{part}"] = count(net.trainable_weights)
        counts["local_total"] = count(g.local.trainable_weights)
        counts["generator"] = count(g.trainable_weights)
        counts["discriminator"] = count(self.discriminator.trainable_weights)
        lightcnn = build_lightcnn(self.config.model.lightcnn_width)
        counts["lightcnn_frozen"] = count(lightcnn.weights)
        counts["lightcnn_trainable"] = count(lightcnn.trainable_weights)
        return counts

    def expected_parameter_counts(self):
        return dict(self.SPEC_2_7) if self.config.model.width == 1.0 else {}

    # ------------------------------------------------------------------ serving, evaluation
    @classmethod
    def command_flags(cls, purpose):
        from tpgan_tf.core.flags import FlagSpec
        if purpose == "export":
            return [FlagSpec("output_range", "enum", "minmax",
                             "uint8 conversion: minmax (the original's per-image rescale, spec "
                             "5) or clip (clip(x * 256, 0, 255)).", ("minmax", "clip"))]
        if purpose == "evaluate":
            return [FlagSpec("lightcnn_weights", "string", None, LIGHTCNN_FLAG_HELP),
                    FlagSpec("lightcnn_width", "float", None, "Light-CNN channel multiplier; "
                             "default: the width stored in the .h5, 1.0 for a pickle.")]
        return super().command_flags(purpose)

    def frontalizer(self, output_range: str = "minmax"):
        """The generator's Frontalizer for `output_range`, one per range, so that the Python
        API and an export share its traced functions (each trace of G is costly)."""
        from tpgan_tf.models.tpgan.frontalizer import Frontalizer
        cache = self.__dict__.setdefault("_frontalizers", {})
        if output_range not in cache or cache[output_range].generator is not self.generator:
            cache[output_range] = Frontalizer(self.generator, output_range=output_range)
        return cache[output_range]

    def serving_endpoints(self, output_range: str = "minmax"):
        frontalizer = self.frontalizer(output_range)
        return frontalizer.endpoints(), frontalizer.export_info()

    @classmethod
    def summary_text(cls, results):
        from tpgan_tf.evaluation import frontalization as fr
        from tpgan_tf.evaluation.report import markdown_table
        return (markdown_table(*fr.rank1_table([results])) + f"\n{results['probes']} probes, "
                f"{results['subjects']} gallery subjects, {results['seconds']} s")

    def serving_examples(self, batch_size, seed=0):
        """Random faces with the template landmarks (spec 1.2) in crop coordinates, and the
        same faces as PNG photos for frontalize_image."""
        import cv2
        import numpy as np

        from tpgan_tf.faces.alignment import template_landmarks

        rng = np.random.default_rng(seed)
        images = rng.integers(0, 256, (batch_size, 128, 128, 3), dtype=np.uint8)
        points = np.repeat(template_landmarks()[None].astype(np.float32), batch_size, axis=0)
        photos = np.array([cv2.imencode(".png", im)[1].tobytes() for im in images], dtype=object)
        aligned = {"image": images, "landmarks": points}
        return {"serving_default": aligned, "frontal_float": aligned,
                "frontalize_image": {"image_bytes": photos, "landmarks": points}}

    def evaluate(self, data_dir, output_dir, **options):
        from tpgan_tf.models.tpgan.evaluation import evaluate
        return evaluate(self, data_dir, output_dir, **options)


register_task("tpgan", TpganTask)
