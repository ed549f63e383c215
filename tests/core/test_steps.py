"""core/steps.py: the replicated step scales each loss once by 1 / replicas, takes every
gradient before any update, watches only its optimisers' variables, slices per-worker draws
per replica, checks labels, and gives the global-batch mean on two replicas as on one.

The two-replica case runs in a subprocess (logical CPU devices must be configured before
TensorFlow starts); this file is its entry point: python -m tests.core.test_steps mirrored OUT.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _fake_task(strategy=None, jit=False, **optimizer_variables):
    """The parts of a core Task a ReplicatedStep reads: SGD(lr 1) optimisers over the given
    variables."""
    import keras
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    task = types.SimpleNamespace(
        strategy=strategy, config=types.SimpleNamespace(
            runtime=types.SimpleNamespace(jit_compile=jit)),
        worker=types.SimpleNamespace(local_replicas=strategy.num_replicas_in_sync),
        optimizers={}, optimizer_variables={})
    from tpgan_tf.core.steps import build_optimizers

    with strategy.scope():
        pairs = {name: (keras.optimizers.SGD(1.0, name=name), vs)
                 for name, vs in optimizer_variables.items()}
        task.optimizers, task.optimizer_variables = build_optimizers(pairs)
    return task


@pytest.mark.parametrize("jit", [False, True])
def test_two_optimizers_take_their_gradients_before_either_update(jit):
    import keras

    from tpgan_tf.core.steps import ReplicatedStep, StepOutput

    w = keras.Variable(2.0, name="w")
    task = _fake_task(jit=jit, a=[w], b=[w])

    def fn(x):
        loss = w * w * x  # dloss/dw = 2 w x = 4 at w = 2, x = 1
        return StepOutput(losses={"a": loss, "b": loss}, scalars={"loss": loss})

    scalars, _ = ReplicatedStep(task, fn, ("a", "b"))(np.float32(1.0))
    # Both gradients at w = 2: 2 - 4 - 4 = -6 (sequential updates would give 2 - 4 = -2,
    # then -2 - (-4) = 2).
    assert float(w.numpy()) == pytest.approx(-6.0)
    assert float(scalars["loss"]) == pytest.approx(4.0)


def test_only_the_steps_optimiser_variables_are_updated():
    import keras

    from tpgan_tf.core.steps import ReplicatedStep, StepOutput

    w, other = keras.Variable(1.0, name="w"), keras.Variable(3.0, name="other")
    task = _fake_task(a=[w])
    # The loss reads `other`, a variable of no optimiser of this step: w moves by
    # dloss/dw = other = 3, `other` stays.
    ReplicatedStep(task, lambda: StepOutput(losses={"a": w * other}), ("a",))()
    assert float(w.numpy()) == pytest.approx(1.0 - 3.0)
    assert float(other.numpy()) == 3.0


def test_a_step_without_the_named_loss_is_rejected():
    import keras

    from tpgan_tf.core.steps import ReplicatedStep, StepOutput

    w = keras.Variable(1.0, name="w")
    task = _fake_task(a=[w])
    with pytest.raises(ValueError, match="returned no loss for"):
        ReplicatedStep(task, lambda: StepOutput(losses={"b": w}), ("a",))()
    with pytest.raises(ValueError, match="unknown optimisers"):
        ReplicatedStep(task, lambda: StepOutput(), ("c",))


def test_label_check_stops_a_label_outside_the_head():
    import keras
    import tensorflow as tf

    from tpgan_tf.core.steps import LabelCheck, ReplicatedStep, StepOutput

    w = keras.Variable(1.0, name="w")
    task = _fake_task(a=[w])
    step = ReplicatedStep(task, lambda b: StepOutput(losses={"a": w * 1.0}), ("a",),
                          label_check=LabelCheck("label", 3))
    step({"label": tf.constant([0, 2])})
    for bad in ([0, 3], [-1, 0]):
        with pytest.raises(tf.errors.InvalidArgumentError, match="model.num_identities=3"):
            step({"label": tf.constant(bad)})


def test_nested_update_applies_the_inner_step_and_returns_its_scalars():
    import keras

    from tpgan_tf.core.steps import ReplicatedStep, StepOutput

    g, d = keras.Variable(1.0, name="g"), keras.Variable(1.0, name="d")
    task = _fake_task(g=[g], d=[d])
    inner = ReplicatedStep(task, lambda x: StepOutput(losses={"d": d * x},
                                                      scalars={"d_loss": d * x}), ("d",))

    def outer():
        fake = g * 2.0
        d_scalars, _ = inner.update_in_replica(fake)  # d -= 2 (gradient x = 2)
        loss = d * fake  # uses the updated d = -1: dloss/dg = 2 d = -2
        return StepOutput(losses={"g": loss}, scalars={"g_loss": loss, **d_scalars})

    scalars, _ = ReplicatedStep(task, outer, ("g",), jit=False)()
    assert float(d.numpy()) == pytest.approx(-1.0)
    assert float(g.numpy()) == pytest.approx(3.0)
    assert float(scalars["d_loss"]) == pytest.approx(2.0)
    assert float(scalars["g_loss"]) == pytest.approx(-2.0)


def test_prepare_runs_before_the_compiled_step_on_the_sliced_draws():
    """`prepare` maps (inputs, draws) to the step function's arguments outside XLA: here it
    doubles x with a tf.py_function, which XLA cannot compile."""
    import keras
    import tensorflow as tf

    from tpgan_tf.core.steps import ReplicatedStep, StepOutput

    w = keras.Variable(1.0, name="w")
    task = _fake_task(jit=True, a=[w])

    def prepare(x, d):
        doubled = tf.py_function(lambda v: v * 2.0, [x], tf.float32)
        return doubled, d

    seen = {}

    def fn(x, d):
        seen["shape"] = x.shape
        return StepOutput(losses={"a": w * x + d}, scalars={"x": x})

    step = ReplicatedStep(task, fn, ("a",), draws=lambda x: (tf.constant(5.0),),
                          prepare=prepare)
    scalars, _ = step(np.float32(1.5))
    assert float(scalars["x"]) == 3.0  # prepared
    assert float(w.numpy()) == pytest.approx(1.0 - 3.0)  # gradient of w * 3 + 5


def _mirrored(out_path: str) -> None:
    """Subprocess: the same step on 1 device (batch 4) and on 2 logical CPUs (2 + 2)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras

    from tpgan_tf.core import distribution
    from tpgan_tf.core.steps import ReplicatedStep, StepOutput

    x = np.arange(8, dtype=np.float32).reshape(4, 2) / 4.0
    results = {}
    for name in ("default", "mirrored"):
        strategy = distribution.make_strategy(name)
        with strategy.scope():
            w = keras.Variable(np.array([0.5, -1.0], np.float32), name="w")
        task = _fake_task(strategy, a=[w])

        def draws(batch):  # one draw per example of the per-worker batch
            return (tf.range(distribution.batch_size_of(batch), dtype=tf.float32),)

        def fn(batch, index):
            pred = tf.reduce_sum(batch["x"] * w, axis=1)
            loss = tf.reduce_mean(tf.square(pred - index))
            return StepOutput(losses={"a": loss}, scalars={"loss": loss,
                                                           "index": tf.reduce_mean(index)})

        step = ReplicatedStep(task, fn, ("a",), draws=draws)
        per_replica = 4 // strategy.num_replicas_in_sync
        dataset = tf.data.Dataset.from_tensor_slices({"x": x}).batch(per_replica)
        batches = iter(distribution.distributed_batches(strategy, lambda ctx: dataset))
        scalars, _ = step(next(batches))
        results[name] = {"loss": float(scalars["loss"]), "index": float(scalars["index"]),
                         "w": w.numpy().tolist(), "replicas": strategy.num_replicas_in_sync}
    with open(out_path, "w") as f:
        json.dump(results, f)


def test_two_replicas_give_the_global_batch_mean(tmp_path):
    out = tmp_path / "out.json"
    subprocess.run([sys.executable, "-m", "tests.core.test_steps", "mirrored", str(out)],
                   cwd=REPO, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    r = json.loads(out.read_text())
    assert r["mirrored"]["replicas"] == 2 and r["default"]["replicas"] == 1
    # Hand-computed: pred = x . w for the four rows, targets = the draws 0, 1, 2, 3.
    x = np.arange(8, dtype=np.float64).reshape(4, 2) / 4.0
    w = np.array([0.5, -1.0])
    err = x @ w - np.arange(4)
    loss = np.mean(err ** 2)
    new_w = w - 2 * (err[:, None] * x).mean(axis=0)
    for name in ("default", "mirrored"):
        assert r[name]["loss"] == pytest.approx(loss, rel=1e-6)
        assert r[name]["index"] == pytest.approx(1.5)  # replica means 0.5, 2.5 -> 1.5
        np.testing.assert_allclose(r[name]["w"], new_w, rtol=1e-6)


if __name__ == "__main__":
    if sys.argv[1] == "mirrored":
        _mirrored(sys.argv[2])
