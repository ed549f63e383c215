"""Learning curves: trains a preset of any registered model for a time budget and evaluates it
by its own protocol (its Evaluator, `experiments.evaluate`) on held-out data at the start and
every few iterations or minutes; writes the model's headline numbers (Evaluator.headlines)
against iterations and training time, next to their baselines, as a table and a plot.

    python -m benchmarks.learning_curves --model=fsrnet --config=demo --minutes=30 \\
        --data_dir=runs/demo/fsrnet/records --output_dir=runs/curves/fsrnet \\
        --override=eval.test_set=synthetic_test --eval_every_minutes=3
    python -m benchmarks.learning_curves --model=tpgan --config=demo --minutes=60 \\
        --data_dir=runs/demo/records/pairs --weights=lightcnn=runs/demo/lightcnn.h5 \\
        --output_dir=runs/curves/tpgan --eval_every=100
    python -m benchmarks.learning_curves --model=drgan --config=demo --minutes=60 \\
        --data_dir=runs/demo/drgan/records --output_dir=runs/curves/drgan \\
        --override=eval.pairs_dir=runs/demo/records/pairs \\
        --override=eval.lightcnn_weights=runs/demo/lightcnn.h5

The run trains in chunks through the shared loop (core/runner.py start_training /
train_until: one build, one trace) into <output_dir>/train; after each chunk its checkpoint is
evaluated into <output_dir>/eval_<iteration>/ (each model's full results page) exactly as
`experiments.evaluate --model_dir=<that checkpoint>` does. Training stops at --minutes of
training time (evaluations not counted) or at the config's train.num_iterations, whichever
comes first (set --override=train.num_iterations=N for a longer schedule). Writes, after every
evaluation, <output_dir>/curves.md (run information and the table), curves.json and
curves.png (tpgan_tf/evaluation/learning_curves.py). Baselines (raw profile, bicubic) do not
depend on the weights: one row / dashed line each.

--extend continues a finished curve where the curve still rises: the run in <output_dir>/train
resumes from its newest checkpoint (give a larger train.num_iterations if it stopped there),
the points of curves.json are kept and training time counts on from theirs, so --minutes is
the budget of the whole curve:

    python -m benchmarks.learning_curves --model=tpgan --config=demo --minutes=40 --extend \
        --data_dir=runs/demo/records/pairs --weights=lightcnn=runs/demo/lightcnn.h5 \
        --output_dir=runs/curves/tpgan --eval_every=80 --override=train.num_iterations=100000
"""
from __future__ import annotations

import os
import sys
import time

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    common.define_model_flags()
    flags.adopt_module_key_flags(common)  # --model, --config, ... listed by --help too
    flags.DEFINE_string("data_dir", None, "Training records (<data_dir>/train-*.tfrecord); "
                        "the evaluation reads their test split unless --eval_data_dir.")
    flags.DEFINE_string("eval_data_dir", None, "Records the evaluation reads (default "
                        "--data_dir); '' when eval.* overrides name its data instead (FSRNet "
                        "eval.hr_dir / eval.lr_dir).")
    flags.DEFINE_string("output_dir", None, "Where the run, the evaluations and the curves go.")
    flags.DEFINE_float("minutes", None, "Training time budget in minutes (evaluations not "
                       "counted).")
    flags.DEFINE_integer("eval_every", None, "Evaluate every N iterations.")
    flags.DEFINE_float("eval_every_minutes", None, "Evaluate every M minutes of training "
                       "(default: --minutes / 6).")
    flags.DEFINE_bool("eval_at_start", True, "Evaluate the initial weights too (iteration 0; "
                      "also checks the evaluation's files before any training).")
    flags.DEFINE_bool("extend", False, "Continue the curve in --output_dir (its run and "
                      "curves.json); --minutes is the whole curve's training budget.")


def chunk_plan(iteration: int, limit: int, train_seconds: float, budget: float,
               eval_every: int | None, eval_every_seconds: float | None) -> tuple[int, float]:
    """The next chunk: (the iteration it trains up to, the training time at which it stops).

    With eval_every: the next multiple of it (at most `limit`), stopped by the budget only;
    with eval_every_seconds: `limit`, stopped after that much more training (at most the
    budget)."""
    if eval_every:
        return min(limit, (iteration // eval_every + 1) * eval_every), budget
    return limit, min(budget, train_seconds + eval_every_seconds)


def evaluate_checkpoint(ckpt: str, data_dir: str | None, output_dir: str):
    """experiments.evaluate on one checkpoint of the run (its config.json, which holds the
    eval.* overrides); the Keras dtype policy the training set is put back. Returns
    (evaluator, results)."""
    import keras

    from experiments.evaluate import evaluate_run

    policy = keras.mixed_precision.global_policy()
    try:
        evaluator, results, _ = evaluate_run(data_dir, output_dir, model_dir=ckpt,
                                             show_progress=False)
    finally:
        keras.mixed_precision.set_global_policy(policy)  # load_trained evaluates in float32
    return evaluator, results


def check_options(data_dir, output_dir, minutes, eval_every, eval_every_minutes
                  ) -> float | None:
    """ValueError naming the flag for bad options; returns the evaluation period in training
    seconds (None with eval_every; default --minutes / 6)."""
    if not data_dir or not output_dir:
        raise ValueError("--data_dir and --output_dir are required")
    if not minutes or minutes <= 0:
        raise ValueError(f"--minutes must be > 0, got {minutes}")
    if eval_every is not None and eval_every_minutes is not None:
        raise ValueError("give --eval_every (iterations) or --eval_every_minutes, not both")
    if (eval_every is not None and eval_every < 1) or (eval_every_minutes is not None
                                                       and eval_every_minutes <= 0):
        raise ValueError(f"--eval_every must be >= 1 and --eval_every_minutes > 0, got "
                         f"{eval_every} and {eval_every_minutes}")
    if eval_every:
        return None
    return (eval_every_minutes or minutes / 6) * 60.0


class Curve:
    """The points of one run so far, and their files after every evaluation."""

    def __init__(self, training, output_dir: str, eval_data: str | None, info: dict, clock,
                 log):
        self.training, self.output_dir, self.eval_data = training, output_dir, eval_data
        self.info, self.clock, self.log = info, clock, log
        self.start = clock()
        self.points: list = []
        self.train_seconds = 0.0
        cfg = training.config
        self.title = f"{cfg.task} `{cfg.name}` learning curve"

    def continue_from(self, path: str) -> None:
        """Takes over the points of an earlier curves.json: training and elapsed time count
        on from its last point."""
        import json

        from tpgan_tf.evaluation.learning_curves import points_from_dict

        with open(path) as f:
            self.points = points_from_dict(json.load(f))
        if not self.points:
            raise ValueError(f"{path}: the curve has no point to continue from")
        self.train_seconds = self.points[-1].train_seconds
        self.start = self.clock() - self.points[-1].elapsed_seconds

    def evaluate(self, iteration: int, stopped: str = "(running)") -> None:
        """Evaluates the run's newest checkpoint (that of `iteration`) into eval_<iteration>/
        and rewrites the curve files."""
        from tpgan_tf.evaluation.learning_curves import CurvePoint

        name = f"eval_{iteration}"
        evaluator, results = evaluate_checkpoint(self.training.saver.latest, self.eval_data,
                                                 os.path.join(self.output_dir, name))
        headlines = evaluator.headlines(results)
        if not headlines:
            raise ValueError(f"model {self.training.config.task!r}: its evaluator names no "
                             "headline numbers (Evaluator.headlines)")
        self.points.append(CurvePoint(iteration, self.train_seconds,
                                      self.clock() - self.start, headlines, name))
        shown = ", ".join(f"{h.name} {h.value:.4g}" for h in headlines[:4]
                          if h.value is not None)
        self.log(f"evaluated iteration {iteration} (training {self.train_seconds / 60:.1f} "
                 f"min): {shown} | {os.path.join(self.output_dir, name, 'index.html')}")
        self.write(stopped)

    def train(self, target: int, deadline: float) -> int:
        """Trains up to iteration `target` or until `deadline` seconds of training in all;
        returns the iteration reached (checkpointed by the loop)."""
        t0, before = self.clock(), self.train_seconds
        self.training.train_until(target, stop=lambda: before + self.clock() - t0 >= deadline)
        self.train_seconds = before + self.clock() - t0
        return int(self.training.task.iteration.numpy())

    def write(self, stopped: str) -> dict:
        from tpgan_tf.evaluation.learning_curves import write_curves

        return write_curves(self.output_dir, self.points, title=self.title,
                            info={**self.info, "stopped": stopped})


def run(model: str, preset: str | None, overrides, data_dir: str, output_dir: str,
        minutes: float, *, eval_data_dir: str | None = None, eval_every: int | None = None,
        eval_every_minutes: float | None = None, eval_at_start: bool = True,
        extend: bool = False, log=None, clock=time.perf_counter) -> dict:
    """The whole job of the module doc; returns {"points": [CurvePoint], "paths": {table,
    data, plot}, "stopped": why training ended}. eval_data_dir None: data_dir; "": none.
    extend: continue the curve in output_dir (module doc). clock: seconds (tests give a
    fake one)."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    every_seconds = check_options(data_dir, output_dir, minutes, eval_every,
                                  eval_every_minutes)
    import tensorflow as tf

    from benchmarks.bench_train_step import cpu_name
    from experiments.train import training_config
    from tpgan_tf.core import runner
    from tpgan_tf.core.registry import get_model

    cfg = training_config(model, preset, overrides)
    if get_model(cfg.task).task.evaluator is None:
        raise ValueError(f"model {cfg.task!r} has no evaluation (Task.evaluator)")
    model_dir = os.path.join(output_dir, "train")
    from tpgan_tf.evaluation.learning_curves import DATA

    has_run = os.path.isdir(model_dir) and tf.train.latest_checkpoint(model_dir)
    if has_run and not extend:
        raise FileExistsError(f"{model_dir} already holds a training run; give a new "
                              "--output_dir (a curve starts from the initial weights) or "
                              "--extend to continue its curve")
    if extend and not (has_run and os.path.exists(os.path.join(output_dir, DATA))):
        raise FileNotFoundError(f"--extend: {output_dir} holds no curve to continue (a run in "
                                f"train/ and {DATA})")
    eval_data = data_dir if eval_data_dir is None else (eval_data_dir or None)
    training = runner.start_training(cfg, data_dir, model_dir, log=log)
    rc = training.config
    curve = Curve(training, output_dir, eval_data, {
        "model": rc.task, "config": rc.name, "overrides": " ".join(overrides) or "-",
        "data_dir": data_dir, "eval_data_dir": eval_data or "(eval.* overrides)",
        "precision": rc.runtime.mixed_precision, "global batch": rc.train.batch_size,
        "cpu": cpu_name(), "budget (training minutes)": minutes,
        "evaluate every": (f"{eval_every} iterations" if eval_every else
                           f"{every_seconds / 60:g} training minutes")}, clock, log)
    if extend:
        curve.continue_from(os.path.join(output_dir, DATA))
        curve.info["extended"] = (f"from iteration {curve.points[-1].iteration} "
                                  f"({curve.points[-1].train_seconds / 60:.1f} training min)")
    elif eval_at_start:
        training.saver.save(0)
        curve.evaluate(0)
    limit, budget = rc.train.num_iterations, minutes * 60.0
    by_time = f"time budget ({minutes:g} min) reached"
    while True:
        iteration = int(training.task.iteration.numpy())
        if iteration >= limit:
            stopped = f"train.num_iterations ({limit}) reached"
            break
        if curve.train_seconds >= budget:
            stopped = by_time
            break
        reached = curve.train(*chunk_plan(iteration, limit, curve.train_seconds, budget,
                                          eval_every, every_seconds))
        if reached == iteration:  # the budget ran out before an iteration
            stopped = by_time
            break
        curve.evaluate(reached)
    if not curve.points:
        raise ValueError("nothing was evaluated (--noeval_at_start and no training)")
    return {"points": curve.points, "paths": curve.write(stopped), "stopped": stopped}


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from tpgan_tf.core.task import MissingResourceError, NonFiniteLossError

    try:
        out = run(FLAGS.model, FLAGS.config, common.overrides(), FLAGS.data_dir,
                  FLAGS.output_dir, FLAGS.minutes, eval_data_dir=FLAGS.eval_data_dir,
                  eval_every=FLAGS.eval_every, eval_every_minutes=FLAGS.eval_every_minutes,
                  eval_at_start=FLAGS.eval_at_start, extend=FLAGS.extend)
    except (MissingResourceError, NonFiniteLossError, *common.USER_ERRORS) as e:
        common.fail(e)
    with open(out["paths"]["table"]) as f:
        print(f.read(), flush=True)
    print(f"stopped: {out['stopped']}; plot: {out['paths']['plot']}", flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
