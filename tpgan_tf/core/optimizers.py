"""Optimisers shared by the models: FusedAdam (TF1's fused Adam update) and mixed-precision
loss scaling.

FusedAdam. TP-GAN (tpgan spec 5) and DR-GAN (drgan spec 4.1) train with TF1's
tf.train.AdamOptimizer, which applies `ResourceApplyAdam` per variable:

    m <- m + (g - m)(1 - beta1);  v <- v + (g^2 - v)(1 - beta2)
    var <- var - lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)

keras.optimizers.Adam computes exactly this formula, but from ~15 separate graph ops per
variable. The generator has ~1,100 variables between its two optimisers, so in a `tf.function`
train step those ops made up most of the graph: tracing the G step took 67 s instead of 34 s
(TP-GAN demo preset at width 1/16, 2 CPU cores; README "Training speed"). This subclass keeps
everything of keras.optimizers.Adam (slots, iterations, checkpoints, LossScaleOptimizer,
tf.distribute updates) and replaces only the per-variable update by the single fused op.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.distribution import needs_loss_scaling


@keras.saving.register_keras_serializable(package="tpgan_tf")
class FusedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose update_step is one `ResourceApplyAdam` op (TF backend only).

    Same constructor and state as keras.optimizers.Adam; `amsgrad` is not supported.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError("FusedAdam does not implement amsgrad; use keras.optimizers.Adam")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        # The step's scalars once per apply, not once per variable (they would add ~6 graph
        # ops per variable); they travel to update_step in place of the learning rate.
        step = tf.cast(self.iterations + 1, tf.float32)
        scalars = {
            "lr": tf.cast(learning_rate, tf.float32),
            "beta1_power": tf.pow(tf.cast(self.beta_1, tf.float32), step),
            "beta2_power": tf.pow(tf.cast(self.beta_2, tf.float32), step),
            "beta1": tf.constant(self.beta_1, tf.float32),
            "beta2": tf.constant(self.beta_2, tf.float32),
            "epsilon": tf.constant(self.epsilon, tf.float32),
        }
        super()._backend_update_step(grads, trainable_variables, scalars)

    def update_step(self, gradient, variable, learning_rate):
        scalars = learning_rate  # the dict of _backend_update_step
        if variable.dtype != tf.float32:
            scalars = {k: tf.cast(v, variable.dtype) for k, v in scalars.items()}
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle,
            v=self._velocities[index].handle, grad=tf.cast(gradient, variable.dtype),
            use_locking=False, use_nesterov=False, **scalars)


def with_loss_scaling(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """`optimizer` wrapped in a dynamic LossScaleOptimizer under the mixed_float16 policy
    (float16 gradients underflow without it); unchanged otherwise. Create optimisers after
    distribution.set_precision."""
    if needs_loss_scaling():
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{optimizer.name}_loss_scale")
    return optimizer


def adam(learning_rate: float, beta1: float, beta2: float = 0.999, epsilon: float = 1e-8,
         name: str = "adam") -> keras.optimizers.Optimizer:
    """A FusedAdam (TF1 defaults beta2 0.999, epsilon 1e-8) with loss scaling when needed."""
    return with_loss_scaling(FusedAdam(learning_rate=learning_rate, beta_1=beta1, beta_2=beta2,
                                       epsilon=epsilon, name=name))


def scale_loss(optimizer, loss: tf.Tensor) -> tf.Tensor:
    """The loss to differentiate: scaled by a LossScaleOptimizer's current scale (its
    apply_gradients unscales the gradients again), unchanged for other optimisers."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.scale_loss(loss)
    return loss
