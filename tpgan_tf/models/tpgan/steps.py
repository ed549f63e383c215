"""TP-GAN's training steps per replica, its noise draws and its schedule (tpgan spec 5).

One iteration (spec 5, 10.7): a D step, then train.generator_steps_per_iteration (= 2) G
steps, each with a fresh forward pass of G and fresh z:
  * D step: G's forward pass (not differentiated: the step updates D only), D on the real
    frontal and on the fake img128 in two separate calls (separate BN statistics, spec 3),
    d_optim on D;
  * G step: one forward pass, one tape: g_loss for all generator variables (g_optim) and
    rot_loss for the four local nets (rot_optim), both gradients at the same parameters
    (core/steps.py takes every gradient before any update).
Each function returns replica means; core/steps.py scales, reduces and applies them.
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.core import distribution
from tpgan_tf.core.schedule import Phase, Schedule
from tpgan_tf.core.steps import StepOutput
from tpgan_tf.faces.parts import PART_NAMES
from tpgan_tf.models.tpgan import losses as L

# Generator inputs taken from the batch (the rest is ground truth / metadata).
G_INPUT_KEYS = ("image", *PART_NAMES)
SUMMARY_IMAGES = ("input", "img32", "img64", "img128", "ground_truth", "fused_local")


def schedule(cfg) -> Schedule:
    """Spec 5: 1 D step, then the G steps, logged as d/, g1/, g2/ ..."""
    g_steps = cfg.train.generator_steps_per_iteration
    return Schedule((Phase("d"), *(Phase("g", name=f"g{k}") for k in range(1, g_steps + 1))))


def draw_z(rng: tf.random.Generator, batch, cfg) -> tuple[tf.Tensor]:
    """Spec 2.5 noise for the whole per-worker batch, [n, z_dim] ~ N(0, 0.02^2) (a fresh
    draw for every step)."""
    m = cfg.model
    return (rng.normal([distribution.batch_size_of(batch), m.z_dim], stddev=m.z_stddev),)


def generator_inputs(batch, z) -> dict:
    inputs = {k: batch[k] for k in G_INPUT_KEYS}
    inputs["z"] = z
    return inputs


def d_step(networks, cfg, batch, z) -> StepOutput:
    """D step on one replica's batch: {"d_optim": d_loss} and d_loss, d_real, d_fake."""
    outputs = networks["generator"](generator_inputs(batch, z), training=True)
    fake = tf.stop_gradient(outputs["img128"])
    disc = networks["discriminator"]
    # Spec 3: two separate calls -> separate BN statistics for real and fake.
    real_logits = disc(batch["frontal"], training=True)
    fake_logits = disc(fake, training=True)
    d_loss, d_real, d_fake = L.discriminator_loss(real_logits, fake_logits,
                                                  cfg.loss.real_label)
    return StepOutput(losses={"d_optim": d_loss},
                      scalars={"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake})


def g_step(networks, cfg, lightcnn, batch, z) -> StepOutput:
    """G step on one replica's batch: {"g_optim": g_loss, "rot_optim": rot_loss}, every
    loss term, and the images for summaries. lightcnn: the frozen identity network (None
    when loss.identity = 0)."""
    outputs = networks["generator"](generator_inputs(batch, z), training=True)
    fake_logits = networks["discriminator"](outputs["img128"], training=True)
    terms = L.generator_loss_terms(outputs, batch, fake_logits, lightcnn, cfg.loss.real_label)
    g_loss = L.combine_generator_loss(terms, cfg.loss)
    rot_loss = L.rotation_loss(terms, cfg.loss)
    images = {"input": batch["image"], "img32": outputs["img32"], "img64": outputs["img64"],
              "img128": outputs["img128"], "ground_truth": batch["frontal"],
              "fused_local": outputs["fused_image"]}
    return StepOutput(losses={"g_optim": g_loss, "rot_optim": rot_loss},
                      scalars={"g_loss": g_loss, "rot_loss": rot_loss,
                               **{k: terms[k] for k in L.TERM_NAMES}},
                      images=images)
