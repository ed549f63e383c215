"""The per-replica computations of DR-GAN's training steps (drgan spec 3, 4): syntheses, the
D step's and the G step's losses with their gradients, the identity pre-training step, and
the monitoring pass. The task (task.py) runs them under its strategy and applies the updates.

Syntheses of a batch of B rows (k per row: 1 single-image; n singles + 1 fused, spec 2.5):
G_enc encodes every real image (multi: all B * n in one call, then the omega-weighted fusion
per row), G_dec decodes the k * B features with their own target pose code and noise, in ONE
call, ordered synthesis-major ([single 0 rows; single 1 rows; ...; fused rows]).

D sees the real images (all B * n) and the syntheses (all k * B): two separate calls when
model.separate_bn_real_fake (spec 2.4: own BN statistics; "official" runs the trunk and the
identity branch per half and its pose / adversarial branches jointly, see
Discriminator.call_real_fake), else one call on [real; fake]. The G step evaluates D the same
way (for "official" and the joint mode the real half shapes the BN statistics of the fake
half, so it is run too), with D's weights fixed. BN layers run in training mode in both steps
(the code's in-place updates: every training pass moves the moving statistics).
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.models.drgan import losses as L
from tpgan_tf.models.drgan import monitoring, sampling
from tpgan_tf.models.drgan.confidence import encode_and_fuse


def syntheses_per_row(cfg) -> int:
    """k: 1 for single-image DR-GAN, n + 1 for multi-image (n singles + the fused one)."""
    n = cfg.model.multi_images
    return 1 if n == 1 else n + 1


def real_images(batch, cfg) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(images [R, s, s, 3], identity [R], pose labels [R]) of every real image of the batch
    (R = B, or B * n row-major for multi-image)."""
    labels = sampling.real_pose_labels(batch, cfg)
    n = cfg.model.multi_images
    if n == 1:
        return batch["image"], batch["identity"], labels
    s = cfg.data.image_size
    return (tf.reshape(batch["image"], [-1, s, s, 3]), tf.repeat(batch["identity"], n),
            tf.reshape(labels, [-1]))


def first_images(batch, cfg) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(image [B, s, s, 3], identity [B], pose index [B]): one real image per row."""
    if cfg.model.multi_images == 1:
        return batch["image"], batch["identity"], batch["pose"]
    return batch["image"][:, 0], batch["identity"], batch["pose"][:, 0]


def synthesise(encoder, decoder, batch, targets, z, cfg, training: bool, omega_draw=None
               ) -> dict:
    """G on a batch: targets [B, k] and z [B, k, N^z] (sampling.py) -> {"fakes" [k * B, s, s,
    3] (tanh), "targets" [k * B], "identity" [k * B], "k"}, synthesis-major (module doc).
    omega_draw [B, n]: the uniform draws of model.omega_dropout (multi-image, training)."""
    m = cfg.model
    k = syntheses_per_row(cfg)
    if k == 1:
        features = encoder(batch["image"], training=training)["features"]
    else:
        fused, per_image, _ = encode_and_fuse(encoder, batch["image"], m.fusion_epsilon,
                                              m.omega_dropout, training=training,
                                              draw=omega_draw)
        f = per_image.shape[-1]
        singles = tf.reshape(tf.transpose(per_image, [1, 0, 2]), [-1, f])
        features = tf.concat([singles, tf.cast(fused, singles.dtype)], axis=0)
    flat_targets = tf.reshape(tf.transpose(targets), [-1])
    flat_z = tf.reshape(tf.transpose(z, [1, 0, 2]), [-1, m.z_dim])
    fakes = decoder({"features": features, "pose": sampling.pose_code(flat_targets, cfg),
                     "z": flat_z}, training=training)
    return {"fakes": fakes, "targets": flat_targets,
            "identity": tf.tile(batch["identity"], [k]), "k": k}


def discriminate(disc, real, fake, cfg, training: bool = True) -> tuple[dict, dict]:
    """D's head dicts (real, fake) under the BN rule of the module doc."""
    fake = tf.cast(fake, real.dtype)
    if cfg.model.separate_bn_real_fake:
        return disc.call_real_fake(real, fake, training=training)
    out = disc(tf.concat([real, fake], axis=0), training=training)
    n = tf.shape(real)[0]
    return {k: v[:n] for k, v in out.items()}, {k: v[n:] for k, v in out.items()}


def _g_needs_reals(cfg) -> bool:
    return not cfg.model.separate_bn_real_fake or cfg.model.discriminator == "official"


def _identity(loss):
    return loss


def d_compute(nets, batch, targets, z, cfg, d_vars, scale: float, omega_draw=None,
              loss_scale=_identity):
    """D step on one replica: fresh syntheses (no gradient into G), D on real and fake.
    Returns (gradients over d_vars, {term: scale * value} incl. "loss" and the accuracies
    "acc_<name>"), every value scaled by `scale` (1 / replicas). loss_scale: the optimiser's
    loss scaling (mixed_float16; optimizers.scale_loss)."""
    real, identity, pose = real_images(batch, cfg)
    syn = synthesise(nets["encoder"], nets["decoder"], batch, targets, z, cfg, True,
                     omega_draw)
    fake = tf.stop_gradient(syn["fakes"])
    with tf.GradientTape() as tape:
        real_out, fake_out = discriminate(nets["discriminator"], real, fake, cfg)
        loss, terms = L.discriminator_loss(real_out, fake_out, identity, pose, cfg.model,
                                           cfg.loss)
        objective = loss_scale(loss * scale)
    grads = tape.gradient(objective, d_vars)
    acc = L.discriminator_accuracies(real_out, fake_out, identity, pose, syn["targets"],
                                     cfg.model)
    values = {"loss": loss, **terms, **{f"acc_{k}": v for k, v in acc.items()}}
    return grads, {k: tf.cast(v, tf.float32) * scale for k, v in values.items()}


def g_compute(nets, batch, targets, z, cfg, g_vars, scale: float, omega_draw=None,
              loss_scale=_identity):
    """G step on one replica through D with fixed weights. Returns (gradients over g_vars,
    {term: scale * value} incl. "loss" and the pose accuracy / yaw error on the syntheses,
    images {"input", "synthesis"} [<=4, s, s, 3] in [-1, 1] of the first synthesis group).
    loss_scale: the optimiser's loss scaling (mixed_float16)."""
    m = cfg.model
    with tf.GradientTape() as tape:
        syn = synthesise(nets["encoder"], nets["decoder"], batch, targets, z, cfg, True,
                         omega_draw)
        if _g_needs_reals(cfg):
            real = real_images(batch, cfg)[0]
            _, fake_out = discriminate(nets["discriminator"], real, syn["fakes"], cfg)
        else:
            fake_out = nets["discriminator"](syn["fakes"], training=True)
        k = syn["k"]
        if k == 1:
            loss, terms = L.generator_loss(fake_out, batch["identity"], syn["targets"], m,
                                           cfg.loss)
        else:
            groups = [{name: part for name, part in zip(fake_out, parts)}
                      for parts in zip(*(tf.split(v, k, axis=0) for v in fake_out.values()))]
            loss, terms = L.multi_generator_loss(groups, batch["identity"],
                                                 tf.split(syn["targets"], k, axis=0), m,
                                                 cfg.loss)
        objective = loss_scale(loss * scale)
    grads = tape.gradient(objective, g_vars)
    values = {"loss": loss, **terms, **synthesis_pose_signal(fake_out["pose"], syn["targets"],
                                                             cfg)}
    b = tf.shape(batch["identity"])[0]
    shown = tf.minimum(b, 4)
    images = {"input": first_images(batch, cfg)[0][:shown],
              "synthesis": syn["fakes"][:shown]}
    return (grads, {k: tf.cast(v, tf.float32) * scale for k, v in values.items()},
            {k: tf.cast(v, tf.float32) for k, v in images.items()})


def synthesis_pose_signal(pose_out, targets, cfg) -> dict:
    """D's pose head on the syntheses against their target (monitoring.py): one-hot codes
    {"pose_accuracy_synth"}, yaw codes {"yaw_error_synth_deg"}."""
    if cfg.model.pose_code == "onehot":
        hits = tf.equal(tf.argmax(tf.cast(pose_out, tf.float32), axis=-1, output_type=tf.int32),
                        tf.cast(targets, tf.int32))
        return {"pose_accuracy_synth": tf.reduce_mean(tf.cast(hits, tf.float32))}
    err = tf.abs(tf.cast(pose_out, tf.float32)[:, 0] - tf.cast(targets, tf.float32))
    return {"yaw_error_synth_deg": tf.reduce_mean(err) * (180.0 / 3.141592653589793)}


def pretrain_compute(disc, batch, cfg, variables, scale: float, loss_scale=_identity):
    """Identity pre-training of D (spec 4.2): softmax CE of D's identity output on the real
    images (AM-softmax heads: s * cos with NO margin, as the code's pre-training at HEAD).
    Returns (gradients over `variables`, {"loss", "accuracy"} scaled)."""
    real, identity, _ = real_images(batch, cfg)
    with tf.GradientTape() as tape:
        out = disc(real, training=True)
        if cfg.model.identity_head == "am_softmax":
            loss = L.am_softmax_ce(out["identity"], identity, 0.0, cfg.loss.am_scale)
        else:
            loss = L.softmax_ce(out["identity"], identity)
        objective = loss_scale(loss * scale)
    grads = tape.gradient(objective, variables)
    hits = tf.equal(tf.argmax(tf.cast(out["identity"], tf.float32), axis=-1,
                              output_type=tf.int32), tf.cast(identity, tf.int32))
    accuracy = tf.reduce_mean(tf.cast(hits, tf.float32))
    return grads, {"loss": loss * scale, "accuracy": accuracy * scale}


def monitor(nets, batch, cfg, scale: float, with_grid: bool):
    """The diversity signals (monitoring.py) of one replica's batch: the real first image of
    every row and its frontal synthesis (z = 0, inference mode), scaled by `scale`; with
    with_grid also the first row's input decoded at every view of the pose set ([N, s, s, 3]
    in [-1, 1], "pose_grid", with "pose_grid_input")."""
    enc, dec = nets["encoder"], nets["decoder"]
    real, identity, pose = first_images(batch, cfg)
    b = tf.shape(real)[0]
    f_real = enc(real, training=False)["features"]
    frontal = tf.fill([b], sampling.view_target(sampling.frontal_index(cfg), cfg))
    zeros = tf.zeros([b, cfg.model.z_dim])
    synth = dec({"features": f_real, "pose": sampling.pose_code(frontal, cfg), "z": zeros},
                training=False)
    f_synth = enc(synth, training=False)["features"]
    values = monitoring.diversity(real, synth, f_real, f_synth, identity, pose)
    values = {k: v * scale for k, v in values.items()}
    images = {}
    if with_grid:
        views = sampling.view_targets(cfg)
        n = tf.shape(views)[0]
        grid = dec({"features": tf.repeat(f_real[:1], n, axis=0),
                    "pose": sampling.pose_code(views, cfg),
                    "z": tf.zeros([n, cfg.model.z_dim])}, training=False)
        images = {"pose_grid_input": tf.cast(real[:1], tf.float32),
                  "pose_grid": tf.cast(grid, tf.float32)}
    return values, images
