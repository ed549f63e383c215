"""What every demo stage shares: its context, step titles, and running the project's scripts
as a user would (`python -m ...`), stopping the demo with one error line if one fails."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time

# A real photo shipped with the tests (NASA's portrait of astronaut Eileen Collins, public
# domain), for each model's "your own photos" step.
REAL_PHOTO = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "data", "astronaut.jpg")


@dataclasses.dataclass
class DemoContext:
    """Paths and settings of one `make demo` run.

    workdir/multipie       synthetic faces in the raw Multi-PIE layout (TP-GAN, DR-GAN)
    workdir/records/pairs  (profile, frontal) pair records (TP-GAN; DR-GAN's TP-GAN protocol)
    workdir/lightcnn.h5    the identity network trained on the pair records
    workdir/<model>/...    each model's records, run, export and results
    """

    workdir: str
    subjects: int = 48
    seed: int = 0
    lightcnn_steps: int = 200
    iterations: dict = dataclasses.field(default_factory=dict)  # model -> override
    timings: dict = dataclasses.field(default_factory=dict)  # stage -> seconds

    @property
    def multipie(self) -> str:
        return os.path.join(self.workdir, "multipie")

    @property
    def pair_records(self) -> str:
        return os.path.join(self.workdir, "records", "pairs")

    @property
    def lightcnn(self) -> str:
        return os.path.join(self.workdir, "lightcnn.h5")

    @property
    def test_subjects_from(self) -> int:
        """The last quarter of the synthetic identities is the test split."""
        return self.subjects - max(1, self.subjects // 4) + 1

    def model_dir(self, model: str, *parts: str) -> str:
        return os.path.join(self.workdir, model, *parts)


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def show_models(model: str, label: str) -> dict:
    """Prints the parameter counts of `model`'s `demo` networks (experiments/model_summary.py)."""
    from experiments.model_summary import parameter_counts

    step(f"{label} networks of the `demo` preset")
    counts, _, _ = parameter_counts(model, "demo")
    print(json.dumps(counts))
    return counts


def run_script(*args: str, env: dict | None = None) -> None:
    """Runs `python -m <args>` (env: variables added to this process's environment, shown on
    the command line); a failure stops the demo with one `error:` line (the step printed its
    own message above)."""
    command = [sys.executable, "-m", *args]
    shown = [f"{k}={v}" for k, v in (env or {}).items()]
    print("$ " + " ".join(shown + ["python", *command[1:]]), flush=True)
    code = subprocess.run(command, env={**os.environ, **env} if env else None).returncode
    if code != 0:
        from experiments import common

        common.fail(RuntimeError(f"step `python -m {args[0]}` failed (exit code {code}); "
                                 f"see its message above"), code)


class timed:
    """Context manager adding a stage's wall time to ctx.timings (a stage that several models
    share, e.g. the pair records, is run by each and timed in total)."""

    def __init__(self, ctx: DemoContext, name: str):
        self.ctx, self.name = ctx, name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        spent = time.perf_counter() - self.t0
        self.ctx.timings[self.name] = round(self.ctx.timings.get(self.name, 0.0) + spent, 1)


def train_and_export(ctx: DemoContext, model: str, label: str, data_dir: str,
                     *train_flags: str) -> tuple[str, str]:
    """Trains `model`'s `demo` preset on `data_dir` (resuming from its last checkpoint) and
    exports its latest checkpoint as version 1. Returns (model_dir, export_base)."""
    from tpgan_tf.core.config import get_config
    from tpgan_tf.core.distribution import DETERMINISTIC_ENV

    train, export_base = ctx.model_dir(model, "train"), ctx.model_dir(model, "export")
    step(f"{label} training, `demo` preset (resumes from its last checkpoint)")
    iterations = ctx.iterations.get(model)
    deterministic = get_config("demo", model).runtime.deterministic
    with timed(ctx, f"{label} training"):
        run_script("experiments.train", f"--model={model}", "--config=demo",
                   f"--data_dir={data_dir}", f"--model_dir={train}", *train_flags,
                   # the run's length, not only where it stops: a learning-rate decay
                   # (TP-GAN's, FSRNet's) ends at train.num_iterations
                   *([f"--override=train.num_iterations={iterations}"] if iterations else []),
                   env=DETERMINISTIC_ENV if deterministic else None)
    step(f"{label} export for TF Serving")
    version_dir = os.path.join(export_base, model, "1")
    if os.path.exists(version_dir):
        shutil.rmtree(version_dir)  # always export the latest checkpoint
    with timed(ctx, f"{label} export"):
        run_script("experiments.export", f"--model_dir={train}", f"--export_base={export_base}",
                   "--version=1")
    return train, export_base


def apply_to_photos(ctx: DemoContext, model: str, label: str, export_base: str, photos: str,
                    *flags: str) -> str:
    """The photo tool (experiments.apply) with `model`'s export on `photos` (a photo or a
    folder); returns its output folder, workdir/<model>/photos_out."""
    out = ctx.model_dir(model, "photos_out")
    step(f"{label} on real photos (experiments.apply): {photos}")
    with timed(ctx, f"{label} real photos"):
        run_script("experiments.apply", f"--model={model}", f"--input={photos}",
                   f"--saved_model={os.path.join(export_base, model)}", f"--output_dir={out}",
                   *flags)
    return out
