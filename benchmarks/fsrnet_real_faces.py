"""FSRNet trained on real faces, evaluated on real faces of another data set.

    python -m benchmarks.fsrnet_real_faces --train_hr_dir=DATA/celeba_val_1000_HR \\
        --test_hr_dir=DATA/helen_val_50_HR --test_lr_dir=DATA/helen_val_50_LR_8x \\
        --minutes=60 --output_dir=runs/fsrnet_real_faces \\
        [--demo_model_dir=runs/demo/fsrnet/train]

(DATA: the `data/` folder of the FSRNet authors' released test pairs, 128 x 128 JPEG; the
data stay where they are, the paths are flags.)

Steps, each in --output_dir:
  records/   `data_prep.build_face_records --source=folder` of --train_hr_dir (MTCNN's five
             points, parts drawn from them; --crop=center by default: the folder already
             holds 128 x 128 face crops, kept as they are, see data_prep/folder.py); every
             face is training data. Kept when a manifest of the same folder and crop exists.
  priors/, no_priors/
             FSRNet of the `folder` preset (tpgan_tf/models/fsrnet/presets.py _folder: the
             demo's CPU sizes and schedule, 5 + 6 prior channels, flips, JPEG'd LR inputs)
             trained on them, with the prior loss (beta = 1, the paper's) and without it
             (loss.beta=0: the same network, its prior branch unsupervised). --minutes per
             run become iterations by a short timing run (train.num_iterations, so the poly
             learning-rate decay ends with the run); --iterations gives them directly. A run
             folder that exists is resumed to its own num_iterations. With --crop=center the
             runs' priors.crop_template is the records' measured mean five points
             (crop_rule.measure_template), so an export crops photos like its training faces.
  eval_*/    `experiments.evaluate --model=fsrnet` (the official protocol, fsrnet spec 9) of
             each run, and of --demo_model_dir when given, on the --test_hr_dir /
             --test_lr_dir pairs.
  fsrnet_real_faces.md / .json: the table (bicubic, demo model, real-trained with and
             without priors: Y-PSNR, SSIM, gain over bicubic, iterations, training time, CPU);
  <test set>_sheet.png: the picture sheet of the run with priors (bicubic | FSRNet | HR, with an
             LR column first when the LR test files are 16 x 16; the release's are already
             bicubic-upsampled to 128 x 128).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time

from absl import app, flags

FLAGS = flags.FLAGS
PRESET = "folder"
RUNS = {"priors": [], "no_priors": ["loss.beta=0"]}  # run name -> its config overrides
RUN_LABELS = {"priors": "FSRNet, real faces, with priors",
              "no_priors": "FSRNet, real faces, without priors (loss.beta=0)"}
TIMING_STEPS, TIMING_WARMUP = 10, 3


def define_flags() -> None:
    flags.DEFINE_string("train_hr_dir", None, "Folder of real HR face photos to train on.")
    flags.DEFINE_string("test_hr_dir", None, "Folder of 128x128 HR test faces.")
    flags.DEFINE_string("test_lr_dir", None, "Their LR files (same names): 16x16, or "
                        "128x128 bicubic-upsampled.")
    flags.DEFINE_string("output_dir", "runs/fsrnet_real_faces", "Where everything goes.")
    flags.DEFINE_float("minutes", 60.0, "Training time per run (converted to iterations).")
    flags.DEFINE_integer("iterations", 0, "Iterations per run; > 0 replaces --minutes.")
    flags.DEFINE_list("runs", list(RUNS), f"Which runs: {', '.join(RUNS)}.")
    flags.DEFINE_enum("crop", "center", ["center", "template"], "Crop of the training faces "
                      "(data_prep/folder.py): center keeps ready crops as they are.")
    flags.DEFINE_string("demo_model_dir", None, "A trained run to compare (e.g. the demo's "
                        "synthetic-trained FSRNet).")
    flags.DEFINE_string("test_set", "helen50", "The test set's name in the results.")
    flags.DEFINE_multi_string("override", [], "Extra config overrides of every run.")
    flags.DEFINE_integer("workers", 0, "Records job worker processes (0: one per core).")


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo), or "unknown"."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def build_records(train_hr_dir: str, output_dir: str, crop: str, workers: int = 0,
                  show_progress: bool = True, log=print) -> str:
    """The folder records of train_hr_dir in <output_dir>/records (kept when a manifest of
    the same folder and crop exists). Returns the records folder."""
    from data_prep import build_face_records

    records = os.path.join(output_dir, "records")
    manifest_path = os.path.join(records, "manifest.json")
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            settings = json.load(f)["settings"]
        if (settings.get("folder"), settings.get("crop")) == (os.path.abspath(train_hr_dir),
                                                              crop):
            log(f"records: kept {records}")
            return records
    manifest = build_face_records.build(records, "folder", folder=train_hr_dir, folder_crop=crop,
                                        workers=workers, show_progress=show_progress)
    log(f"records: {manifest['splits']['train']['examples']} faces, "
        f"{len(manifest['skipped'])} images skipped (list: {manifest_path})")
    return records


def run_config(run: str, records: str, crop: str, overrides=()):
    """The config of one run (RUNS) on the records: the preset, the run's overrides, the
    records' measured template (crop center), then the user's overrides."""
    from experiments.train import training_config
    from tpgan_tf.models.fsrnet.crop_rule import measure_template

    if run not in RUNS:
        raise ValueError(f"--runs: unknown run {run!r}; choose from {', '.join(RUNS)}")
    extra = []
    if crop == "center":
        template = measure_template(records)["template"].reshape(-1)
        extra.append("priors.crop_template=" + ",".join(f"{v:.2f}" for v in template))
    return training_config("fsrnet", PRESET, RUNS[run] + extra + list(overrides))


def seconds_per_iteration(cfg, records: str, work_dir: str) -> float:
    """Wall seconds of one training iteration of cfg: TIMING_STEPS iterations after
    TIMING_WARMUP (graph tracing) in a throwaway run in work_dir (deleted after)."""
    from tpgan_tf.core import runner
    from tpgan_tf.core.config import apply_overrides

    stamps = []
    timing = apply_overrides(cfg, ["train.log_every=1", "train.checkpoint_every=100000",
                                   "train.image_summary_every=100000"])
    shutil.rmtree(work_dir, ignore_errors=True)
    try:
        runner.train(timing, records, work_dir, num_iterations=TIMING_WARMUP + TIMING_STEPS,
                     log=lambda line: line.startswith("iter ") and stamps.append(
                         time.perf_counter()))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    # stamps[k]: the end of iteration k + 1 (one log line per iteration)
    return (stamps[-1] - stamps[TIMING_WARMUP - 1]) / TIMING_STEPS


def train_run(cfg, records: str, run_dir: str, log=print) -> dict:
    """Trains (or resumes) one run to cfg.train.num_iterations; {"iterations", "seconds"}
    (seconds: this call's wall time plus that of earlier calls, kept in the run folder)."""
    from tpgan_tf.core import runner

    timing_file = os.path.join(run_dir, "benchmark_time.json")
    earlier = 0.0
    if os.path.exists(timing_file):
        with open(timing_file) as f:
            earlier = json.load(f)["seconds"]
    start = time.perf_counter()
    result = runner.train(cfg, records, run_dir, log=log)
    ran = result.end_iteration > result.start_iteration
    seconds = earlier + (time.perf_counter() - start if ran else 0.0)
    with open(timing_file, "w") as f:
        json.dump({"seconds": seconds, "iterations": result.end_iteration}, f)
    return {"iterations": result.end_iteration, "seconds": seconds}


def evaluate(model_dir: str, test_hr_dir: str, test_lr_dir: str, output_dir: str,
             test_set: str) -> dict:
    """The official protocol (experiments.evaluate) of one run on the test pairs:
    {"bicubic": (psnr, ssim), "fsrnet": (psnr, ssim), "sheet": path or None, "page"}."""
    from experiments import evaluate as evaluate_script

    results, page = evaluate_script.run(
        None, output_dir, model_dir=model_dir, show_progress=False,
        overrides=[f"eval.hr_dir={test_hr_dir}", f"eval.lr_dir={test_lr_dir}",
                   f"eval.test_set={test_set}"])
    methods = results["test_sets"][test_set]["methods"]
    sheets = [p["path"] for p in results.get("pictures") or []]
    return {**{m: (v["psnr"], v["ssim"]) for m, v in methods.items()},
            "examples": results["test_sets"][test_set]["examples"],
            "sheet": os.path.join(output_dir, sheets[0]) if sheets else None, "page": page}


def table(rows: list[dict], bicubic: tuple, test_set: str, examples: int) -> str:
    """The markdown table: bicubic, then one row per model."""
    lines = [f"| {test_set} ({examples} pairs) | training faces | iterations | training time "
             "| Y-PSNR (dB) | SSIM | Y-PSNR vs bicubic |", "|---|---|---|---|---|---|---|",
             f"| Bicubic | - | - | - | {bicubic[0]:.2f} | {bicubic[1]:.4f} | - |"]
    for r in rows:
        time_cell = f"{r['seconds'] / 60:.1f} min" if r.get("seconds") else "-"
        lines.append(f"| {r['label']} | {r['trained_on']} | {r.get('iterations') or '-'} | "
                     f"{time_cell} | {r['psnr']:.2f} | {r['ssim']:.4f} | "
                     f"{r['psnr'] - bicubic[0]:+.2f} dB |")
    return "\n".join(lines)


def run(train_hr_dir: str, test_hr_dir: str, test_lr_dir: str, output_dir: str, *,
        minutes: float = 60.0, iterations: int = 0, runs=tuple(RUNS), crop: str = "center",
        demo_model_dir: str | None = None, test_set: str = "helen50", overrides=(),
        workers: int = 0, show_progress: bool = True, log=print) -> dict:
    """The whole benchmark (module doc); returns the results dict (also written as JSON)."""
    for flag, folder in (("--train_hr_dir", train_hr_dir), ("--test_hr_dir", test_hr_dir),
                         ("--test_lr_dir", test_lr_dir)):
        if not folder or not os.path.isdir(folder):
            raise FileNotFoundError(f"{flag}={folder!r}: not a folder")
    if demo_model_dir and not os.path.isdir(demo_model_dir):
        raise FileNotFoundError(f"--demo_model_dir={demo_model_dir!r}: not a folder")
    if iterations < 0 or (not iterations and not minutes > 0):
        raise ValueError("give --iterations > 0 or --minutes > 0")
    os.makedirs(output_dir, exist_ok=True)
    records = build_records(train_hr_dir, output_dir, crop, workers, show_progress, log)
    faces = json.load(open(os.path.join(records, "manifest.json")))["splits"]["train"]["examples"]
    configs = {name: run_config(name, records, crop, overrides) for name in runs}
    fresh = [n for n in runs if not os.path.exists(os.path.join(output_dir, n, "config.json"))]
    if not iterations and fresh:
        per_step = seconds_per_iteration(configs[fresh[0]], records,
                                         os.path.join(output_dir, "timing"))
        iterations = max(1, int(minutes * 60 / per_step))
        log(f"timing: {per_step:.3f} s per iteration -> {iterations} iterations in "
            f"{minutes:g} minutes")
    from tpgan_tf.core.config import apply_overrides

    rows, bicubic, sheet, examples = [], None, None, 0
    trained = {}
    for name in runs:
        run_dir = os.path.join(output_dir, name)
        cfg = configs[name]
        if name in fresh:
            cfg = apply_overrides(cfg, [f"train.num_iterations={iterations}"])
        else:
            with open(os.path.join(run_dir, "config.json")) as f:
                saved = json.load(f)["train"]["num_iterations"]
            cfg = apply_overrides(cfg, [f"train.num_iterations={saved}"])
            log(f"{name}: resuming {run_dir} to its {saved} iterations")
        trained[name] = train_run(cfg, records, run_dir, log)
    models = [(name, os.path.join(output_dir, name), RUN_LABELS[name],
               f"{faces} real ({os.path.basename(os.path.normpath(train_hr_dir))})")
              for name in runs]
    if demo_model_dir:
        models.insert(0, ("demo", demo_model_dir, "FSRNet demo model", "synthetic"))
    for name, model_dir, label, trained_on in models:
        scores = evaluate(model_dir, test_hr_dir, test_lr_dir,
                          os.path.join(output_dir, f"eval_{name}"), test_set)
        bicubic, examples = scores["bicubic"], scores["examples"]
        if name == "priors" or (sheet is None and name != "demo"):
            sheet = scores["sheet"]
        rows.append({"name": name, "label": label, "trained_on": trained_on,
                     "psnr": scores["fsrnet"][0], "ssim": scores["fsrnet"][1],
                     "page": scores["page"], **trained.get(name, {})})
        log(f"{label}: Y-PSNR {scores['fsrnet'][0]:.2f} dB, SSIM {scores['fsrnet'][1]:.4f} "
            f"(bicubic {bicubic[0]:.2f} dB)")
    markdown = table(rows, bicubic, test_set, examples)
    shown_sheet = None
    if sheet and os.path.exists(sheet):
        shown_sheet = os.path.join(output_dir, f"{test_set}_sheet.png")
        shutil.copyfile(sheet, shown_sheet)
    results = {"test_set": test_set, "test_hr_dir": test_hr_dir, "test_lr_dir": test_lr_dir,
               "train_hr_dir": train_hr_dir, "training_faces": faces, "crop": crop,
               "preset": PRESET, "overrides": list(overrides), "cpu": cpu_name(),
               "bicubic": {"psnr": bicubic[0], "ssim": bicubic[1]}, "rows": rows,
               "sheet": shown_sheet, "table_markdown": markdown}
    with open(os.path.join(output_dir, "fsrnet_real_faces.json"), "w") as f:
        json.dump(results, f, indent=2)
    note = (f"Training: {faces} real faces of `{train_hr_dir}` (records: data_prep "
            f"--source=folder, crop {crop}), preset `{PRESET}`"
            + (f" with {' '.join(overrides)}" if overrides else "") + f"; CPU: {cpu_name()}. "
            "Test: the official protocol (fsrnet spec 9) on the test pairs.")
    with open(os.path.join(output_dir, "fsrnet_real_faces.md"), "w") as f:
        f.write(markdown + "\n\n" + note + "\n"
                + (f"\n![{test_set}: the run with priors against bicubic and HR]"
                   f"({os.path.basename(shown_sheet)})\n" if shown_sheet else ""))
    return results


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    from experiments import common

    try:
        results = run(FLAGS.train_hr_dir, FLAGS.test_hr_dir, FLAGS.test_lr_dir,
                      FLAGS.output_dir, minutes=FLAGS.minutes, iterations=FLAGS.iterations,
                      runs=FLAGS.runs, crop=FLAGS.crop, demo_model_dir=FLAGS.demo_model_dir,
                      test_set=FLAGS.test_set, overrides=FLAGS.override, workers=FLAGS.workers,
                      log=log)
    except common.USER_ERRORS as err:
        common.fail(err)
    print(results["table_markdown"])
    print(f"written: {os.path.join(FLAGS.output_dir, 'fsrnet_real_faces.md')}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
