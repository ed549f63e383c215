"""Trains TP-GAN with the original schedule (spec 5): 1 D step + 2 G steps per batch, three Adams.

One GPU / CPU (Multi-PIE, the faithful `paper` preset):
    python -m experiments.train --config=paper --data_dir=/data/multipie_tfrecords \\
        --model_dir=runs/paper --lightcnn_weights=lightcnn29.h5
All local GPUs (batch norm and losses over the global batch):
    python -m experiments.train ... --strategy=mirrored
Several hosts (run on every host with its own TF_CONFIG):
    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}' \\
    python -m experiments.train ... --strategy=multi_worker
Demo on synthetic data (CPU):
    python -m experiments.train --config=demo --data_dir=DATA --model_dir=runs/demo \\
        --lightcnn_weights=lightcnn_demo.h5

Reads `<data_dir>/train-*.tfrecord`; writes checkpoints (`ckpt-<iteration>`), `config.json` and
TensorBoard event files (`train/`) to --model_dir and resumes from the latest checkpoint there.
"""
from __future__ import annotations

import json
import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("config", "paper", "Config preset: paper, demo or tiny.")
    flags.DEFINE_string("data_dir", None, "Directory holding the train-*.tfrecord shards.")
    flags.DEFINE_string("model_dir", None, "Run directory: checkpoints, config.json, summaries.")
    flags.DEFINE_multi_string("override", [], "section.field=value, e.g. train.batch_size=4.")
    flags.DEFINE_string("lightcnn_weights", None,
                        "Light-CNN-29 weights (.h5 from experiments.convert_lightcnn or "
                        "experiments.pretrain_lightcnn, or the original DeepFace168.pickle).")
    flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"],
                      "tf.distribute strategy; multi_worker reads TF_CONFIG.")
    flags.DEFINE_enum("mixed_precision", "float32",
                      ["float32", "mixed_float16", "mixed_bfloat16"],
                      "Keras dtype policy; float32 is the faithful default.")
    flags.DEFINE_bool("jit_compile", False, "Compile every step with XLA.")
    flags.DEFINE_bool("deterministic", False,
                      "Deterministic ops, seeds and data order: identical runs and exact resume.")
    flags.DEFINE_integer("num_iterations", None, "Stop at this iteration (default: the config's).")


def resolve_config(preset: str, overrides: list[str], strategy_name: str):
    """The run's Config: preset + overrides; synchronised BN for multi-replica strategies
    unless model.bn_synchronized is overridden explicitly."""
    from tpgan_tf.config import apply_overrides, get_config

    cfg = apply_overrides(get_config(preset), overrides)
    explicit = any(o.split("=", 1)[0].strip() == "model.bn_synchronized" for o in overrides)
    if strategy_name in ("mirrored", "multi_worker") and not explicit:
        cfg.model.bn_synchronized = True
    return cfg


def per_worker_batch_size(global_batch: int, num_workers: int, local_replicas: int) -> int:
    """Global batch -> this worker's batch; it must split evenly over workers and replicas."""
    if global_batch % (num_workers * local_replicas):
        raise ValueError(
            f"train.batch_size={global_batch} must be divisible by workers x replicas = "
            f"{num_workers} x {local_replicas}")
    return global_batch // num_workers


def make_train_dataset(data_dir: str, cfg, batch_size: int, deterministic: bool,
                       num_workers: int = 1, worker_index: int = 0):
    """Batches of `<data_dir>/train-*.tfrecord` with the config's pose filter (spec 5).

    With several workers each takes every num_workers-th batch (different data per worker).
    """
    from tpgan_tf.input_pipeline import make_dataset  # written in parallel; import late

    pattern = os.path.join(data_dir, "train-*.tfrecord")
    ds = make_dataset(pattern, batch_size, yaw_low=cfg.train.yaw_low,
                      yaw_high=cfg.train.yaw_high, shuffle=True, repeat=True,
                      deterministic=deterministic,
                      seed=cfg.train.seed if deterministic else None)
    if num_workers > 1:
        ds = ds.shard(num_workers, worker_index)
    return ds


def train(cfg, data_dir: str, model_dir: str, *, lightcnn_weights=None, strategy_name="default",
          precision="float32", jit_compile=False, deterministic=False, num_iterations=None,
          dataset_fn=None, log=None):
    """Builds everything and trains; returns trainer.LoopResult.

    dataset_fn (optional, for tests): per-worker batch size -> tf.data.Dataset of contract
    batches, replacing the TFRecords of data_dir.
    """
    import keras

    from tpgan_tf import checkpointing, distribution, trainer as trainer_lib
    from tpgan_tf.config import save_config

    trainer_lib.check_identity_weights(cfg, lightcnn_weights)  # before anything heavy
    # The strategy first: multi-worker collectives must be set up before any other TF op.
    strategy = distribution.make_strategy(strategy_name)
    if deterministic:
        distribution.enable_determinism(cfg.train.seed)
    else:
        keras.utils.set_random_seed(cfg.train.seed)  # reproducible initial weights
    distribution.set_precision(precision)
    info = distribution.worker_info(strategy)
    batch = per_worker_batch_size(cfg.train.batch_size, info.num_workers, info.local_replicas)
    if dataset_fn is None:
        dataset = make_train_dataset(data_dir, cfg, batch, deterministic, info.num_workers,
                                     info.worker_index)
    else:
        dataset = dataset_fn(batch)
    trainer = trainer_lib.Trainer(cfg, strategy=strategy, lightcnn_weights=lightcnn_weights,
                                  jit_compile=jit_compile)
    iterator = iter(dataset)
    checkpoint = checkpointing.make_checkpoint(trainer, iterator)
    saver = checkpointing.CheckpointSaver(checkpoint, model_dir, cfg.train.keep_checkpoints,
                                          info.is_chief, info.worker_index)
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    restored = saver.restore_latest()
    if info.is_chief:
        save_config(cfg, model_dir)
    saved_iterator = checkpointing.iterator_is_checkpointable(iterator)
    log(f"{'resumed from ' + restored if restored else 'fresh run'} | config {cfg.name} | "
        f"strategy {strategy_name} ({strategy.num_replicas_in_sync} replicas, "
        f"{info.num_workers} workers) | precision {precision} | jit {jit_compile} | "
        f"global batch {cfg.train.batch_size} | input position "
        f"{'is' if saved_iterator else 'is NOT'} checkpointed")
    return trainer_lib.run_training(
        trainer, iterator, saver, num_iterations or cfg.train.num_iterations,
        summary_dir=trainer_lib.model_dir_summary_path(model_dir), log=log)


def main(argv):
    del argv
    from tpgan_tf.trainer import MissingIdentityWeightsError, NonFiniteLossError

    for name in ("data_dir", "model_dir"):
        if not getattr(FLAGS, name):
            raise app.UsageError(f"--{name} is required")
    try:
        cfg = resolve_config(FLAGS.config, FLAGS.override, FLAGS.strategy)
        result = train(cfg, FLAGS.data_dir, FLAGS.model_dir,
                       lightcnn_weights=FLAGS.lightcnn_weights, strategy_name=FLAGS.strategy,
                       precision=FLAGS.mixed_precision, jit_compile=FLAGS.jit_compile,
                       deterministic=FLAGS.deterministic, num_iterations=FLAGS.num_iterations)
    except (MissingIdentityWeightsError, NonFiniteLossError, ValueError,
            FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(json.dumps({"start_iteration": result.start_iteration,
                      "end_iteration": result.end_iteration,
                      "seconds": round(result.seconds, 2),
                      "last": result.last_values}), flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
