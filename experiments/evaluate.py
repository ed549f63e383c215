"""Evaluates a trained model by its protocol and writes its results page.

    python -m experiments.evaluate --model_dir=runs/demo/tpgan/train \\
        --data_dir=runs/demo/records/pairs --override=eval.lightcnn_weights=lightcnn29.h5

Each model's protocol is its evaluation.py (TP-GAN: rank-1 per pose and image quality by its
tpgan spec 7.1; DR-GAN: f(x) identification and TP-GAN's protocol on its frontals; FSRNet: the
official Y-PSNR / SSIM); its options are the config's `eval` section (--override=eval.x=...;
the generic flags below set the common ones). Writes into --output_dir (default
<model_dir>/eval) results.json, results.md, index.html (the results page, printed at the end)
and the model's plots and picture sheets.

A learned model is evaluated from its trained run (--model_dir); without one the script stops
with an `error:` line, for every model, before anything is built, unless the evaluation uses
no network (FSRNet's eval.method=bicubic) or --allow_random_weights is given: then --model
and --config give randomly initialised weights (pipeline checks, tests) and the model's rows
in the results say "random weights".
"""
from __future__ import annotations

import os

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    common.define_model_flags()
    flags.adopt_module_key_flags(common)  # --model, --config, ... listed by --help too
    flags.DEFINE_string("data_dir", None, "Folder of the TFRecord shards (reads <split>-*.tfrecord).")
    flags.DEFINE_string("model_dir", None, "Training model_dir: config.json + checkpoints.")
    flags.DEFINE_string("output_dir", None, "Where the results go (default <model_dir>/eval).")
    flags.DEFINE_bool("allow_random_weights", False, "Evaluate randomly initialised weights "
                      "of --config (no --model_dir): tests and sanity checks only.")
    flags.DEFINE_string("split", None, "Which shards to evaluate (eval.split; default test).")
    flags.DEFINE_integer("batch_size", None, "Examples per batch (eval.batch_size).")
    flags.DEFINE_integer("max_examples", None, "If > 0, only the first N test examples "
                         "(eval.max_examples).")


def check_weights(cfg, model_dir: str | None, allow_random_weights: bool) -> None:
    """The rule for every model: an evaluation that scores a learned network needs its trained
    run (model_dir) or an explicit allow_random_weights. ValueError otherwise."""
    from tpgan_tf.core.registry import get_model

    if model_dir or allow_random_weights:
        return
    if get_model(cfg.task).task.evaluator.needs_trained_weights(cfg):
        raise ValueError(f"--model={cfg.task} without --model_dir would score randomly "
                         "initialised weights: give the trained run (--model_dir=RUN), or "
                         "--allow_random_weights for a pipeline check (its results say "
                         "\"random weights\")")


def evaluate_run(data_dir, output_dir=None, *, model_dir=None, preset=None, model=None,
                 overrides=(), allow_random_weights=False, show_progress=True):
    """Loads the run and evaluates it; returns (evaluator, results dict, results page)."""
    from tpgan_tf.core.runner import load_trained, resolve_config

    output_dir = output_dir or (os.path.join(model_dir, "eval") if model_dir else None)
    if not output_dir:
        raise ValueError("--output_dir is required when there is no --model_dir")
    check_weights(resolve_config(model_dir, preset, overrides, model), model_dir,
                  allow_random_weights)  # before anything is built
    task, cfg, ckpt = load_trained(model_dir, preset, overrides, model)
    run_info = {"model_dir": model_dir or "(none: randomly initialised)",
                "checkpoint": ckpt or "(none)"}
    if not model_dir:
        run_info["random_weights"] = True
    evaluator = task.evaluator(task)
    results, page = evaluator.evaluate(data_dir, output_dir, run_info=run_info,
                                       show_progress=show_progress)
    return evaluator, results, page


def run(data_dir, output_dir=None, **kwargs) -> tuple[dict, str]:
    """evaluate_run without the evaluator: (results dict, path of the results page)."""
    _, results, page = evaluate_run(data_dir, output_dir, **kwargs)
    return results, page


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        evaluator, results, page = evaluate_run(
            FLAGS.data_dir, FLAGS.output_dir, model_dir=FLAGS.model_dir, preset=FLAGS.config,
            model=FLAGS.model, allow_random_weights=FLAGS.allow_random_weights,
            overrides=common.overrides({"eval.split": FLAGS.split,
                                        "eval.batch_size": FLAGS.batch_size,
                                        "eval.max_examples": FLAGS.max_examples}))
    except common.USER_ERRORS as e:
        common.fail(e)
    summary = evaluator.summary_text(results)
    if summary:
        print(summary)
    print(f"results page: {page}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
