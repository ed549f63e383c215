"""Evaluates a trained model by its protocol and writes its results page.

    python -m experiments.evaluate --data_dir=runs/demo/records --model_dir=runs/demo/train \\
        --lightcnn_weights=weights/lightcnn29.h5 --output_dir=runs/demo/eval

TP-GAN: rank-1 per pose and image quality by tpgan spec 7.1 (tpgan_tf/models/tpgan/
evaluation.py); the other models: README. Writes into --output_dir (default
<model_dir>/eval) results.json, results.md, index.html (the results page, printed at the end)
and the model's plots and picture sheets.

A learned model is evaluated from its trained run (--model_dir); without one the script stops
with an `error:` line, for every model (check_weights), unless the evaluation uses no network
(FSRNet's --method=bicubic) or --allow_random_weights is given: then --config (a preset) and
--override give randomly initialised weights (pipeline checks, tests) and the model's rows in
the results say "random weights".
"""
from __future__ import annotations

import os

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    from tpgan_tf.core.flags import define_task_flags

    common.define_model_flags(None)
    flags.DEFINE_string("data_dir", None, "Folder of the TFRecord shards (reads <split>-*.tfrecord).")
    flags.DEFINE_string("split", "test", "Which shards to evaluate (the test split).")
    flags.DEFINE_string("model_dir", None, "Training model_dir: config.json + checkpoints.")
    flags.DEFINE_string("output_dir", None, "Where the results go (default <model_dir>/eval).")
    flags.DEFINE_integer("batch_size", 16, "Examples per batch (TP-GAN normalises with batch "
                         "statistics in bn_mode=batch_stats, tpgan spec 2.1).")
    flags.DEFINE_integer("max_examples", 0, "If > 0, only the first N test examples.")
    flags.DEFINE_integer("z_seed", 2017, "Seed of the stateless noise draws (models with z).")
    flags.DEFINE_integer("sheet_rows", 6, "Examples per picture sheet.")
    flags.DEFINE_bool("allow_random_weights", False, "Without --model_dir, evaluate randomly "
                      "initialised weights of --config (pipeline checks only); the results "
                      "say \"random weights\".")
    define_task_flags("evaluate")


def check_weights(model: str, model_dir: str | None, allow_random_weights: bool,
                  options: dict) -> None:
    """The rule for every model: an evaluation that scores a learned network needs its trained
    run (--model_dir) or an explicit --allow_random_weights. ValueError otherwise.

    options: the model's evaluate flag values (Task.evaluation_needs_weights reads them)."""
    from tpgan_tf.core.registry import get_task

    if model_dir or allow_random_weights:
        return
    if not get_task(model).evaluation_needs_weights(options):
        return
    raise ValueError(f"--model={model} without --model_dir would score randomly initialised "
                     "weights: give the trained run (--model_dir=RUN), or --allow_random_weights "
                     "for a pipeline check (its results say \"random weights\")")


def run(data_dir, output_dir=None, *, model_dir=None, preset=None, model=None, overrides=(),
        show_progress=True, allow_random_weights=False, **options) -> tuple[dict, str]:
    """Loads the run and evaluates it; returns (results dict, path of the results page).

    Without model_dir the networks are randomly initialised (the command line allows that only
    with --allow_random_weights: check_weights); allow_random_weights=True marks the model's
    rows "random weights"."""
    from tpgan_tf.core.runner import load_trained

    output_dir = output_dir or (os.path.join(model_dir, "eval") if model_dir else None)
    if not output_dir:
        raise ValueError("--output_dir is required when there is no --model_dir")
    task, cfg, ckpt = load_trained(model_dir, preset, overrides, model)
    run_info = {"model_dir": model_dir or "(none: randomly initialised)",
                "checkpoint": ckpt or "(none)"}
    if not model_dir and allow_random_weights:
        run_info["random_weights"] = True
    return task.evaluate(data_dir, output_dir, show_progress=show_progress, run_info=run_info,
                         **options)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from tpgan_tf.core.flags import task_flag_values
    from tpgan_tf.core.runner import resolve_config

    try:
        model = resolve_config(FLAGS.model_dir, FLAGS.config, FLAGS.override, FLAGS.model).task
        options = task_flag_values(model, "evaluate")
        check_weights(model, FLAGS.model_dir, FLAGS.allow_random_weights, options)
        results, page = run(
            FLAGS.data_dir, FLAGS.output_dir, model_dir=FLAGS.model_dir, preset=FLAGS.config,
            model=FLAGS.model, overrides=FLAGS.override, split=FLAGS.split,
            batch_size=FLAGS.batch_size, max_examples=FLAGS.max_examples,
            z_seed=FLAGS.z_seed, sheet_rows=FLAGS.sheet_rows,
            allow_random_weights=FLAGS.allow_random_weights, **options)
    except common.USER_ERRORS as e:
        common.fail(e)
    from tpgan_tf.core.registry import get_task
    summary = get_task(model).summary_text(results)
    if summary:
        print(summary)
    print(f"results page: {page}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
