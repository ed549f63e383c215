"""FusedAdam (tpgan_tf/core/optimizers.py) = keras.optimizers.Adam (= TF1 AdamOptimizer, tpgan spec 5),
one fused op per variable; the loss-scaling helpers."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.optimizers import FusedAdam


def _run(opt_cls, steps=5, in_function=False):
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=s).astype(np.float32), name=f"w{i}")
                 for i, s in enumerate([(3, 4), (4,), (2, 2, 3, 5)])]
    grads = [[tf.constant(rng.normal(size=v.shape).astype(np.float32)) for v in variables]
             for _ in range(steps)]
    opt = opt_cls(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-8)

    def apply(g):
        opt.apply_gradients(zip(g, variables))

    apply = tf.function(apply) if in_function else apply
    for g in grads:
        apply(g)
    slots = [s.numpy() for s in opt._momentums + opt._velocities]
    return [v.numpy() for v in variables], slots, int(opt.iterations.numpy())


@pytest.mark.parametrize("in_function", [False, True])
def test_fused_adam_equals_keras_adam(in_function):
    fused, fused_slots, fused_iters = _run(FusedAdam, in_function=in_function)
    ref, ref_slots, ref_iters = _run(keras.optimizers.Adam, in_function=in_function)
    assert fused_iters == ref_iters == 5
    for a, b in zip(fused + fused_slots, ref + ref_slots):
        # Same formula, different float32 rounding order: a few ulps after 5 steps.
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fused_adam_first_step_by_hand():
    # Step 1: m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(0.001) / 0.1, so
    # var -= lr_t * 0.1 g / (sqrt(0.001) |g| + eps) = lr * sign(g) (up to eps).
    v = keras.Variable(np.array([1.0, -2.0, 0.5], np.float32))
    opt = FusedAdam(learning_rate=0.1, epsilon=1e-8)
    opt.apply_gradients([(tf.constant([3.0, -0.5, 0.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.9, -1.9, 0.5], atol=1e-5)
    np.testing.assert_allclose(opt._momentums[0].numpy(), [0.3, -0.05, 0.0], rtol=1e-6)


def test_fused_adam_refuses_amsgrad():
    with pytest.raises(ValueError, match="amsgrad"):
        FusedAdam(amsgrad=True)


def test_adam_factory_and_loss_scaling_by_policy():
    from tpgan_tf.core import distribution, optimizers

    opt = optimizers.adam(1e-3, 0.5, name="g_optim")
    assert isinstance(opt, FusedAdam) and opt.name == "g_optim"
    assert (opt.beta_1, opt.beta_2, opt.epsilon) == (0.5, 0.999, 1e-8)  # TF1 defaults
    assert float(optimizers.scale_loss(opt, tf.constant(2.0))) == 2.0
    try:
        distribution.set_precision("mixed_float16")  # float16 gradients need loss scaling
        scaled = optimizers.adam(1e-3, 0.5, name="d_optim")
        assert isinstance(scaled, keras.optimizers.LossScaleOptimizer)
        assert isinstance(scaled.inner_optimizer, FusedAdam)
        assert float(optimizers.scale_loss(scaled, tf.constant(2.0))) == 2.0 * scaled.initial_scale
        distribution.set_precision("mixed_bfloat16")  # bfloat16 has float32's range: none
        assert isinstance(optimizers.adam(1e-3, 0.5), FusedAdam)
    finally:
        distribution.set_precision("float32")
    with pytest.raises(ValueError, match="unknown mixed precision policy 'float64'"):
        distribution.set_precision("float64")


def test_torch_rmsprop_two_steps_by_hand():
    # Torch / PyTorch RMSprop, rho 0.99, eps outside the sqrt (fsrnet spec 7):
    # step 1: v = 0.01 g^2, var -= lr g / (0.1 |g| + eps) = 10 lr sign(g) (up to eps)
    # step 2 (same g): v = (0.99 * 0.01 + 0.01) g^2 = 0.0199 g^2, var -= lr / sqrt(0.0199)
    from tpgan_tf.core.optimizers import TorchRMSprop

    v = keras.Variable(np.array([1.0, -2.0, 0.5], np.float32))
    g = tf.constant([3.0, -0.5, 0.0])
    opt = TorchRMSprop(learning_rate=0.01, rho=0.99, epsilon=1e-8)
    opt.apply_gradients([(g, v)])
    np.testing.assert_allclose(v.numpy(), [0.9, -1.9, 0.5], rtol=1e-6)
    np.testing.assert_allclose(opt._velocities[0].numpy(), [0.09, 0.0025, 0.0], rtol=1e-6)
    opt.apply_gradients([(g, v)])
    step2 = 0.01 / np.sqrt(0.0199)
    np.testing.assert_allclose(v.numpy(), [0.9 - step2, -1.9 + step2, 0.5], rtol=1e-6)
    # A tiny gradient: eps outside the sqrt moves it by ~10 lr; Keras' sqrt(v + eps) barely.
    w, k = keras.Variable([0.0]), keras.Variable([0.0])
    tiny = tf.constant([1e-6])
    TorchRMSprop(learning_rate=0.01).apply_gradients([(tiny, w)])
    keras.optimizers.RMSprop(learning_rate=0.01, rho=0.99, epsilon=1e-8).apply_gradients(
        [(tiny, k)])
    np.testing.assert_allclose(w.numpy(), [-0.01 * 1e-6 / (1e-7 + 1e-8)], rtol=1e-5)
    np.testing.assert_allclose(k.numpy(), [-0.01 * 1e-6 / np.sqrt(1e-14 + 1e-8)], rtol=1e-4)


def test_rmsprop_factory_and_refusals():
    from tpgan_tf.core import optimizers

    opt = optimizers.rmsprop(2.5e-4, name="g_optim")
    assert isinstance(opt, optimizers.TorchRMSprop) and opt.name == "g_optim"
    assert (opt.rho, opt.epsilon) == (0.99, 1e-8)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.TorchRMSprop(momentum=0.9)


def test_hold_then_linear_decay_by_hand():
    from tpgan_tf.core.optimizers import HoldThenLinearDecay, decay_tail

    lr = HoldThenLinearDecay(1e-3, hold_steps=100, total_steps=200)
    # constant to step 100, then 1e-3 * (200 - t) / 100, 0 from step 200 on
    for step, want in ((0, 1e-3), (100, 1e-3), (150, 5e-4), (190, 1e-4), (200, 0.0), (250, 0.0)):
        assert float(lr(step)) == pytest.approx(want, abs=1e-10), step
    assert decay_tail(1e-3, 200, 1.0) == 1e-3  # no decay: the plain float
    tail = decay_tail(1e-3, 200, 0.25)
    assert (tail.hold_steps, tail.total_steps) == (50, 200)
    with pytest.raises(ValueError, match="hold_steps < total_steps"):
        HoldThenLinearDecay(1e-3, 200, 200)
