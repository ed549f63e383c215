"""Optimisers shared by the models: FusedAdam (TF1's fused Adam update), TorchRMSprop (Torch's
RMSprop update) and mixed-precision loss scaling.

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


@keras.saving.register_keras_serializable(package="tpgan_tf")
class TorchRMSprop(keras.optimizers.RMSprop):
    """RMSprop in the form of Torch7 `optim.rmsprop` and PyTorch `torch.optim.RMSprop`
    (the FSRNet reimplementations, fsrnet spec 7):

        v <- rho v + (1 - rho) g^2;   var <- var - lr g / (sqrt(v) + epsilon)

    keras.optimizers.RMSprop divides by sqrt(v + epsilon) instead; with epsilon = 1e-8 that
    floors the denominator at 1e-4 rather than 1e-8, so early and rarely-updated weights move
    differently. The state (one zero-initialised `velocity` slot per variable), checkpoints
    and loss scaling are keras.optimizers.RMSprop's; momentum and centered are not supported.
    """

    def __init__(self, learning_rate=1e-3, rho=0.99, epsilon=1e-8, **kwargs):
        for name in ("momentum", "centered"):
            if kwargs.pop(name, None):
                raise ValueError(f"TorchRMSprop does not implement {name}; use "
                                 "keras.optimizers.RMSprop")
        super().__init__(learning_rate=learning_rate, rho=rho, epsilon=epsilon, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        lr = tf.cast(learning_rate, variable.dtype)
        gradient = tf.cast(gradient, variable.dtype)
        velocity = self._velocities[self._get_variable_index(variable)]
        rho = tf.cast(self.rho, variable.dtype)
        velocity.assign(rho * velocity + (1 - rho) * tf.square(gradient))
        variable.assign_sub(lr * gradient / (tf.sqrt(velocity) + tf.cast(self.epsilon,
                                                                         variable.dtype)))


def rmsprop(learning_rate, rho: float = 0.99, epsilon: float = 1e-8,
            name: str = "rmsprop") -> keras.optimizers.Optimizer:
    """A TorchRMSprop (Torch defaults rho 0.99, epsilon 1e-8) with loss scaling when needed.
    learning_rate: a float or a keras.optimizers.schedules.LearningRateSchedule."""
    return with_loss_scaling(TorchRMSprop(learning_rate=learning_rate, rho=rho, epsilon=epsilon,
                                          name=name))


def with_loss_scaling(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """`optimizer` wrapped in a dynamic LossScaleOptimizer under the mixed_float16 policy
    (float16 gradients underflow without it); unchanged otherwise. Create optimisers after
    distribution.set_precision."""
    if needs_loss_scaling():
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{optimizer.name}_loss_scale")
    return optimizer


@keras.saving.register_keras_serializable(package="tpgan_tf")
class HoldThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`initial` for the first `hold_steps` optimiser steps, then falling linearly to 0 at
    `total_steps` (0 after): lr(t) = initial * clip((total - t) / (total - hold), 0, 1)."""

    def __init__(self, initial: float, hold_steps: int, total_steps: int):
        if not 0 <= hold_steps < total_steps:
            raise ValueError(f"need 0 <= hold_steps < total_steps, got {hold_steps}, "
                             f"{total_steps}")
        self.initial, self.hold_steps, self.total_steps = initial, hold_steps, total_steps

    def __call__(self, step):
        left = (self.total_steps - tf.cast(step, tf.float32)) / (self.total_steps -
                                                                 self.hold_steps)
        return self.initial * tf.clip_by_value(left, 0.0, 1.0)

    def get_config(self):
        return {"initial": self.initial, "hold_steps": self.hold_steps,
                "total_steps": self.total_steps}


def decay_tail(initial: float, total_steps: int, decay_start: float):
    """The learning rate of a run of `total_steps` optimiser steps: `initial` throughout when
    decay_start >= 1, else HoldThenLinearDecay from the fraction `decay_start` of the run."""
    if decay_start >= 1:
        return initial
    return HoldThenLinearDecay(initial, int(decay_start * total_steps), total_steps)


def adam(learning_rate, beta1: float, beta2: float = 0.999, epsilon: float = 1e-8,
         name: str = "adam") -> keras.optimizers.Optimizer:
    """A FusedAdam (TF1 defaults beta2 0.999, epsilon 1e-8) with loss scaling when needed;
    learning_rate: a float or a LearningRateSchedule."""
    return with_loss_scaling(FusedAdam(learning_rate=learning_rate, beta_1=beta1, beta_2=beta2,
                                       epsilon=epsilon, name=name))


def scale_loss(optimizer, loss: tf.Tensor) -> tf.Tensor:
    """The loss to differentiate: scaled by a LossScaleOptimizer's current scale (its
    apply_gradients unscales the gradients again), unchanged for other optimisers."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.scale_loss(loss)
    return loss
