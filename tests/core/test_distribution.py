"""tf.distribute (core/distribution.py, core/runner.py): `mirrored` on two logical CPUs, each
replica reading its own half of the batch, equals one device; `multi_worker` on two local
processes trains and the chief writes the checkpoint. TP-GAN's tiny preset is the workload.

Both run in subprocesses (logical devices and the multi-worker cluster are process-wide and
must be set up before TensorFlow starts). They build and trace the tiny model several times
over on 2 shared CPU cores, so they are marked slow (`make test-all`).

This file is also the subprocess entry point:
    python -m tests.core.test_distribution mirrored OUT.json LIGHTCNN.h5
    python -m tests.core.test_distribution worker OUT.json LIGHTCNN.h5 MODEL_DIR  (TF_CONFIG set)
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

# Tolerances of mirrored (2 replicas, batch 1 each) vs one device (batch 2). The arithmetic
# is the same except for the order of float32 sums (gradient all-reduce) and the synchronised
# BN moments (Keras computes E[x^2] - E[x]^2 from all-reduced sums, one device uses two-pass
# moments). Measured on the tiny preset: losses at identical weights agree to ~6e-6; the
# all-reduced gradients at identical weights to 2.7e-5 (D), 6.7e-4 (G) and 1.7e-6 (local nets,
# rot_loss) in relative L2 on an AVX2 CPU (every replica slicing the whole batch); with each
# replica reading its own half, on an AVX-512/AMX Xeon: 2.9e-6 (losses), 2.8e-5 (D), 5.4e-4
# (G), 9.4e-5 (local nets).
# Weights: Adam's first step is lr * g / (|g| + 3.2e-7) (epsilon 1e-8 / sqrt(1 - 0.999)), i.e.
# about lr * sign(g) once |g| >> 3.2e-7. Where |g| is near zero (4% of G's elements here, and
# every conv bias that feeds a BN, whose gradient is zero in exact arithmetic) float rounding
# decides the sign and the step moves by up to 2 lr either way: such elements cannot agree. So
# the weights after one iteration are compared on the elements whose gradient at the start is
# clearly resolved, |g| >= GRAD_RESOLVED (30x that epsilon) in both runs. D takes one Adam
# step at identical weights: its resolved elements must agree closely. G takes two (tpgan spec 5),
# the second at weights that already differ by up to 2 lr on its unresolved elements, so its
# second gradient differs more. Measured (relative L2 over resolved elements, 96% of all):
# D 5.3e-4, G 0.044 (G over all its elements: 0.078); on the AVX-512 Xeon D 6.1e-4, G 0.057.
LOSS_RTOL_SAME_WEIGHTS = 1e-5
LOSS_RTOL_AFTER_UPDATE = 1e-3
GRAD_RTOL = {"d": 1e-4, "g": 5e-3, "rot": 1e-4}
GRAD_RESOLVED = 1e-5
UPDATE_RTOL = {"discriminator": 1e-2, "generator": 0.1}


def _tiny_config(dropout_off: bool):
    from tpgan_tf.core.config import apply_overrides, get_config

    overrides = ["runtime.sync_batch_norm=true"]
    if dropout_off:
        # The identity head's dropout masks come from per-replica random streams, which
        # cannot match one device's mask; everything else is drawn identically.
        overrides.append("model.identity_dropout=0")
    return apply_overrides(get_config("tiny", "tpgan"), overrides)


def _biases_before_batch_norm(model) -> set[str]:
    """Paths of conv biases that feed a batch norm. BN subtracts the batch mean, so their
    gradient is exactly zero in exact arithmetic and pure rounding noise in float32, which
    Adam's first steps (about lr * sign(g)) turn into +-lr moves: not comparable."""
    from tpgan_tf.models.tpgan.blocks import ConvBlock, ResBlock

    out = set()
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, ConvBlock) and layer.bn is not None:
            out.add(layer.conv.bias.path)
        elif isinstance(layer, ResBlock):
            out.update({layer.conv1.bias.path, layer.conv2.bias.path})
    return out


def _per_replica(task, batch):
    """The global batch as each replica would read it: replica r gets the contiguous slice
    [r*b, (r+1)*b), the slice of the per-worker z it takes (core/distribution.replica_slice).
    A plain batch for one replica."""
    n = task.num_replicas
    if n == 1:
        return batch
    b = next(iter(batch.values())).shape[0] // n
    return task.strategy.experimental_distribute_values_from_function(
        lambda ctx: {k: v[ctx.replica_id_in_sync_group * b:(ctx.replica_id_in_sync_group + 1) * b]
                     for k, v in batch.items()})


def _global_gradients(task, batch, z) -> dict:
    """{"d" | "g" | "rot": (variable paths, gradients summed over the replicas)} of the D step
    and the G step's two losses for one global batch and z, without applying them."""
    import tensorflow as tf

    from tpgan_tf.core import distribution

    @tf.function
    def run(batch, z):
        @tf.autograph.experimental.do_not_convert  # as TpganTask's replica functions
        def replica_fn(batch, z):
            z = task.replica_z(z)
            d_grads, _ = task._d_compute(batch, z)
            g_grads, rot_grads, _, _ = task._g_compute(batch, z)
            return d_grads, g_grads, rot_grads
        return distribution.reduce_sum(task.strategy, task.strategy.run(replica_fn,
                                                                          args=(batch, z)))

    grads = run(_per_replica(task, batch), z)
    variables = (task.d_vars, task.g_vars, task.local_vars)
    return {group: ([v.path for v in vs], [g.numpy() for g in gs])
            for group, vs, gs in zip(("d", "g", "rot"), variables, grads)}


def _child_mirrored(out_path: str, lightcnn_path: str) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    import numpy as np

    from tests.batch_contract import random_examples
    from tpgan_tf.core import distribution
    from tpgan_tf.models.tpgan.task import TpganTask

    cfg = _tiny_config(dropout_off=True)
    distribution.enable_determinism(cfg.train.seed)
    strategy = distribution.make_strategy("mirrored")
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    single = TpganTask(cfg, lightcnn_weights=lightcnn_path).build()
    mirrored = TpganTask(cfg, strategy=strategy, lightcnn_weights=lightcnn_path).build()
    # Same starting point: copy every G and D variable.
    for src, dst in ((single.generator, mirrored.generator),
                     (single.discriminator, mirrored.discriminator)):
        by_path = {v.path: v for v in dst.variables}
        for v in src.variables:
            by_path[v.path].assign(v.numpy())
    batch = {k: tf.constant(v) for k, v in random_examples(2, seed=3).items()}
    # All-reduced gradients at identical weights, for the same z.
    z = tf.random.stateless_normal([2, cfg.model.z_dim], seed=[1, 2], stddev=0.02)
    g_single, g_mirrored = _global_gradients(single, batch, z), _global_gradients(
        mirrored, batch, z)
    w0 = single.trainable_snapshot()
    v1, _ = single.iterate(batch)
    v2, _ = mirrored.iterate(_per_replica(mirrored, batch))
    w1, w2 = single.trainable_snapshot(), mirrored.trainable_snapshot()
    inert = _biases_before_batch_norm(single.generator) | _biases_before_batch_norm(
        single.discriminator)
    grad_rel = {}
    resolved = {}  # path -> mask of elements with a clearly resolved gradient in both runs
    for group in ("d", "g", "rot"):
        a_all, b_all = [], []
        for path, a, b in zip(g_single[group][0], g_single[group][1], g_mirrored[group][1]):
            if path in inert:
                continue
            a_all.append(a.ravel())
            b_all.append(b.ravel())
            mask = (np.abs(a) >= GRAD_RESOLVED) & (np.abs(b) >= GRAD_RESOLVED)
            resolved[path] = resolved.get(path, True) & mask
        a_all, b_all = np.concatenate(a_all), np.concatenate(b_all)
        grad_rel[group] = float(np.linalg.norm(a_all - b_all) / np.linalg.norm(a_all))
    loss_rel = {k: abs(float(v1[k]) - float(v2[k])) / max(abs(float(v1[k])), 1e-6) for k in v1}
    update_rel, compared = {}, 0
    for model in ("discriminator", "generator"):
        paths = [p for p in resolved if p.startswith(model + "/")]
        d1 = np.concatenate([(w1[p] - w0[p])[resolved[p]] for p in paths]).astype(np.float64)
        d2 = np.concatenate([(w2[p] - w0[p])[resolved[p]] for p in paths]).astype(np.float64)
        update_rel[model] = float(np.linalg.norm(d1 - d2) / np.linalg.norm(d1))
        compared += d1.size
    total = sum(m.size for m in resolved.values())
    result = {"replicas": strategy.num_replicas_in_sync, "loss_rel": loss_rel,
              # D step and first G step run at identical weights; the second G step after
              # one update, which Adam can make differ (see the tolerances above).
              "max_loss_rel_same_weights": max(
                  v for k, v in loss_rel.items() if k.startswith(("d/", "g1/"))),
              "max_loss_rel": max(loss_rel.values()),
              "grad_rel": grad_rel,
              "update_rel_diff": update_rel,
              "compared_elements": compared, "resolved_fraction": compared / total,
              "inert_biases": len(inert),
              "single": {k: float(v) for k, v in v1.items()},
              "mirrored": {k: float(v) for k, v in v2.items()}}
    with open(out_path, "w") as f:
        json.dump(result, f)


def _child_worker(out_path: str, lightcnn_path: str, model_dir: str) -> None:
    from tests.batch_contract import random_dataset
    from tpgan_tf.core.config import apply_overrides
    from tpgan_tf.core.runner import train

    cfg = apply_overrides(_tiny_config(dropout_off=False), [
        "train.checkpoint_every=2", "runtime.strategy=multi_worker"])
    result = train(cfg, None, model_dir, resources={"lightcnn_weights": lightcnn_path},
                   num_iterations=2, log=lambda s: None,
                   dataset_fn=lambda ctx: random_dataset(
                       8, ctx.get_per_replica_batch_size(cfg.train.batch_size),
                       seed=ctx.input_pipeline_id))
    with open(out_path, "w") as f:
        json.dump({"end_iteration": result.end_iteration, "last": result.last_values,
                   "batch": cfg.train.batch_size}, f)


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(
                    os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def lightcnn_path(tmp_path_factory):
    from tpgan_tf.core.config import get_config
    from tpgan_tf.identity.lightcnn import build_lightcnn
    from tpgan_tf.identity.weights import save_h5_weights

    path = str(tmp_path_factory.mktemp("lcnn") / "lightcnn_tiny.h5")
    save_h5_weights(build_lightcnn(get_config("tiny", "tpgan").model.lightcnn_width), path)
    return path


@pytest.mark.slow
def test_mirrored_two_cpus_equals_one_device(tmp_path, lightcnn_path):
    out = tmp_path / "mirrored.json"
    proc = subprocess.run([sys.executable, "-m", "tests.core.test_distribution", "mirrored",
                           str(out), lightcnn_path], env=_env(), capture_output=True,
                          text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    print(json.dumps({k: r[k] for k in ("max_loss_rel_same_weights", "max_loss_rel", "grad_rel",
                                        "update_rel_diff", "resolved_fraction")}))
    assert r["replicas"] == 2
    assert r["max_loss_rel_same_weights"] < LOSS_RTOL_SAME_WEIGHTS, r["loss_rel"]
    assert r["max_loss_rel"] < LOSS_RTOL_AFTER_UPDATE, r["loss_rel"]
    for group, rtol in GRAD_RTOL.items():
        assert r["grad_rel"][group] < rtol, r["grad_rel"]
    for model, rtol in UPDATE_RTOL.items():
        assert r["update_rel_diff"][model] < rtol, r
    assert r["compared_elements"] > 100_000 and r["resolved_fraction"] > 0.8, r
    # The losses are global-batch means: the same numbers, not halves.
    assert r["mirrored"]["g1/l1_128"] > 4000


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_two_local_processes_chief_writes_checkpoint(tmp_path, lightcnn_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    model_dir = tmp_path / "run"
    procs, outs = [], []
    for index in range(2):
        env = _env()
        env["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                       "task": {"type": "worker", "index": index}})
        out = tmp_path / f"worker{index}.json"
        outs.append(out)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.core.test_distribution", "worker", str(out),
             lightcnn_path, str(model_dir)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    errors = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=3600)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        errors.append(err)
    assert [p.returncode for p in procs] == [0, 0], [e[-3000:] for e in errors]
    results = [json.loads(o.read_text()) for o in outs]
    assert [r["end_iteration"] for r in results] == [2, 2]
    # Losses are all-reduced over the global batch: both workers log the same numbers.
    assert results[0]["last"] == results[1]["last"]
    # The chief (worker 0) wrote the checkpoint and the config; worker 1 left nothing behind.
    assert (model_dir / "ckpt-2.index").exists()
    assert (model_dir / "checkpoint").exists()
    assert (model_dir / "config.json").exists()
    assert not (model_dir / ".worker_tmp_1").exists()


if __name__ == "__main__":
    if sys.argv[1] == "mirrored":
        _child_mirrored(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "worker":
        _child_worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")


def test_enable_determinism_says_what_identical_runs_across_processes_need(monkeypatch, capsys):
    """Without one op at a time (DETERMINISTIC_ENV) a note names the setting; with it, silence."""
    from tpgan_tf.core import distribution

    for name in distribution.DETERMINISTIC_ENV:
        monkeypatch.delenv(name, raising=False)
    distribution.enable_determinism(0)
    assert "TF_NUM_INTEROP_THREADS=1" in capsys.readouterr().err
    for name, value in distribution.DETERMINISTIC_ENV.items():
        monkeypatch.setenv(name, value)
    distribution.enable_determinism(0)
    assert capsys.readouterr().err == ""
