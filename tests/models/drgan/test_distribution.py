"""DR-GAN under tf.distribute: `mirrored` on two logical CPUs (each replica reading its half
of the batch, targets / z drawn per worker and sliced per replica, synchronised BN) computes
what one device computes. Runs in a subprocess (logical devices are process-wide) and builds
the tiny model twice: marked slow.

This file is also the subprocess entry point:
    python -m tests.models.drgan.test_distribution OUT.json
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# D step at identical weights: only the order of float32 sums (all-reduce) and the
# synchronised BN moments differ. The G step runs after one D update, which Adam makes
# differ by up to 2 lr on elements whose gradient is ~0 (see tests/core/test_distribution.py).
LOSS_RTOL_SAME_WEIGHTS = 1e-5
LOSS_RTOL_AFTER_UPDATE = 1e-3


def _child(out_path: str) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    from tpgan_tf.core import distribution
    from tpgan_tf.core.config import apply_overrides, get_config
    from tpgan_tf.models.drgan.task import DrganTask

    cfg = apply_overrides(get_config("tiny", "drgan"), [
        "runtime.sync_batch_norm=true", "train.schedule=alternate"])
    distribution.enable_determinism(cfg.train.seed)
    strategy = distribution.make_strategy("mirrored")
    single = DrganTask(cfg).build()
    mirrored = DrganTask(cfg, strategy=strategy).build()
    for name, net in single.networks.items():
        by_path = {v.path: v for v in mirrored.networks[name].variables}
        for v in net.variables:
            by_path[v.path].assign(v.numpy())
    batch = single.random_batch(2, seed=3)
    b = 1
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: {k: v[ctx.replica_id_in_sync_group * b:(ctx.replica_id_in_sync_group + 1)
                          * b] for k, v in batch.items()})
    v1, _ = single.iterate(batch, observe=True)  # tiny logs (observes) every iteration
    v2, _ = mirrored.iterate(per_replica, observe=True)
    rel = {k: abs(float(v1[k]) - float(v2[k])) / max(abs(float(v1[k])), 1e-6) for k in v1}
    with open(out_path, "w") as f:
        json.dump({"replicas": strategy.num_replicas_in_sync, "rel": rel,
                   "single": {k: float(v) for k, v in v1.items()},
                   "mirrored": {k: float(v) for k, v in v2.items()},
                   "rng_equal": bool((single.rng.state.numpy()
                                      == mirrored.rng.state.numpy()).all())}, f)


@pytest.mark.slow
def test_mirrored_two_cpus_equals_one_device(tmp_path):
    out = tmp_path / "mirrored.json"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=root)
    proc = subprocess.run([sys.executable, "-m", "tests.models.drgan.test_distribution",
                           str(out)], env=env, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["replicas"] == 2 and r["rng_equal"]
    same = {k: v for k, v in r["rel"].items() if k.startswith("d/") and "acc" not in k}
    assert same and max(same.values()) < LOSS_RTOL_SAME_WEIGHTS, r["rel"]
    after = {k: v for k, v in r["rel"].items() if k in ("g/loss", "g/identity", "g/pose")}
    assert max(after.values()) < LOSS_RTOL_AFTER_UPDATE, r["rel"]
    # Global-batch means, not per-replica halves.
    assert r["mirrored"]["d/pose"] == pytest.approx(r["single"]["d/pose"], rel=1e-5)


if __name__ == "__main__":
    _child(sys.argv[1])
