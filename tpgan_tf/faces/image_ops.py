"""Small image operations with the original TP-GAN code's exact semantics (tpgan spec 1.1, 4.4)."""
from __future__ import annotations

import keras
import tensorflow as tf


def legacy_resize(images: tf.Tensor, size: int) -> tf.Tensor:
    """TF1 `resize_bilinear` (align_corners=False, half_pixel_centers=False) to size x size.

    tpgan spec 1.1: used for the 64/32 pyramids (where a 2x/4x reduction is exact decimation,
    images[:, ::2, ::2]) and to upsample img32 -> 64 and img64 -> 128 in the decoder.
    images: [B, H, W, C] float. Returns [B, size, size, C] of the same dtype.
    """
    # The raw op is what tf.compat.v1.image.resize_bilinear calls, without its deprecation
    # warning. It runs in float32 whatever the input: under a mixed policy its gradient
    # (ResizeBilinearGrad) would otherwise be float32 for a bfloat16 input, and XLA refuses
    # to add it to the input's other bfloat16 gradients ("Seen floating point types of
    # different precisions in %AddN").
    out = tf.raw_ops.ResizeBilinear(images=tf.cast(images, tf.float32), size=[size, size],
                                    align_corners=False, half_pixel_centers=False)
    return tf.cast(out, images.dtype)


def mirror_concat(images: tf.Tensor) -> tf.Tensor:
    """[B, H, W, C] -> [B, H, W, 2C]: the image then its left-right flip (tpgan spec 1.1)."""
    return tf.concat([images, tf.reverse(images, axis=[2])], axis=-1)


def to_gray(images: tf.Tensor) -> tf.Tensor:
    """[B, H, W, 3] -> [B, H, W, 1]: mean of R, G, B (tpgan spec 4.2, the Light-CNN input)."""
    return tf.reduce_mean(images, axis=-1, keepdims=True)


@keras.saving.register_keras_serializable(package="tpgan_tf")
class LegacyResize(keras.layers.Layer):
    """Layer form of `legacy_resize`, so the functional graphs stay serialisable."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.built = True  # a container: see "Building" in tpgan_tf/models/tpgan/blocks.py

    def call(self, images):
        return legacy_resize(images, self.size)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "size": self.size}
