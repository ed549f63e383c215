"""TF twin of tpgan_tf/faces/alignment.py: the tpgan spec 1.2 similarity alignment in a graph
(for exported signatures that take raw photos). tests/faces/test_alignment_tf.py checks the
matrices against alignment.alignment_matrix and the crops against alignment.align_face.

From a photo: decode (JPEG/PNG/GIF/BMP, any size), check the landmarks, build the similarity
(roll from the eye line, scale 48 / (mouth_y - eye_y) or 1 when that is <= 0, eye centre to
(64, 40)), warp with ImageProjectiveTransformV3 (bilinear, zero fill; when the face is shrunk,
first an antialiased Keys-cubic shrink by exactly the scale, as alignment.py does with MATLAB's
kernel).
"""
from __future__ import annotations

import tensorflow as tf

from tpgan_tf.faces.alignment import CROP_SIZE, EC_MC_Y, EC_Y


def alignment_matrices(landmarks: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """tpgan spec 1.2 similarity for raw 0-based landmarks [B, 5, 2] (float64 inside).

    Returns (matrix float64 [B, 2, 3] raw -> crop, scale float64 [B]); the same matrix as
    alignment.alignment_matrix: crop = s R (p - e) + (64, 40).
    """
    p = tf.cast(landmarks, tf.float64)
    # Step 1: roll = atan(eye-line slope), 0 when both eyes share the same x.
    slope = tf.math.divide_no_nan(p[:, 0, 1] - p[:, 1, 1], p[:, 0, 0] - p[:, 1, 0])
    t = tf.atan(slope)
    cos, sin = tf.cos(t), tf.sin(t)
    eye = 0.5 * (p[:, 0] + p[:, 1])
    mouth = 0.5 * (p[:, 3] + p[:, 4])
    # Step 4: d = (R (m - e))_y; s = 48 / d, or 1 when d <= 0.
    d = -sin * (mouth[:, 0] - eye[:, 0]) + cos * (mouth[:, 1] - eye[:, 1])
    scale = tf.where(d > 0, EC_MC_Y / tf.where(d > 0, d, tf.ones_like(d)), tf.ones_like(d))
    lin = scale[:, None, None] * tf.stack([tf.stack([cos, sin], -1),
                                           tf.stack([-sin, cos], -1)], axis=1)
    centre = tf.constant([CROP_SIZE // 2, EC_Y], tf.float64)  # step 5
    offset = centre[None] - tf.linalg.matvec(lin, eye)
    return tf.concat([lin, offset[:, :, None]], axis=2), scale


def apply_matrices(matrices: tf.Tensor, points: tf.Tensor) -> tf.Tensor:
    """[B, 2, 3] affine matrices applied to [B, N, 2] points -> [B, N, 2] (float64)."""
    p = tf.cast(points, tf.float64)
    return tf.einsum("bij,bnj->bni", matrices[:, :, :2], p) + matrices[:, None, :, 2]


def _warp(image: tf.Tensor, crop_to_source: tf.Tensor) -> tf.Tensor:
    """Bilinear, zero-filled 128 x 128 warp of image [H, W, 3] float32; crop_to_source is the
    [2, 3] float64 map from crop to source pixel centres (what the op wants: output -> input)."""
    transform = tf.concat([tf.reshape(tf.cast(crop_to_source, tf.float32), [6]),
                           tf.zeros([2], tf.float32)], axis=0)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform[None],
        output_shape=tf.constant([CROP_SIZE, CROP_SIZE], tf.int32),
        fill_value=tf.constant(0.0, tf.float32), interpolation="BILINEAR",
        fill_mode="CONSTANT")[0]


def align_image(image: tf.Tensor, matrix: tf.Tensor, scale: tf.Tensor) -> tf.Tensor:
    """One raw uint8 [H, W, 3] image -> the aligned uint8 [128, 128, 3] crop (tpgan spec 1.2).

    matrix float64 [2, 3] raw -> crop and its scale (from `alignment_matrices`).
    """
    raw = tf.cast(image, tf.float32)
    lin_inv = tf.linalg.inv(matrix[:, :2])  # (s R)^-1 = R^T / s
    crop_to_raw = tf.concat([lin_inv, -tf.matmul(lin_inv, matrix[:, 2:])], axis=1)

    def direct():  # s >= 1: one bilinear resample from the raw image
        return _warp(raw, crop_to_raw)

    def shrink_then_warp():
        # s < 1: a point-sampling warp would alias; shrink by exactly s first with the
        # antialiased Keys cubic (a = -0.5, kernel widened by 1/s; the kernel of MATLAB's
        # imresize and of alignment.py), half-pixel centres: small = s (raw + .5) - .5.
        s32 = tf.cast(scale, tf.float32)
        hw = tf.cast(tf.shape(raw)[:2], tf.float64)
        size = tf.cast(tf.maximum(tf.math.ceil(scale * hw), 1.0), tf.int32)
        small = tf.raw_ops.ScaleAndTranslate(
            images=raw[None], size=size, scale=tf.stack([s32, s32]),
            translation=tf.zeros([2], tf.float32), kernel_type="keyscubic", antialias=True)[0]
        crop_to_small = scale * crop_to_raw + tf.constant(
            [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]], tf.float64) * (0.5 * scale - 0.5)
        return _warp(small, crop_to_small)

    crop = tf.cond(scale < 1.0, shrink_then_warp, direct)
    return tf.cast(tf.clip_by_value(tf.round(crop), 0.0, 255.0), tf.uint8)


def batch_checks(image_like: tf.Tensor, landmarks: tf.Tensor, what: str) -> list:
    """Assertions for a request: equal image and landmark batch sizes, finite landmarks."""
    return [
        tf.debugging.assert_equal(
            tf.shape(image_like)[0], tf.shape(landmarks)[0],
            message=f"{what}: the image batch and the landmarks batch differ in size"),
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(landmarks)),
            [f"{what}: landmarks must be finite numbers; got", landmarks], summarize=50),
    ]


def points_inside(landmarks: tf.Tensor, height, width) -> tf.Tensor:
    """True if every point lies on the pixel area: -0.5 <= x <= W - 0.5, -0.5 <= y <= H - 0.5
    (landmarks.check_landmarks)."""
    x, y = landmarks[..., 0], landmarks[..., 1]
    w, h = tf.cast(width, landmarks.dtype), tf.cast(height, landmarks.dtype)
    return tf.reduce_all((x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5))


def align_photos(image_bytes, landmarks, what: str = "align_photos") -> tuple[tf.Tensor, tf.Tensor]:
    """Encoded photos string [B] + raw 0-based landmarks float32 [B, 5, 2] -> (aligned
    uint8 [B, 128, 128, 3], crop landmarks float32 [B, 5, 2]). Raises on undecodable
    bytes and on landmarks that are not finite or lie outside their photo."""
    image_bytes = tf.convert_to_tensor(image_bytes, tf.string)
    landmarks = tf.convert_to_tensor(landmarks, tf.float32)
    with tf.control_dependencies(batch_checks(image_bytes, landmarks, what)):
        matrices, scales = alignment_matrices(landmarks)

    def align_one(args):
        data, points, matrix, scale = args
        image = tf.io.decode_image(data, channels=3, dtype=tf.uint8, expand_animations=False)
        shape = tf.shape(image)
        check = tf.debugging.Assert(
            points_inside(points, shape[0], shape[1]),
            [f"{what}: a landmark lies outside its image (need -0.5 <= x <= "
             "width - 0.5 and -0.5 <= y <= height - 0.5); image height, width:",
             shape[:2], "landmarks:", points], summarize=50)
        with tf.control_dependencies([check]):
            return align_image(image, matrix, scale)

    aligned = tf.map_fn(align_one, (image_bytes, landmarks, matrices, scales),
                        fn_output_signature=tf.TensorSpec([CROP_SIZE, CROP_SIZE, 3],
                                                          tf.uint8))
    crop_points = tf.cast(apply_matrices(matrices, landmarks), tf.float32)
    return aligned, crop_points
