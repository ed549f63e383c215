"""Trains a registered model through the shared loop (tpgan_tf/core/runner.py).

TP-GAN on one GPU / CPU (Multi-PIE, the faithful `paper` preset):
    python -m experiments.train --model=tpgan --config=paper --data_dir=/data/multipie_tfrecords \\
        --model_dir=runs/paper --weights=lightcnn=lightcnn29.h5
All local GPUs (batch norm and losses over the global batch):
    python -m experiments.train ... --strategy=mirrored
Several hosts (run on every host with its own TF_CONFIG):
    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}' \\
    python -m experiments.train ... --strategy=multi_worker
DR-GAN / FSRNet: --model=drgan / --model=fsrnet with their presets (their README.md).

Reads `<data_dir>/train-*.tfrecord`; writes checkpoints (`ckpt-<iteration>`), `config.json`
(every setting, weight files included) and TensorBoard event files (`train/`) to --model_dir
and resumes from the latest complete checkpoint there.
"""
from __future__ import annotations

import json

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    from tpgan_tf.core import config

    common.define_model_flags()
    flags.adopt_module_key_flags(common)  # --model, --config, ... listed by --help too
    flags.DEFINE_string("data_dir", None, "Directory holding the train-*.tfrecord shards.")
    flags.DEFINE_string("model_dir", None, "Run directory: checkpoints, config.json, summaries.")
    flags.DEFINE_enum("strategy", None, list(config.STRATEGIES),
                      "tf.distribute strategy (runtime.strategy); multi_worker reads TF_CONFIG.")
    flags.DEFINE_enum("mixed_precision", None, list(config.PRECISIONS),
                      "Keras dtype policy (runtime.mixed_precision); float32 is faithful.")
    flags.DEFINE_bool("jit_compile", None, "Compile every step with XLA (runtime.jit_compile).")
    flags.DEFINE_bool("deterministic", None, "Deterministic ops, seeds and data order: "
                      "identical runs and exact resume (runtime.deterministic); across "
                      "processes run with TF_NUM_INTEROP_THREADS=1 too.")
    flags.DEFINE_integer("num_iterations", None, "Stop at this iteration (default: the config's "
                         "train.num_iterations, which is also where a learning-rate decay ends: "
                         "to train longer with the decay, --override=train.num_iterations=N).")


def training_config(model: str, preset: str | None, overrides):
    """The run's config: the model's preset (default paper) plus the overrides."""
    from tpgan_tf.core.config import apply_overrides, get_config

    if not model:
        raise ValueError("--model is required (tpgan, drgan, fsrnet, ...)")
    return apply_overrides(get_config(preset or "paper", model), overrides)


def main(argv):
    del argv
    from tpgan_tf.core import runner
    from tpgan_tf.core.task import MissingResourceError, NonFiniteLossError

    for name in ("data_dir", "model_dir"):
        if not getattr(FLAGS, name):
            raise app.UsageError(f"--{name} is required")
    try:
        cfg = training_config(FLAGS.model, FLAGS.config, common.overrides({
            "runtime.strategy": FLAGS.strategy,
            "runtime.mixed_precision": FLAGS.mixed_precision,
            "runtime.jit_compile": FLAGS.jit_compile,
            "runtime.deterministic": FLAGS.deterministic}))
        result = runner.train(cfg, FLAGS.data_dir, FLAGS.model_dir,
                              num_iterations=FLAGS.num_iterations)
    except (MissingResourceError, NonFiniteLossError, *common.USER_ERRORS) as e:
        common.fail(e)
    print(json.dumps({"start_iteration": result.start_iteration,
                      "end_iteration": result.end_iteration,
                      "seconds": round(result.seconds, 2),
                      "last": result.last_values}), flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
