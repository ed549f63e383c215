"""TP-GAN losses with the original code's sum-based normalisation and weights (spec 3, 4).

Every image is NHWC float. Most terms use S(.) of spec 4.1: the sum of |difference| over H and W,
then the mean over batch and channels, so S = H * W * mean|.|. The weights of spec 4.3 are meant
for these sums; do not replace S with a plain mean.
"""
from __future__ import annotations

from typing import Callable, Mapping

import tensorflow as tf

from tpgan_tf.models.tpgan.config import LossConfig
from tpgan_tf.faces.image_ops import legacy_resize, to_gray
from tpgan_tf.faces.parts import PART_NAMES

_WHERE = "tpgan_tf/models/tpgan/losses.py"

# Names of every generator term returned by `generator_loss_terms`, in a fixed order.
TERM_NAMES = (
    "l1_128", "l1_64", "l1_32", "sym_128", "sym_64", "sym_32", "adversarial", "identity",
    "cross_entropy", "total_variation",
    *(f"part_{name}" for name in PART_NAMES),
)


def _f32(x) -> tf.Tensor:
    """Any tensor-like (numpy arrays included) as a float32 tensor."""
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def _check_rank4(name: str, x: tf.Tensor) -> None:
    if x.shape.rank is not None and x.shape.rank != 4:
        raise ValueError(f"{_WHERE}: {name} must be NHWC (rank 4), got shape {x.shape}")


def _check_same_shape(func: str, a: tf.Tensor, b: tf.Tensor) -> None:
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"{_WHERE}: {func} needs two tensors of one shape, got {a.shape} and {b.shape}")


def spatial_l1(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """S(a - b) of spec 4.1: sum |a - b| over H and W, then mean over batch and channels.

    a, b: [B, H, W, C] of one shape. Returns a float32 scalar (= H * W * mean|a - b|).
    """
    a = _f32(a)
    b = _f32(b)
    _check_rank4("spatial_l1 input", a)
    _check_same_shape("spatial_l1", a, b)
    per_map = tf.reduce_sum(tf.abs(a - b), axis=[1, 2])  # [B, C]
    return tf.reduce_mean(per_map)


def laplacian(images: tf.Tensor) -> tf.Tensor:
    """Fixed 3x3 Laplacian (centre 8, the 8 neighbours -1) per channel, SAME zero padding (spec 4.2).

    The original keeps the kernel in variables that no optimiser touches; a constant is the
    same thing. images: [B, H, W, C] with C known. Returns [B, H, W, C].
    """
    images = _f32(images)
    _check_rank4("laplacian input", images)
    channels = images.shape[-1]
    if channels is None:
        raise ValueError(f"{_WHERE}: laplacian needs a known channel count, got shape {images.shape}")
    kernel = tf.constant([[-1.0, -1.0, -1.0],
                          [-1.0, 8.0, -1.0],
                          [-1.0, -1.0, -1.0]], tf.float32)
    # Depthwise = the original's block-diagonal 3 -> 3 conv: no mixing between channels.
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])  # [3, 3, C, 1]
    return tf.nn.depthwise_conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME")


def symmetry_loss(images: tf.Tensor, use_laplacian: bool, pool: bool) -> tf.Tensor:
    """Half-vs-mirrored-half L1 of spec 4.2.

    Optionally 2x2 average-pools first (sym128) and/or appends the Laplacian channels
    (sym64 / sym32: P = [img ⊕ laplacian(img)]). The left half (cols 0..W/2-1) is the
    target under stop-gradient; the right half is flipped left-right and compared with S(.).
    images: [B, H, W, C] with even W (after pooling). Returns a float32 scalar.
    """
    x = _f32(images)
    _check_rank4("symmetry_loss input", x)
    if pool:
        # spec 4.2: 128 -> 64 by 2x2 average pooling before the halves are taken.
        x = tf.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID")
    if use_laplacian:
        x = tf.concat([x, laplacian(x)], axis=-1)
    width = x.shape[2]
    if width is None or width % 2:
        raise ValueError(f"{_WHERE}: symmetry_loss needs an even, known width, got shape {x.shape}")
    half = width // 2
    # The left half is the visible side after MIRROR_TO_ONE_SIDE (spec 1.1), hence the target.
    left = tf.stop_gradient(x[:, :, :half, :])
    right_mirrored = tf.reverse(x[:, :, half:, :], axis=[2])
    return spatial_l1(left, right_mirrored)


def symmetry_128(img128: tf.Tensor) -> tf.Tensor:
    """sym128: pool to 64x64, then 64x32 halves on 3 channels (spec 4.2)."""
    return symmetry_loss(img128, use_laplacian=False, pool=True)


def symmetry_64(img64: tf.Tensor) -> tf.Tensor:
    """sym64: halves of [img64 ⊕ laplacian(img64)], 64x32 on 6 channels (spec 4.2)."""
    return symmetry_loss(img64, use_laplacian=True, pool=False)


def symmetry_32(img32: tf.Tensor) -> tf.Tensor:
    """sym32: halves of [img32 ⊕ laplacian(img32)], 32x16 on 6 channels (spec 4.2)."""
    return symmetry_loss(img32, use_laplacian=True, pool=False)


def sigmoid_ce(logits: tf.Tensor, target: float) -> tf.Tensor:
    """Mean sigmoid cross-entropy of `logits` (any shape) against the constant `target`."""
    logits = _f32(logits)
    labels = tf.fill(tf.shape(logits), tf.constant(target, tf.float32))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def generator_adversarial_loss(fake_logits: tf.Tensor, real_label: float = 0.9) -> tf.Tensor:
    """adv of spec 4.2: mean sigmoid-CE of D(img128) against the smoothed real label 0.9 (spec 3)."""
    return sigmoid_ce(fake_logits, real_label)


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor,
                       real_label: float = 0.9) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """d_loss = d_real + d_fake (spec 3, 4.3), one-sided label smoothing: real 0.9, fake 0.

    Logits: [B, 16] patch logits (any shape works; the mean is over all entries).
    Returns (d_loss, d_real, d_fake), float32 scalars.
    """
    d_real = sigmoid_ce(real_logits, real_label)
    d_fake = sigmoid_ce(fake_logits, 0.0)
    return d_real + d_fake, d_real, d_fake


def identity_loss(lightcnn: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]],
                  fake128: tf.Tensor, real128: tf.Tensor) -> tf.Tensor:
    """ip of spec 4.2: Light-CNN feature distance between img128 and GT128.

    lightcnn maps gray [B, 128, 128, 1] -> (pool4 [B, 8, 8, C], fc feature [B, 256]); the input
    is the channel mean of RGB (spec 4.2/4.4). Loss = mean|fc_fake - fc_real| + S(pool4_fake -
    pool4_real). The real branch is a fixed target and carries no gradient.
    """
    fake128, real128 = _f32(fake128), _f32(real128)
    _check_rank4("identity_loss fake128", fake128)
    _check_same_shape("identity_loss", fake128, real128)
    pool_fake, fc_fake = lightcnn(to_gray(fake128))
    # The GT branch is a fixed target: no gradient through the input or the outputs.
    pool_real, fc_real = lightcnn(to_gray(tf.stop_gradient(real128)))
    pool_real = tf.stop_gradient(pool_real)
    fc_real = tf.stop_gradient(fc_real)
    fc_term = tf.reduce_mean(tf.abs(_f32(fc_fake) - _f32(fc_real)))
    return fc_term + spatial_l1(pool_fake, pool_real)


def identity_cross_entropy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """CE of spec 4.2: mean softmax cross-entropy of the identity head. logits [B, N], labels int [B]."""
    logits = _f32(logits)
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def total_variation(images: tf.Tensor) -> tf.Tensor:
    """TV of spec 4.2: per image sum |vertical diffs| + sum |horizontal diffs| (all pixels and
    channels), then the mean over the batch. images: [B, H, W, C]. Returns a float32 scalar."""
    x = _f32(images)
    _check_rank4("total_variation input", x)
    vertical = tf.reduce_sum(tf.abs(x[:, 1:, :, :] - x[:, :-1, :, :]), axis=[1, 2, 3])
    horizontal = tf.reduce_sum(tf.abs(x[:, :, 1:, :] - x[:, :, :-1, :]), axis=[1, 2, 3])
    return tf.reduce_mean(vertical + horizontal)


def part_l1(local_images: Mapping[str, tf.Tensor],
            gt_patches: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Part L1 of spec 4.2: {part name: S(local image - GT patch)} for the four PART_NAMES.

    Both dicts are keyed by part name (eye_left, eye_right, nose, mouth); patches are
    [B, h, w, 3] with the sizes of spec 1.4.
    """
    out = {}
    for name in PART_NAMES:
        if name not in local_images or name not in gt_patches:
            raise KeyError(f"{_WHERE}: part_l1 needs part {name!r} in both dicts; got local "
                           f"{sorted(local_images)} and GT {sorted(gt_patches)}")
        out[name] = spatial_l1(local_images[name], gt_patches[name])
    return out


def generator_loss_terms(outputs: Mapping[str, tf.Tensor], batch: Mapping[str, tf.Tensor],
                         fake_logits: tf.Tensor, lightcnn=None,
                         real_label: float = 0.9) -> dict[str, tf.Tensor]:
    """Every named generator term of spec 4.2 (unweighted), as float32 scalars keyed by TERM_NAMES.

    outputs: the generator's dict with img128 [B,128,128,3], img64, img32, the four local images
      (eye_left, eye_right, nose, mouth) and optionally identity_logits [B, 340].
    batch: frontal [B,128,128,3] GT in [0,1), frontal_<part> GT patches, optionally label int [B].
    fake_logits: D(img128). lightcnn: see `identity_loss`; None switches the identity term off (0).
    The identity CE is 0 when identity_logits or label is absent.
    """
    for key in ("img128", "img64", "img32", *PART_NAMES):
        if key not in outputs:
            raise KeyError(f"{_WHERE}: generator outputs lack {key!r}; got {sorted(outputs)}")
    for key in ("frontal", *(f"frontal_{n}" for n in PART_NAMES)):
        if key not in batch:
            raise KeyError(f"{_WHERE}: batch lacks {key!r}; got {sorted(batch)}")
    frontal = _f32(batch["frontal"])
    size = frontal.shape[1]
    if size is None or size % 4:
        raise ValueError(f"{_WHERE}: frontal needs a known height divisible by 4, got {frontal.shape}")
    # spec 1.1: legacy resize at 2x / 4x = decimation frontal[:, ::2, ::2] / [:, ::4, ::4].
    gt64 = legacy_resize(frontal, size // 2)
    gt32 = legacy_resize(frontal, size // 4)
    img128, img64, img32 = outputs["img128"], outputs["img64"], outputs["img32"]

    zero = tf.constant(0.0, tf.float32)
    terms = {
        "l1_128": spatial_l1(img128, frontal),
        "l1_64": spatial_l1(img64, gt64),
        "l1_32": spatial_l1(img32, gt32),
        "sym_128": symmetry_128(img128),
        "sym_64": symmetry_64(img64),
        "sym_32": symmetry_32(img32),
        "adversarial": generator_adversarial_loss(fake_logits, real_label),
        "identity": zero if lightcnn is None else identity_loss(lightcnn, img128, frontal),
        "cross_entropy": (identity_cross_entropy(outputs["identity_logits"], batch["label"])
                          if "identity_logits" in outputs and "label" in batch else zero),
        "total_variation": total_variation(img128),
    }
    parts = part_l1({n: outputs[n] for n in PART_NAMES},
                    {n: batch[f"frontal_{n}"] for n in PART_NAMES})
    for name in PART_NAMES:
        terms[f"part_{name}"] = parts[name]
    return terms


def combine_generator_loss(terms: Mapping[str, tf.Tensor], weights: LossConfig) -> tf.Tensor:
    """g_loss of spec 4.3:
    w128*(L1_128 + sym*sym128) + w64*(L1_64 + sym*sym64) + w32*(L1_32 + sym*sym32)
    + identity*ip + adversarial*adv + cross_entropy*CE + total_variation*TV.
    """
    missing = [k for k in TERM_NAMES[:10] if k not in terms]
    if missing:
        raise KeyError(f"{_WHERE}: combine_generator_loss lacks terms {missing}")
    w = weights
    return (w.l1_128 * (terms["l1_128"] + w.symmetry * terms["sym_128"])
            + w.l1_64 * (terms["l1_64"] + w.symmetry * terms["sym_64"])
            + w.l1_32 * (terms["l1_32"] + w.symmetry * terms["sym_32"])
            + w.identity * terms["identity"]
            + w.adversarial * terms["adversarial"]
            + w.cross_entropy * terms["cross_entropy"]
            + w.total_variation * terms["total_variation"])


def rotation_loss(terms: Mapping[str, tf.Tensor], weights: LossConfig) -> tf.Tensor:
    """rot_loss of spec 4.3: part * (eyeL + eyeR + nose + mouth) part L1 (PART_W = 3)."""
    keys = [f"part_{name}" for name in PART_NAMES]
    missing = [k for k in keys if k not in terms]
    if missing:
        raise KeyError(f"{_WHERE}: rotation_loss lacks terms {missing}")
    return weights.part * tf.add_n([terms[k] for k in keys])
