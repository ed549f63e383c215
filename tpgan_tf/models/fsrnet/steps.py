"""FSRNet / FSRGAN's training steps per replica, the learning rate and the schedule (fsrnet
spec 6-7).

One iteration on one batch, one phase "g" (its scalars are logged as g/<tag>):
  * FSRNet (train.gan off): `fsrnet_step`: G's forward pass in training mode, L = MSE(y_c, y)
    + alpha MSE(y_hat, y) + beta MSE(p, p_gt) (spec 6.1, mean-normalised MSEs, losses.py),
    one RMSprop update (Torch's form, spec 7) of every generator variable (g_optim).
  * FSRGAN (train.gan on): `fsrgan_step`: one D update, then one G update on the same batch
    ([CS], spec 6.2), from ONE forward pass of G, as [CS] does: D scores (x, y) against
    (x, stop_gradient(y_hat)) and is updated (`d_step`, run by the D ReplicatedStep from
    inside G's step, core/steps.py `update_in_replica`); then G's loss L_FSRNet + gamma_C
    BCE(D(x, y_hat), real) + gamma_P MSE(VGG(y_hat), VGG(y)) uses the updated D, and G is
    updated. D's scalars are logged under the same phase as g/d_loss, g/d_real, g/d_fake.
    The perceptual term is on only when the frozen VGG-16 is given (weights.vgg16); without
    it the term is logged as 0.
Each function returns replica means; core/steps.py scales, reduces and applies them. Nothing
here is random (no noise, no dropout).
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.core.schedule import Phase, Schedule
from tpgan_tf.core.steps import StepOutput
from tpgan_tf.models.fsrnet import losses as L
from tpgan_tf.models.fsrnet.perceptual import perceptual_features

SUMMARY_IMAGES = ("lr", "x", "coarse", "sr", "hr")
SUMMARY_TITLES = ("LR", "bicubic", "coarse", "SR", "HR")
D_PREFIX = "d_"  # D's scalars inside the FSRGAN step: g/d_loss, g/d_real, g/d_fake


def schedule(cfg) -> Schedule:
    """One phase "g" per iteration: the FSRNet step, or FSRGAN's D-then-G step (spec 6.2)."""
    return Schedule((Phase("g"),))


def learning_rate(cfg, initial: float):
    """The learning rate (or schedule) of train.lr_schedule: constant ([CS]/[CY]), or [LI]'s
    polynomial decay to 0 at train.num_iterations (spec 7; one optimiser step per
    iteration, so the optimiser's iteration counter is the run's)."""
    tc = cfg.train
    if tc.lr_schedule == "constant":
        return initial
    import keras

    return keras.optimizers.schedules.PolynomialDecay(
        initial, decay_steps=tc.num_iterations, end_learning_rate=0.0, power=tc.lr_power)


def _images(batch, outputs) -> dict:
    """The summary images of a step: inputs, targets and G's outputs [n, H, W, C]."""
    return {"lr": batch["lr"], "x": batch["x"], "hr": batch["hr"],
            "coarse": outputs["coarse"], "sr": outputs["sr"],
            "priors": outputs["priors"], "priors_gt": batch["priors"]}


def fsrnet_step(networks, cfg, batch) -> StepOutput:
    """FSRNet's step on one replica's batch (spec 6.1): {"g_optim": L}, the scalars loss,
    coarse, fine, prior (unweighted terms), and the summary images."""
    lc = cfg.loss
    outputs = networks["generator"](batch["x"], training=True)
    total, terms = L.fsrnet_loss(outputs["coarse"], outputs["sr"], outputs["priors"],
                                 batch["hr"], batch["priors"], lc.alpha, lc.beta)
    return StepOutput(losses={"g_optim": total}, scalars={"loss": total, **terms},
                      images=_images(batch, outputs))


def d_step(networks, x, hr, fake) -> StepOutput:
    """D's step (spec 6.2): real (x, y) and fake (x, y_hat) in two calls (separate BN
    statistics); fake is G's output under stop_gradient. {"d_optim": L_D}, the scalars loss,
    real, fake (the two BCE terms)."""
    disc = networks["discriminator"]
    real_logits = disc(x, hr, training=True)
    fake_logits = disc(x, fake, training=True)
    total, terms = L.discriminator_loss(real_logits, fake_logits)
    return StepOutput(losses={"d_optim": total}, scalars={"loss": total, **terms})


def fsrgan_step(networks, cfg, vgg, d_update, batch) -> StepOutput:
    """FSRGAN's step on one replica's batch (module doc): G's forward pass, D's update on
    it (d_update(x, hr, fake) -> D's unscaled scalars: the D ReplicatedStep's
    update_in_replica), then G's loss with the updated D. vgg: the frozen VGG-16 features
    (None: the perceptual term is off). {"g_optim": L_G}, G's terms and D's (d_ prefix)."""
    lc = cfg.loss
    x, hr = batch["x"], batch["hr"]
    outputs = networks["generator"](x, training=True)
    # D first, on this forward pass's y_hat (no gradient to G), then G against the new D.
    d_scalars, _ = d_update(x, hr, tf.stop_gradient(outputs["sr"]))
    fake_logits = networks["discriminator"](x, outputs["sr"], training=True)
    perceptual = None
    if vgg is not None:
        perceptual = L.perceptual_loss(perceptual_features(vgg, outputs["sr"]),
                                       perceptual_features(vgg, hr))
    total, terms = L.fsrgan_generator_loss(
        outputs["coarse"], outputs["sr"], outputs["priors"], hr, batch["priors"], fake_logits,
        perceptual, lc.alpha, lc.beta, lc.gamma_c, lc.gamma_p)
    scalars = {"loss": total, **terms, **{D_PREFIX + k: v for k, v in d_scalars.items()}}
    return StepOutput(losses={"g_optim": total}, scalars=scalars,
                      images=_images(batch, outputs))
