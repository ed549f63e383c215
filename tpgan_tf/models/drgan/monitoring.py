"""The two failure signals of the public DR-GAN ports (drgan spec 6: "the pose code is
ignored", "all identities look alike"), as TensorBoard scalars of a training batch.

  * pose accuracy on syntheses: D's pose head on G(x, c, z) against the TARGET pose c (the
    G step logs it; losses.discriminator_accuracies "pose_fake"); near chance (1 / N^p) means
    G ignores the pose code. For yaw codes: the mean |predicted - target| yaw in degrees.
  * diversity across identities: the mean pairwise distance between syntheses of DIFFERENT
    identities at the same pose code (frontal, z = 0), next to the same distance between the
    real inputs; identity collapse drives the first towards 0 while the second stays. Two
    distances: L1 of images (mean absolute difference in [0, 1] units, on 4 x 4
    average-pooled images to keep the B x B comparison cheap) and the cosine distance
    1 - cos of the encoder features f(x). Real-image L1 compares only pairs that share the
    pose label (different poses differ for other reasons); 0 when the batch has no such pair.
"""
from __future__ import annotations

import tensorflow as tf

POOL = 4  # average pooling before the pairwise image L1


def pair_mask(identity, same_pose_as=None) -> tf.Tensor:
    """float32 [B, B]: 1 for pairs i < j of different identities (and, when given, the same
    value of same_pose_as)."""
    identity = tf.reshape(identity, [-1])
    b = tf.shape(identity)[0]
    upper = tf.linalg.band_part(tf.ones([b, b]), 0, -1) - tf.eye(b)
    mask = upper * tf.cast(identity[:, None] != identity[None, :], tf.float32)
    if same_pose_as is not None:
        pose = tf.reshape(same_pose_as, [-1])
        mask *= tf.cast(pose[:, None] == pose[None, :], tf.float32)
    return mask


def _masked_pair_mean(distances, mask) -> tf.Tensor:
    return tf.math.divide_no_nan(tf.reduce_sum(distances * mask), tf.reduce_sum(mask))


def pairwise_l1(images, mask) -> tf.Tensor:
    """Mean over the masked pairs of the mean |a - b| of images [B, H, W, 3] in [-1, 1],
    reported in [0, 1] units (half the [-1, 1] difference), after 4 x 4 average pooling."""
    x = tf.cast(images, tf.float32)
    if x.shape[1] is not None and x.shape[1] >= 2 * POOL:
        x = tf.nn.avg_pool2d(x, POOL, POOL, "VALID")
    flat = tf.reshape(x, [tf.shape(x)[0], -1])
    d = tf.reduce_mean(tf.abs(flat[:, None, :] - flat[None, :, :]), axis=-1) / 2.0
    return _masked_pair_mean(d, mask)


def pairwise_cosine_distance(features, mask) -> tf.Tensor:
    """Mean over the masked pairs of 1 - cos(f_i, f_j) of features [B, F]."""
    f = tf.math.l2_normalize(tf.cast(features, tf.float32), axis=-1)
    return _masked_pair_mean(1.0 - tf.matmul(f, f, transpose_b=True), mask)


def diversity(real_images, synth_images, real_features, synth_features, identity, pose
              ) -> dict:
    """The diversity scalars of the module doc for B real images and their syntheses at ONE
    pose code: {"diversity_l1_synth", "diversity_l1_real", "diversity_feature_synth",
    "diversity_feature_real"}. identity, pose: int [B] labels of the real images."""
    different = pair_mask(identity)
    return {"diversity_l1_synth": pairwise_l1(synth_images, different),
            "diversity_l1_real": pairwise_l1(real_images, pair_mask(identity, pose)),
            "diversity_feature_synth": pairwise_cosine_distance(synth_features, different),
            "diversity_feature_real": pairwise_cosine_distance(real_features, different)}
