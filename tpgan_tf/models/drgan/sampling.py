"""Target poses, pose codes and noise of DR-GAN's syntheses (drgan spec 2.2, 4.4).

Targets are drawn per synthesis from a checkpointed tf.random.Generator (the task's, one per
worker, in cross-replica context; each replica then takes its slice), shaped [rows, k] with
k the syntheses per row (1 single-image; n singles + 1 fused for multi-image):
  * one-hot pose codes (paper): a view index uniform over the N^p views, fresh per synthesis
    and iteration (train.target_pose "uniform" [PORT]; the paper re-samples per epoch,
    [QUOTE kayamin#3]);
  * yaw codes (official): radians. "uniform": U(-max_yaw, +max_yaw); "official": the anchor
    (synthesis 0) N(0, anchor_yaw_stddev), every other synthesis (positives, fused)
    U(-official_yaw_range, +official_yaw_range) (spec 4.4, degrees in the config).
Noise z [rows, k, N^z]: U(-z_scale, z_scale) (paper, code) or N(0, z_scale^2).
"""
from __future__ import annotations

import math

import tensorflow as tf

YAW_STEP = 15


def radians(degrees):
    return tf.cast(degrees, tf.float32) * (math.pi / 180.0)


def draw_targets(rng: tf.random.Generator, rows: int, k: int, cfg) -> tf.Tensor:
    """Target poses of rows x k syntheses: int32 view indices (one-hot codes) or float32
    yaws in radians (module doc)."""
    m, t, d = cfg.model, cfg.train, cfg.data
    if m.pose_code == "onehot":
        return rng.uniform([rows, k], 0, m.num_poses, dtype=tf.int32)
    if t.target_pose == "official":
        anchor = rng.normal([rows, 1], stddev=radians(t.anchor_yaw_stddev))
        rest = rng.uniform([rows, k - 1], -radians(t.official_yaw_range),
                           radians(t.official_yaw_range))
        return tf.concat([anchor, rest], axis=1)
    return rng.uniform([rows, k], -radians(d.max_yaw), radians(d.max_yaw))


def draw_z(rng: tf.random.Generator, rows: int, k: int, cfg) -> tf.Tensor:
    """Noise [rows, k, N^z] float32 (module doc)."""
    m = cfg.model
    if m.z_distribution == "uniform":
        return rng.uniform([rows, k, m.z_dim], -m.z_scale, m.z_scale)
    return rng.normal([rows, k, m.z_dim], stddev=m.z_scale)


def pose_code(targets, cfg) -> tf.Tensor:
    """Decoder input for targets [...]: one-hot float32 [..., N^p], or the yaw [..., 1]."""
    if cfg.model.pose_code == "onehot":
        return tf.one_hot(tf.cast(targets, tf.int32), cfg.model.num_poses, dtype=tf.float32)
    return tf.cast(targets, tf.float32)[..., None]


def real_pose_labels(batch, cfg) -> tf.Tensor:
    """Pose labels of the real images: the view index (one-hot codes) or the yaw in radians."""
    if cfg.model.pose_code == "onehot":
        return batch["pose"]
    return radians(batch["yaw"])


def view_targets(cfg) -> tf.Tensor:
    """One target per view of the data's pose set, from the most negative yaw (an image grid
    of one input at every pose code; the `rotate` signature's pose indices)."""
    return view_target(tf.range(cfg.data.num_views), cfg)


def view_target(index, cfg) -> tf.Tensor:
    """The target of view index `index` (int tensor): itself for one-hot codes, its yaw in
    radians (index * 15 - max_yaw degrees) for yaw codes."""
    index = tf.cast(index, tf.int32)
    if cfg.model.pose_code == "onehot":
        return index
    return radians(index * YAW_STEP - cfg.data.max_yaw)


def frontal_index(cfg) -> int:
    """The frontal view's index in the pose set (yaw 0): (N - 1) / 2."""
    return (cfg.data.num_views - 1) // 2
