"""DR-GAN losses (drgan spec 3) as pure functions of D's head outputs, labels and target poses.

Every function casts to float32 (mixed precision safe) and returns (total, {term: scalar});
terms are UNWEIGHTED, the total applies the weights of the `loss` config section. All
averages are means over the rows of the batch (masked means where a mask is given: the sum
over rows with mask 1 divided by their number; 0 when no row is valid).

Inputs
  real / fake: D's output dicts (discriminator.py): identity [B, K] (logits; cosines for an
      AM-softmax head), pose [B, P], real_fake [B, 1] (not for "cvpr").
  identity: int [B], the subject in [0, N^d) (for fakes: the subject of the input image).
  pose (reals) / target_pose (fakes): "onehot" pose codes: int [B] view index in [0, N^p);
      "yaw": float [B] or [B, 1], radians.
  identity_mask / pose_mask: optional float/bool [B], 1 = the row has that label. The
      official batch mixes AFLW rows (yaw, no identity), VGG2 rows (identity, no yaw) and
      long-tail negatives (neither); on Multi-PIE every row has both and the masks are None.

Head layouts (model.discriminator, spec 2.4):
  "cvpr"  (spec 3.1). D: CE(D^d(x), y^d) + CE(D^p(x), y^p) + CE(D^d(x_hat), fake class N^d)
          (no pose term on fakes). G: CE(D^d(x_hat), y^d) + CE(D^p(x_hat), y^t): the fake
          must show the input's identity (which also means "not the fake class") in the
          target pose.
  "tpami" / "official" (spec 3.2, 3.3). D: BCE(D^r(x), real_label) + BCE(D^r(x_hat), 0)
          + identity(x) + pose(x). G: BCE(D^r(x_hat), 1) + identity(x_hat) + pose(x_hat).
Identity term: softmax CE, or AM-softmax CE (margin on the target class, also for fakes, as
the code does) when model.identity_head == "am_softmax". Pose term: softmax CE over N^p for
"onehot", 1/2 (yaw_hat - yaw)^2 for "yaw" (the code's sum / B = mean over the rows).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import tensorflow as tf

from tpgan_tf.models.drgan.am_softmax import am_softmax_logits


def _f32(x) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def _rows(x, name: str) -> tf.Tensor:
    """[B] or [B, 1] -> [B] float32."""
    x = _f32(x)
    if x.shape.rank == 2 and x.shape[-1] == 1:
        x = x[:, 0]
    if x.shape.rank != 1:
        raise ValueError(f"{name} must be [B] or [B, 1], got shape {x.shape}")
    return x


def masked_mean(values, mask=None) -> tf.Tensor:
    """Mean of values [B]; with a mask [B] the mean over the rows where mask is 1 (0 if none)."""
    values = _f32(values)
    if mask is None:
        return tf.reduce_mean(values)
    mask = _rows(mask, "mask")
    return tf.math.divide_no_nan(tf.reduce_sum(values * mask), tf.reduce_sum(mask))


def first_rows_mask(num_rows: int, num_labelled: int) -> tf.Tensor:
    """float32 [num_rows]: 1 for the first num_labelled rows, 0 after. The official G's
    identity rule: of its 6B fakes (4 single syntheses, the fused one, the negatives; B rows
    each) only the first 5B carry a subject label: first_rows_mask(6 * B, 5 * B)."""
    if not 0 <= num_labelled <= num_rows:
        raise ValueError(f"first_rows_mask: need 0 <= num_labelled <= num_rows, got "
                         f"{num_labelled}, {num_rows}")
    return tf.concat([tf.ones([num_labelled]), tf.zeros([num_rows - num_labelled])], axis=0)


# ---------------------------------------------------------------------- terms
def softmax_ce(logits, labels, mask=None) -> tf.Tensor:
    """Mean softmax cross-entropy of logits [B, K] against int labels [B]."""
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int32), logits=_f32(logits))
    return masked_mean(ce, mask)


def am_softmax_ce(cosines, labels, margin: float, scale: float, mask=None) -> tf.Tensor:
    """Mean AM-softmax cross-entropy (spec 3.4): softmax CE of scale * (cos - margin * onehot)."""
    return softmax_ce(am_softmax_logits(cosines, labels, margin, scale), labels, mask)


def sigmoid_ce(logits, target: float) -> tf.Tensor:
    """Mean sigmoid cross-entropy of logits [B] or [B, 1] against the constant target."""
    logits = _rows(logits, "real_fake logits")
    labels = tf.fill(tf.shape(logits), tf.constant(target, tf.float32))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def fake_class_ce(identity_logits) -> tf.Tensor:
    """CVPR: mean CE of [B, N^d + 1] logits against the last ("fake") class."""
    logits = _f32(identity_logits)
    fake = tf.fill(tf.shape(logits)[:1], tf.shape(logits)[-1] - 1)
    return softmax_ce(logits, fake)


def yaw_regression(predicted, target, mask=None) -> tf.Tensor:
    """Mean of 1/2 (predicted - target)^2 over the rows, yaw in radians; [B] or [B, 1]."""
    diff = _rows(predicted, "predicted yaw") - _rows(target, "target yaw")
    return masked_mean(0.5 * tf.square(diff), mask)


def identity_term(identity_out, labels, model, loss, mask=None) -> tf.Tensor:
    """Softmax or AM-softmax CE of D's identity output, by model.identity_head."""
    if model.identity_head == "am_softmax":
        return am_softmax_ce(identity_out, labels, loss.am_margin, loss.am_scale, mask)
    return softmax_ce(identity_out, labels, mask)


def pose_term(pose_out, target, model, mask=None) -> tf.Tensor:
    """Pose softmax CE (int view index) or yaw regression (radians), by model.pose_code."""
    if model.pose_code == "onehot":
        return softmax_ce(pose_out, target, mask)
    return yaw_regression(pose_out, target, mask)


# ---------------------------------------------------------------------- D and G
def discriminator_loss(real: Mapping, fake: Mapping, identity, pose, model, loss,
                       identity_mask=None, pose_mask=None):
    """D's loss (module docstring; spec 3.1-3.3) on one real and one fake batch.

    model / loss: the config sections (model.discriminator, identity_head, pose_code;
    loss weights, real_label, am_margin, am_scale). Masks apply to the real rows.
    Returns (total, terms): "cvpr" terms identity, pose, fake_class; total =
    w_id * identity + w_pose * pose + w_adv * fake_class. Otherwise adv_real, adv_fake,
    identity, pose; total = w_adv * (adv_real + adv_fake) + w_id * identity + w_pose * pose.
    For multi-image batches pass all reals and all n + 1 syntheses concatenated (the code's
    L_real / L_fake are means over its whole real and fake sets).
    """
    terms = {"identity": identity_term(real["identity"], identity, model, loss, identity_mask),
             "pose": pose_term(real["pose"], pose, model, pose_mask)}
    if model.discriminator == "cvpr":
        terms["fake_class"] = fake_class_ce(fake["identity"])
        adversarial = terms["fake_class"]
    else:
        terms["adv_real"] = sigmoid_ce(real["real_fake"], loss.real_label)
        terms["adv_fake"] = sigmoid_ce(fake["real_fake"], 0.0)
        adversarial = terms["adv_real"] + terms["adv_fake"]
    total = (loss.adversarial_weight * adversarial + loss.identity_weight * terms["identity"]
             + loss.pose_weight * terms["pose"])
    return total, terms


def generator_loss(fake: Mapping, identity, target_pose, model, loss, identity_mask=None):
    """G's loss on one batch of syntheses: D's outputs on G(x, c, z), the input's subject and
    the target pose. Returns (total, terms): identity, pose and (not "cvpr") adversarial =
    BCE(D^r(x_hat), 1); total = w_id * identity + w_pose * pose (+ w_adv * adversarial).
    identity_mask: rows whose input has a subject label (official: first_rows_mask)."""
    terms = {"identity": identity_term(fake["identity"], identity, model, loss, identity_mask),
             "pose": pose_term(fake["pose"], target_pose, model)}
    total = loss.identity_weight * terms["identity"] + loss.pose_weight * terms["pose"]
    if model.discriminator != "cvpr":
        terms["adversarial"] = sigmoid_ce(fake["real_fake"], 1.0)
        total = total + loss.adversarial_weight * terms["adversarial"]
    return total, terms


def multi_generator_loss(fakes: Sequence[Mapping], identity, target_poses: Sequence, model,
                         loss, identity_mask=None):
    """Multi-image G (spec 2.5 / 3.1): n single syntheses and one of the fused feature.

    fakes: n + 1 D output dicts, the n single-image syntheses first, the fused one last, each
    [B, ...] for the same B rows (one subject per row); target_poses: n + 1 pose targets.
    Each synthesis gets generator_loss's terms (2 per synthesis for "cvpr": the paper's
    2(n + 1) terms; 3 with a real/fake logit). Terms are named "single{i}/{term}" and
    "fused/{term}". total = sum of the n + 1 totals (loss.multi_reduction "sum", paper) or
    their mean ("mean", official).
    """
    if len(fakes) < 2 or len(fakes) != len(target_poses):
        raise ValueError(f"multi_generator_loss needs n + 1 >= 2 syntheses and as many target "
                         f"poses, got {len(fakes)} and {len(target_poses)}")
    totals, terms = [], {}
    for i, (out, target) in enumerate(zip(fakes, target_poses)):
        prefix = "fused" if i == len(fakes) - 1 else f"single{i}"
        total, parts = generator_loss(out, identity, target, model, loss, identity_mask)
        totals.append(total)
        terms.update({f"{prefix}/{k}": v for k, v in parts.items()})
    total = tf.add_n(totals)
    if loss.multi_reduction == "mean":
        total = total / float(len(totals))
    return total, terms


def reconstruction_l1(rebuilt, image) -> tf.Tensor:
    """The EXTENSION term of loss.reconstruction_weight (config.py; no DR-GAN has it): the mean
    over every pixel of |rebuilt - image|, both [B, s, s, 3] in [-1, 1]; unweighted."""
    return tf.reduce_mean(tf.abs(_f32(rebuilt) - _f32(image)))


# ---------------------------------------------------------------------- monitoring
def _accuracy(logits, labels) -> tf.Tensor:
    hits = tf.equal(tf.argmax(_f32(logits), axis=-1, output_type=tf.int32),
                    tf.cast(labels, tf.int32))
    return tf.reduce_mean(tf.cast(hits, tf.float32))


def discriminator_accuracies(real: Mapping, fake: Mapping, identity, pose, target_pose,
                             model) -> dict:
    """D's accuracies (float32 scalars) for the "adaptive" D:G schedule and the failure
    signals of spec 6: identity_real (argmax; the pre-margin cosine for AM-softmax, as the
    code), pose_real and pose_fake (the synthesis shows the TARGET pose; one-hot codes only),
    and fake_class (cvpr: argmax is the fake class) or real / fake (logit > 0 / < 0).
    `mean` averages the D-side ones (identity_real, pose_real, fake_class or real and fake)."""
    acc = {"identity_real": _accuracy(real["identity"], identity)}
    if model.pose_code == "onehot":
        acc["pose_real"] = _accuracy(real["pose"], pose)
        acc["pose_fake"] = _accuracy(fake["pose"], target_pose)
    if model.discriminator == "cvpr":
        k = tf.shape(fake["identity"])[-1] - 1
        acc["fake_class"] = _accuracy(fake["identity"], tf.fill(tf.shape(fake["identity"])[:1], k))
        d_side = ["identity_real", "pose_real", "fake_class"]
    else:
        acc["real"] = tf.reduce_mean(tf.cast(_rows(real["real_fake"], "logits") > 0, tf.float32))
        acc["fake"] = tf.reduce_mean(tf.cast(_rows(fake["real_fake"], "logits") < 0, tf.float32))
        d_side = ["identity_real", "pose_real", "real", "fake"]
    acc["mean"] = tf.add_n([acc[k] for k in d_side if k in acc]) / float(
        len([k for k in d_side if k in acc]))
    return acc
