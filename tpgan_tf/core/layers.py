"""Layer pieces shared by every model: the TF1-style initialisers and batch norm.

The original codes (TP-GAN, DR-GAN) and the FSRNet reimplementations initialise with
N(0, 0.02)-style weights and use TF1 / Torch batch-norm constants (decay 0.9, epsilon 1e-5),
not Keras' defaults (0.99, 1e-3).
"""
from __future__ import annotations

import keras

BN_MODES = ("batch_stats", "inference")
BN_MOMENTUM = 0.9  # TF1 tf.contrib.layers.batch_norm decay / Torch momentum 0.1
BN_EPSILON = 1e-5


# A fresh instance per layer: an unseeded Keras 3 initialiser fixes its seed when it is
# created, so one shared instance would give every same-shaped kernel the same values.
def truncated_normal(stddev: float = 0.02):
    return keras.initializers.TruncatedNormal(stddev=stddev)


def normal(stddev: float = 0.02):
    return keras.initializers.RandomNormal(stddev=stddev)


@keras.saving.register_keras_serializable(package="tpgan_tf")
class BatchNorm(keras.layers.BatchNormalization):
    """Batch norm with a mode switch.

    bn_mode="batch_stats": every call normalises with the statistics of the current batch,
    also at test time and in exported graphs (TP-GAN's `is_training=True` always, tpgan spec
    2.1); the moving averages are updated on every call of a trainable layer but never used.
    bn_mode="inference": ordinary Keras behaviour (batch statistics when training=True,
    moving averages otherwise).

    Keras 3 uses batch statistics only when a layer is called with training=True AND is
    trainable, so a frozen (trainable=False) layer would silently switch "batch_stats" to
    moving averages. Here a frozen batch_stats layer still normalises with the batch
    statistics; it only leaves its moving averages alone (a frozen layer changes no state).
    """

    def __init__(self, bn_mode: str = "batch_stats", momentum: float = BN_MOMENTUM,
                 epsilon: float = BN_EPSILON, **kwargs):
        super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)
        if bn_mode not in BN_MODES:
            raise ValueError(f"bn_mode must be one of {BN_MODES}, got {bn_mode!r}")
        self.bn_mode = bn_mode

    def call(self, inputs, training=None, mask=None):
        if self.bn_mode != "batch_stats":
            return super().call(inputs, training=training, mask=mask)
        if self.trainable:
            return super().call(inputs, training=True, mask=mask)
        # Frozen: the batch moments without the moving-average update of super().call.
        x = keras.ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        mean, variance = self._moments(x, mask)
        out = keras.ops.batch_normalization(
            x, mean, variance, axis=self.axis,
            offset=keras.ops.cast(self.beta, x.dtype) if self.center else None,
            scale=keras.ops.cast(self.gamma, x.dtype) if self.scale else None,
            epsilon=self.epsilon)
        return keras.ops.cast(out, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "bn_mode": self.bn_mode}


def batch_norm(norm: dict | None = None, name: str | None = None) -> BatchNorm:
    """A BatchNorm from a `norm` dict: bn_mode, momentum, epsilon, synchronized."""
    norm = norm or {}
    return BatchNorm(bn_mode=norm.get("bn_mode", "batch_stats"),
                     momentum=norm.get("momentum", BN_MOMENTUM),
                     epsilon=norm.get("epsilon", BN_EPSILON),
                     synchronized=norm.get("synchronized", False), name=name)
