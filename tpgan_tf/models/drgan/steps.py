"""DR-GAN's training steps per replica, their random draws and the schedule of an iteration
(drgan spec 3, 4); "spec N.M" is a section of this package's README.md. core/steps.py runs
the steps (gradient tape, 1 / replicas, loss scaling, updates, reductions) and
core/schedule.py the schedule.

Steps (each returns a core.steps.StepOutput of replica means):
  * `d_step`: fresh syntheses (G in training mode, no gradient into G), D on the real and the
    synthetic images, spec 3's D loss for d_optim (D's variables), its terms and D's
    accuracies "acc_<name>" (losses.discriminator_accuracies; "acc_mean" drives the
    adaptive schedule);
  * `g_step`: fresh syntheses through D with fixed weights, spec 3's G loss for g_optim
    (G_enc + G_dec), its terms, the pose signal on the syntheses (monitoring.py) and the
    images "input", "synthesis";
  * `pretrain_step`: identity pre-training of D (spec 4.2) for pretrain_optim;
  * `monitor`: the diversity signals and one input decoded at every pose code, on the
    centre crops of the rows (inputs.centre_view), nothing trained.
The D, G and pre-training steps take AUGMENTED rows: their `prepare` (`augment_first`)
augments each replica's rows (inputs.augment_batch) with the seeds of `draws` before the
step's computation, outside its XLA function: XLA has no ImageProjectiveTransform (the rotation),
and its stateless random ops draw other numbers than the CPU kernels, so the augmentation is
the same with and without runtime.jit_compile.

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

Draws (`draws`, cross-replica, for the whole per-worker batch; each replica takes its
contiguous slice, so the stream does not depend on the replica count), from the task's
checkpointed per-worker generator, in this order for every step: the augmentation seeds (one
per image), the target poses, z, and the omega-dropout uniforms (multi-image with
model.omega_dropout > 0, else None). The augmentation is fresh for every D, G and
pre-training step, as the released code re-draws crop, flip and rotation on every
session.run (spec 4.3). With data.same_batch_for_d_and_g the steps of one iteration share
one augmentation: its seeds are then drawn statelessly from (train.seed, worker, the
iteration counter) instead of from the generator (before issue 17 they were drawn once per
iteration from the generator; the stateless rule makes every step find them on its own).
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.core.distribution import batch_size_of
from tpgan_tf.core.schedule import Adaptive, Phase, Schedule
from tpgan_tf.core.steps import StepOutput
from tpgan_tf.models.drgan import inputs, monitoring, sampling
from tpgan_tf.models.drgan import losses as L
from tpgan_tf.models.drgan.confidence import encode_and_fuse

# Worker offset of the stateless augmentation seeds (as core.steps.worker_generator's).
_WORKER_STRIDE = 7919


# ---------------------------------------------------------------------- schedule
def gan_start(train) -> int:
    """The first GAN iteration: after train.pretrain_iterations of identity pre-training
    when train.pretrain_d, else 0."""
    return train.pretrain_iterations if train.pretrain_d else 0


def schedule(cfg) -> Schedule:
    """The phases of an iteration (spec 4.1, 4.2; config train.schedule, train.pretrain_d).

    With train.pretrain_d, iterations [0, start) (start = train.pretrain_iterations) run one
    identity step of D ("pretrain"), and iteration `start` first copies D's identity trunk
    into G_enc ("copy_trunk", networks.copy_identity_trunk). From `start` on, the GAN
    iterations, counted from there:
      "alternate": 1 D step, then 1 G step;
      "adaptive":  1 D step, then 1 G step, or train.adaptive_g_steps (4) when D's mean
                   accuracy in that D step ("d/acc_mean") reached train.adaptive_accuracy
                   (0.9) (kayamin's reading of "update G more when D is strong"
                   [unverified]);
      "official":  even GAN iterations D then G, odd ones G only, plus one more G step every
                   10th (the code's logging call runs the G optimiser too): 5 D : 11 G per
                   10. Both G phases are named "g", so g/<term> is the last G step's.
    The plan depends only on the iteration counter (and the D step just run), so a resumed
    run follows it. Benchmarks run iteration start + 2 (a D and one G step).
    """
    t = cfg.train
    start = gan_start(t)
    phases = []
    if t.pretrain_d:
        phases += [Phase("pretrain", last=start),
                   Phase("copy_trunk", first=start, last=start + 1)]
    if t.schedule == "alternate":
        phases += [Phase("d", first=start), Phase("g", first=start)]
    elif t.schedule == "adaptive":
        phases += [Phase("d", first=start),
                   Phase("g", first=start, repeat=Adaptive("d/acc_mean", t.adaptive_accuracy,
                                                           t.adaptive_g_steps, 1))]
    elif t.schedule == "official":
        phases += [Phase("d", first=start, every=2), Phase("g", first=start),
                   Phase("g", first=start, every=10)]
    else:
        raise ValueError(f"unknown train.schedule {t.schedule!r}")
    return Schedule(tuple(phases), steady_iteration=start + 2)


# ---------------------------------------------------------------------- draws
def augmentation_seeds(rng: tf.random.Generator, cfg, batch, *, iteration, worker: int = 0
                       ) -> tf.Tensor:
    """One stateless augmentation seed per image of the per-worker rows `batch`: int64
    [rows, 2] ([rows, n, 2] multi-image), from `rng`, or with data.same_batch_for_d_and_g
    from (train.seed + 7919 * worker, iteration) (module doc). iteration: the task's
    counter variable, read when the step runs."""
    n = cfg.model.multi_images
    shape = [batch_size_of(batch)] + ([n] if n > 1 else []) + [2]
    if cfg.data.same_batch_for_d_and_g:
        key = tf.stack([tf.constant(cfg.train.seed + _WORKER_STRIDE * worker, tf.int64),
                        tf.cast(tf.convert_to_tensor(iteration), tf.int64)])
        return tf.random.stateless_uniform(shape, key, minval=None, maxval=None,
                                           dtype=tf.int64)
    return rng.uniform_full_int(shape, tf.int64)


def draws(rng: tf.random.Generator, cfg, batch, *, iteration, worker: int = 0) -> tuple:
    """The draws of a D or G step (module doc): (seeds [rows, (n,) 2], targets [rows, k],
    z [rows, k, N^z], omega uniforms [rows, n] or None), cross-replica context."""
    seeds = augmentation_seeds(rng, cfg, batch, iteration=iteration, worker=worker)
    rows, k, m = batch_size_of(batch), syntheses_per_row(cfg), cfg.model
    targets = sampling.draw_targets(rng, rows, k, cfg)
    z = sampling.draw_z(rng, rows, k, cfg)
    omega = None
    if m.multi_images > 1 and m.omega_dropout > 0:
        omega = rng.uniform([rows, m.multi_images])
    return seeds, targets, z, omega


def pretrain_draws(rng: tf.random.Generator, cfg, batch, *, iteration, worker: int = 0
                   ) -> tuple:
    """The draws of a pre-training step: (augmentation seeds,)."""
    return (augmentation_seeds(rng, cfg, batch, iteration=iteration, worker=worker),)


def augment_first(data):
    """The `prepare` of the D, G and pre-training ReplicatedSteps (core/steps.py): the rows
    augmented with the first draw, their seeds (inputs.augment_batch, spec 4.3), outside the
    step's XLA function (module doc); the step function receives (augmented rows, *the other
    draws). data: the config's `data` section."""
    def prepare(batch, seeds, *rest):
        return (inputs.augment_batch(batch, seeds, data), *rest)
    return prepare


# ---------------------------------------------------------------------- syntheses
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
    3] (tanh), "targets" [k * B], "features" [k * B, N^f], "identity" [k * B], "k"},
    synthesis-major (module doc).
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
    return {"fakes": fakes, "targets": flat_targets, "features": features,
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


# ---------------------------------------------------------------------- steps
def d_step(nets, cfg, batch, targets, z, omega=None) -> StepOutput:
    """D step on one replica's augmented rows: fresh syntheses (no gradient into G), D on
    real and fake. {"d_optim": loss}; scalars "loss", the terms and "acc_<name>"."""
    real, identity, pose = real_images(batch, cfg)
    syn = synthesise(nets["encoder"], nets["decoder"], batch, targets, z, cfg, True, omega)
    fake = tf.stop_gradient(syn["fakes"])
    real_out, fake_out = discriminate(nets["discriminator"], real, fake, cfg)
    loss, terms = L.discriminator_loss(real_out, fake_out, identity, pose, cfg.model, cfg.loss)
    acc = L.discriminator_accuracies(real_out, fake_out, identity, pose, syn["targets"],
                                     cfg.model)
    return StepOutput(losses={"d_optim": loss},
                      scalars={"loss": loss, **terms, **{f"acc_{k}": v for k, v in acc.items()}})


def g_step(nets, cfg, batch, targets, z, omega=None) -> StepOutput:
    """G step on one replica's augmented rows through D with fixed weights. {"g_optim":
    loss}; scalars "loss", the terms and the pose accuracy / yaw error on the syntheses;
    images {"input", "synthesis"} [<= 4, s, s, 3] in [-1, 1] of the first synthesis group."""
    m = cfg.model
    syn = synthesise(nets["encoder"], nets["decoder"], batch, targets, z, cfg, True, omega)
    if _g_needs_reals(cfg):
        real = real_images(batch, cfg)[0]
        _, fake_out = discriminate(nets["discriminator"], real, syn["fakes"], cfg)
    else:
        fake_out = nets["discriminator"](syn["fakes"], training=True)
    k = syn["k"]
    if k == 1:
        loss, terms = L.generator_loss(fake_out, batch["identity"], syn["targets"], m, cfg.loss)
    else:
        groups = [{name: part for name, part in zip(fake_out, parts)}
                  for parts in zip(*(tf.split(v, k, axis=0) for v in fake_out.values()))]
        loss, terms = L.multi_generator_loss(groups, batch["identity"],
                                             tf.split(syn["targets"], k, axis=0), m, cfg.loss)
    if cfg.loss.reconstruction_weight:
        rebuilt = rebuild_at_own_pose(nets["decoder"], batch, syn, z, cfg)
        terms["reconstruction"] = L.reconstruction_l1(rebuilt, batch["image"])
        loss = loss + cfg.loss.reconstruction_weight * terms["reconstruction"]
    shown = tf.minimum(tf.shape(batch["identity"])[0], 4)
    return StepOutput(losses={"g_optim": loss},
                      scalars={"loss": loss, **terms,
                               **synthesis_pose_signal(fake_out["pose"], syn["targets"], cfg)},
                      images={"input": first_images(batch, cfg)[0][:shown],
                              "synthesis": syn["fakes"][:shown]})


def rebuild_at_own_pose(decoder, batch, syn, z, cfg) -> tf.Tensor:
    """G_dec(f(x), c(x), z) [B, s, s, 3] for the extension loss.reconstruction_weight
    (losses.reconstruction_l1): the single-image rows' features decoded at the input's OWN
    pose code c(x) with the synthesis's noise z [B, 1, N^z]; a second decoder call in training
    mode (its own BN statistics, as D's separate real / fake calls)."""
    own = sampling.pose_code(sampling.real_pose_labels(batch, cfg), cfg)
    return decoder({"features": syn["features"], "pose": own, "z": z[:, 0]}, training=True)


def synthesis_pose_signal(pose_out, targets, cfg) -> dict:
    """D's pose head on the syntheses against their target (monitoring.py): one-hot codes
    {"pose_accuracy_synth"}, yaw codes {"yaw_error_synth_deg"}."""
    if cfg.model.pose_code == "onehot":
        hits = tf.equal(tf.argmax(tf.cast(pose_out, tf.float32), axis=-1, output_type=tf.int32),
                        tf.cast(targets, tf.int32))
        return {"pose_accuracy_synth": tf.reduce_mean(tf.cast(hits, tf.float32))}
    err = tf.abs(tf.cast(pose_out, tf.float32)[:, 0] - tf.cast(targets, tf.float32))
    return {"yaw_error_synth_deg": tf.reduce_mean(err) * (180.0 / 3.141592653589793)}


def pretrain_step(disc, cfg, batch) -> StepOutput:
    """Identity pre-training of D on one replica's augmented rows (spec 4.2): softmax CE of
    D's identity output on the real images (AM-softmax heads: s * cos with NO margin, as the
    code's pre-training at HEAD). {"pretrain_optim": loss}; scalars "loss", "accuracy"."""
    real, identity, _ = real_images(batch, cfg)
    out = disc(real, training=True)
    if cfg.model.identity_head == "am_softmax":
        loss = L.am_softmax_ce(out["identity"], identity, 0.0, cfg.loss.am_scale)
    else:
        loss = L.softmax_ce(out["identity"], identity)
    hits = tf.equal(tf.argmax(tf.cast(out["identity"], tf.float32), axis=-1,
                              output_type=tf.int32), tf.cast(identity, tf.int32))
    return StepOutput(losses={"pretrain_optim": loss},
                      scalars={"loss": loss, "accuracy": tf.reduce_mean(tf.cast(hits, tf.float32))})


def monitor(nets, cfg, rows) -> StepOutput:
    """The diversity signals (monitoring.py) of one replica's pipeline rows, on their test
    view (inputs.centre_view: centre crop, no flip): the real first image of every row and its
    frontal synthesis (z = 0, inference mode); images: the first row's input decoded at
    every view of the pose set ("pose_grid" [N, s, s, 3] in [-1, 1], "pose_grid_input")."""
    batch = inputs.centre_view(rows, cfg.data)
    enc, dec = nets["encoder"], nets["decoder"]
    real, identity, pose = first_images(batch, cfg)
    b = tf.shape(real)[0]
    f_real = enc(real, training=False)["features"]
    frontal = tf.fill([b], sampling.view_target(sampling.frontal_index(cfg), cfg))
    zeros = tf.zeros([b, cfg.model.z_dim])
    synth = dec({"features": f_real, "pose": sampling.pose_code(frontal, cfg), "z": zeros},
                training=False)
    f_synth = enc(synth, training=False)["features"]
    views = sampling.view_targets(cfg)
    n = tf.shape(views)[0]
    grid = dec({"features": tf.repeat(f_real[:1], n, axis=0),
                "pose": sampling.pose_code(views, cfg),
                "z": tf.zeros([n, cfg.model.z_dim])}, training=False)
    return StepOutput(scalars=monitoring.diversity(real, synth, f_real, f_synth, identity, pose),
                      images={"pose_grid_input": real[:1], "pose_grid": grid})
