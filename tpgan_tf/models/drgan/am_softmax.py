"""AM-softmax identity head (drgan spec 3.4; Wang et al. 2018), as the official D uses it.

    cos_j = <x / |x|, w_j / |w_j|>            x: one sample's feature (a ROW), w_j: column j
    logit_j = s * (cos_j - m * [j == y])      margin m on the target class only, scale s
    L = -log softmax(logit)_y                 (losses.py)

Differences from the released code, on purpose: the code normalises x along axis 0 (across
the batch, drgan spec 4.6 item 3), so its "cosines" are not cosines and s = 30 multiplies
unbounded values; here every sample is normalised on its own (axis 1). The column norm of W
keeps the code's +1e-10 inside the square root. With m = 0 the logits are s * cos (a cosine
softmax). The official values are m 0.35, s 30.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.layers import normal

W_NORM_EPSILON = 1e-10  # inside the sqrt of the column norm (`AMSoftmax_logit_v2`)


@keras.saving.register_keras_serializable(package="tpgan_tf.drgan")
class AMSoftmaxHead(keras.layers.Layer):
    """Bias-free cosine layer: features [B, F] -> cosines [B, num_classes] in [-1, 1].

    Computes in float32 whatever the global policy (its own dtype policy defaults to
    "float32"): normalisation and s = 30 in bfloat16 would cost ~0.1 in every logit.
    Kernel [F, num_classes], RandomNormal(0.02).
    """

    def __init__(self, num_classes: int, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if num_classes < 1:
            raise ValueError(f"AMSoftmaxHead needs num_classes >= 1, got {num_classes}")
        self.num_classes = num_classes

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), self.num_classes),
                                      initializer=normal(0.02), trainable=True)
        self.built = True

    def call(self, features):
        x = tf.cast(features, tf.float32)
        x = tf.math.l2_normalize(x, axis=1)  # per sample (row), NOT axis 0 (spec 4.6 item 3)
        w = tf.cast(self.kernel, tf.float32)
        w = w / tf.sqrt(tf.reduce_sum(tf.square(w), axis=0, keepdims=True) + W_NORM_EPSILON)
        return tf.matmul(x, w)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def am_softmax_logits(cosines, labels, margin: float = 0.35, scale: float = 30.0):
    """Margin logits: scale * (cosines - margin * one_hot(labels)), float32.

    cosines: [B, K] (AMSoftmaxHead output); labels: int [B] in [0, K). Returns [B, K].
    """
    cos = tf.cast(cosines, tf.float32)
    onehot = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(cos)[-1], dtype=tf.float32)
    return scale * (cos - margin * onehot)
