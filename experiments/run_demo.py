"""The main job end to end on the built-in synthetic data, for every model (`make demo`; no
downloads).

    python -m experiments.run_demo --workdir=runs/demo                      # every model
    python -m experiments.run_demo --workdir=runs/demo --models=tpgan,drgan # a subset
    make demo MODELS=fsrnet

Stages (each skips or resumes what is already done, so an interrupted demo picks up where it
stopped; each model's stage lives in experiments/demo/<model>.py and runs the project's own
command-line scripts, exactly as a user would):
  shared   synthetic multi-view faces in the raw Multi-PIE layout, their pair records and the
           identity network (Light-CNN-29), for the frontalization models
  tpgan    training (`demo` preset), export, evaluation (tpgan spec 7.1), photos
  drgan    image records, training, export, evaluation (drgan spec 5.1 and tpgan spec 7.1)
  fsrnet   synthetic face records, training, export, evaluation against bicubic, SR of
           held-out faces
then <workdir>/index.html: every model's tables, TP-GAN and DR-GAN side by side on the same
test pairs, the stage timings.
"""
from __future__ import annotations

import importlib
import os
import time

from absl import app, flags

FLAGS = flags.FLAGS
MODELS = ("tpgan", "drgan", "fsrnet")


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("workdir", "runs/demo", "Where every output of the demo goes.")
    flags.DEFINE_list("models", None, "Models to run, in this order (default: every model "
                      "with a demo stage).")
    flags.DEFINE_integer("subjects", 48, "Synthetic identities (the last quarter is the test split: 12 by\n"
                         "default, so one probe is ~1.4 rank-1 points of a |yaw| bin).")
    flags.DEFINE_integer("seed", 0, "Seed of the synthetic identities.")
    flags.DEFINE_integer("lightcnn_steps", 200, "Training steps of the identity network.")
    flags.DEFINE_multi_string("iterations", [], "model=N: train that model for N iterations "
                              "instead of its demo preset's count (e.g. tpgan=40).")
    flags.DEFINE_bool("data_only", False, "Stop after the data stages (no training).")


def available_models() -> list[str]:
    """The models of MODELS that have a stage module in experiments/demo/."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo")
    return [m for m in MODELS if os.path.exists(os.path.join(here, f"{m}.py"))]


def stage_module(model: str):
    """experiments/demo/<model>.py (its `run(ctx, data_only)` returns {"results", "page"})."""
    try:
        return importlib.import_module(f"experiments.demo.{model}")
    except ModuleNotFoundError:
        raise ValueError(f"--models: no demo stage for {model!r}; known: {', '.join(MODELS)}"
                         ) from None


def main(argv):
    del argv
    from experiments import common
    from experiments.demo import page
    from experiments.demo.common import DemoContext

    try:
        iterations = dict(item.split("=", 1) for item in FLAGS.iterations)
        ctx = DemoContext(FLAGS.workdir, FLAGS.subjects, FLAGS.seed, FLAGS.lightcnn_steps,
                          {k: int(v) for k, v in iterations.items()})
        stages = [(m, stage_module(m)) for m in (FLAGS.models or available_models())]
    except ValueError as err:
        common.fail(err)
    start = time.perf_counter()
    results = {}
    try:
        os.makedirs(ctx.workdir, exist_ok=True)
        for model, module in stages:
            out = module.run(ctx, data_only=FLAGS.data_only)
            if out.get("results"):
                results[model] = out["results"]
    except (*common.USER_ERRORS, OSError) as err:  # bad --subjects, unwritable --workdir
        common.fail(err)
    ctx.timings["all stages"] = round(time.perf_counter() - start, 1)
    if FLAGS.data_only:
        print(f"\nDone (data only). Everything is in {os.path.abspath(ctx.workdir)}")
        return
    index = page.build(ctx.workdir, results, ctx.timings)
    print(f"\nDone in {ctx.timings['all stages'] / 60:.1f} min. Results page (tables and "
          f"pictures): {os.path.abspath(index)}")
    print("Each model's own page: " + ", ".join(
        f"{m}: {os.path.abspath(os.path.join(r, 'index.html'))}" for m, r in results.items()))


if __name__ == "__main__":
    define_flags()
    app.run(main)
