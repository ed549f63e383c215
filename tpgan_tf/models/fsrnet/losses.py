"""FSRNet and FSRGAN losses (fsrnet spec 6.1, 6.2), pure functions in float32.

"MSE" is the MEAN of the squared difference over every element (batch, H, W and channels),
the Torch / PyTorch meaning (nn.MSELoss, reduction "mean") that the reimplementations'
weights alpha = beta = 1, gamma_C = 1e-3, gamma_P = 1e-1 assume. A sum of squares would
weight the K x 64^2-element prior term and the 3 x 128^2-element image terms differently
(spec 6.1); do not replace the mean. Every loss is the mean over THIS batch: under
tf.distribute core/steps.py divides it by the number of replicas, once.

Each function returns (total, {term: scalar}) with float32 scalars; inputs are cast to
float32 first, so mixed-precision outputs are fine.
"""
from __future__ import annotations

import tensorflow as tf

FSRNET_TERMS = ("coarse", "fine", "prior")
FSRGAN_TERMS = (*FSRNET_TERMS, "adversarial", "perceptual")
D_TERMS = ("real", "fake")


def _f32(x) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def mse(a, b) -> tf.Tensor:
    """Mean over all elements of (a - b)^2 (Torch's MSE). Same shapes -> float32 scalar."""
    a, b = _f32(a), _f32(b)
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"mse needs two tensors of one shape, got {a.shape} and {b.shape}")
    return tf.reduce_mean(tf.square(a - b))


def bce_with_logits(logits, target: float) -> tf.Tensor:
    """Mean binary cross-entropy of logits [B, h, w, 1] against a constant target."""
    logits = _f32(logits)
    labels = tf.fill(tf.shape(logits), tf.constant(target, tf.float32))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def fsrnet_loss(coarse, sr, priors, hr, priors_gt, alpha: float = 1.0, beta: float = 1.0):
    """L = MSE(y_c, y) + alpha MSE(y_hat, y) + beta MSE(p, p_gt) (spec 6.1, alpha = beta = 1).

    coarse, sr, hr: [B, H, W, 3]; priors, priors_gt: [B, H/2, W/2, K].
    Returns (total, {"coarse", "fine", "prior"}) float32, the terms unweighted.
    """
    terms = {"coarse": mse(coarse, hr), "fine": mse(sr, hr), "prior": mse(priors, priors_gt)}
    total = terms["coarse"] + alpha * terms["fine"] + beta * terms["prior"]
    return total, terms


def perceptual_loss(features_sr, features_hr) -> tf.Tensor:
    """MSE (mean) between VGG features of y_hat and of y (spec 6.2); the target side under
    stop_gradient. [B, h, w, C] each -> float32 scalar."""
    return mse(features_sr, tf.stop_gradient(_f32(features_hr)))


def fsrgan_generator_loss(coarse, sr, priors, hr, priors_gt, fake_logits, perceptual=None,
                          alpha: float = 1.0, beta: float = 1.0, gamma_c: float = 1e-3,
                          gamma_p: float = 1e-1):
    """L_G = L_FSRNet + gamma_C L_adv + gamma_P L_perc (spec 6.2; 1e-3, 1e-1 from [CS]).

    L_adv = BCE(D(x, y_hat), real): the non-saturating log loss, mean over patches.
    perceptual: the scalar of perceptual_loss, or None when the term is off (no VGG file);
    then the "perceptual" term is reported as 0 and not added.
    Returns (total, {"coarse", "fine", "prior", "adversarial", "perceptual"}) float32,
    the terms unweighted.
    """
    total, terms = fsrnet_loss(coarse, sr, priors, hr, priors_gt, alpha, beta)
    terms["adversarial"] = bce_with_logits(fake_logits, 1.0)
    total = total + gamma_c * terms["adversarial"]
    if perceptual is None:
        terms["perceptual"] = tf.zeros([], tf.float32)
    else:
        terms["perceptual"] = _f32(perceptual)
        total = total + gamma_p * terms["perceptual"]
    return total, terms


def discriminator_loss(real_logits, fake_logits):
    """L_D = BCE(D(x, y), 1) + BCE(D(x, y_hat), 0), unweighted (spec 6.2 recommendation;
    [CS]'s extra 1e-3 on the D loss is not used, and pix2pix's factor 0.5 is left out: RMSprop
    updates barely depend on a constant loss scale).
    Returns (total, {"real", "fake"}) float32."""
    terms = {"real": bce_with_logits(real_logits, 1.0), "fake": bce_with_logits(fake_logits, 0.0)}
    return terms["real"] + terms["fake"], terms
