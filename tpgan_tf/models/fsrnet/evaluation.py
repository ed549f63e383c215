"""FSRNet's evaluation by the official protocol (fsrnet spec 9), for the model and plain bicubic:
`FsrnetEvaluator`, run by experiments.evaluate with the options of the config's `eval`
section (config.EvalConfig).

    python -m experiments.evaluate --model=fsrnet --model_dir=RUN --data_dir=RECORDS
    python -m experiments.evaluate --model=fsrnet --model_dir=RUN --output_dir=OUT \
        --override=eval.hr_dir=HR --override=eval.lr_dir=LR --override=eval.test_set=helen50
    python -m experiments.evaluate --model=fsrnet --override=eval.method=bicubic \
        --override=eval.hr_dir=HR --override=eval.lr_dir=LR --output_dir=OUT
                                           # bicubic alone: no run, no preset needed

Per image (tpgan_tf/evaluation/sr_metrics.py): Y-PSNR on the MATLAB BT.601 luma truncated to
bytes, MSE clamped to >= 1, no border crop (the official Torch7 script), and SSIM on the same
Y plane (Gaussian 11 x 11, sigma 1.5); the reported numbers are the means of the per-image
values, per method ("bicubic": the network input x itself, i.e. the bicubic-upsampled LR;
"fsrnet": y_hat clipped to [0, 1]) and test set. Where the test records have landmarks, the
NME (inter-ocular, sr_metrics.nme) of the landmarks read off the prior head's heatmaps
(priors.heatmap_landmarks) against the ground truth. The model runs with training=False.

Writes results.json, results.md / index.html (report.py), per_image.csv and picture sheets.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time

import numpy as np

from tpgan_tf.evaluation import sr_metrics
from tpgan_tf.evaluation.evaluator import Evaluator
from tpgan_tf.models.fsrnet.config import EVAL_METHODS as METHODS


def _default_name(data_dir, hr_dir) -> str:
    path = hr_dir or data_dir or "test"
    return os.path.basename(os.path.normpath(path)) or "test"


class Scores:
    """Per-image values of one test set, by method, and the first examples for sheets."""

    def __init__(self, methods, sheet_rows: int):
        self.methods = list(methods)
        self.rows: list[dict] = []
        self.samples: list[dict] = []
        self.nme: list[float] = []
        self.sheet_rows = sheet_rows

    def add(self, batch: dict, outputs: dict) -> None:
        """batch: eval_data batch; outputs: {method: [b, S, S, 3] float images}."""
        per = {m: (sr_metrics.y_psnr(outputs[m], batch["hr"]),
                   sr_metrics.y_ssim(outputs[m], batch["hr"])) for m in self.methods}
        nme = outputs.get("nme")
        for i, name in enumerate(batch["names"]):
            row = {"name": name}
            for m, (psnr, ssim) in per.items():
                row[f"{m}_psnr"], row[f"{m}_ssim"] = float(psnr[i]), float(ssim[i])
            if nme is not None:
                row["nme"] = float(nme[i])
                self.nme.append(float(nme[i]))
            self.rows.append(row)
            if len(self.samples) < self.sheet_rows:
                self.samples.append({"name": name, "hr": batch["hr"][i], "x": batch["x"][i],
                                     "lr": None if batch["lr"] is None else batch["lr"][i],
                                     **{m: outputs[m][i] for m in self.methods},
                                     "nme": None if nme is None else float(nme[i])})

    def summary(self) -> dict:
        out = {"examples": len(self.rows), "methods": {}}
        for m in self.methods:
            out["methods"][m] = {
                "psnr": sr_metrics.mean_of([r[f"{m}_psnr"] for r in self.rows]),
                "ssim": sr_metrics.mean_of([r[f"{m}_ssim"] for r in self.rows])}
        if self.nme:
            out["nme"] = sr_metrics.mean_of(self.nme)
        return out


def run_protocol(batches, resolver=None, *, methods=("bicubic", "fsrnet"), landmark_scheme: str = "ibug68",
                 num_landmarks: int = 0, sheet_rows: int = 6, progress=None) -> Scores:
    """Scores every batch (eval_data batches). resolver: a serving.SuperResolver (None with
    methods == ("bicubic",))."""
    from tpgan_tf.models.fsrnet.priors import heatmap_landmarks

    scores = Scores(methods, sheet_rows)
    for batch in batches:
        outputs = {"bicubic": batch["x"]}
        if "fsrnet" in methods:
            out = resolver.generate(batch["x"])
            outputs["fsrnet"] = np.clip(out["sr"].numpy(), 0.0, 1.0)
            if batch["landmarks"] is not None and num_landmarks:
                size = batch["hr"].shape[1]
                predicted = heatmap_landmarks(out["priors"][..., :num_landmarks], size).numpy()
                outputs["nme"] = sr_metrics.nme(predicted, batch["landmarks"], landmark_scheme)
        scores.add(batch, outputs)
        if progress is not None:
            progress(len(scores.rows))
    return scores


def evaluate(task, data_dir: str | None, output_dir: str, *, hr_dir: str | None = None,
             lr_dir: str | None = None, method: str = "fsrnet", test_set: str | None = None,
             split: str = "test", batch_size: int = 16, max_examples: int = 0,
             sheet_rows: int = 6, show_progress: bool = True, run_info: dict | None = None,
             **unused) -> tuple[dict, str]:
    """The whole evaluation of a restored FsrnetTask (module doc) with explicit options (the
    fields of config.EvalConfig); returns (results, page). unused: the common options other
    models use (z_seed, ...)."""
    from tqdm import tqdm

    from tpgan_tf.data.pipeline import list_shards, split_pattern
    from tpgan_tf.models.fsrnet import eval_data, report
    from tpgan_tf.models.fsrnet.serving import SuperResolver

    if method not in METHODS:
        raise ValueError(f"eval.method must be one of {METHODS}, got {method!r}")
    if bool(hr_dir) != bool(lr_dir):
        raise ValueError("give both eval.hr_dir and eval.lr_dir (folders of test pairs), or "
                         "neither")
    if hr_dir and data_dir:
        raise ValueError("give --data_dir (test records) or eval.hr_dir / eval.lr_dir "
                         "(folders), not both")
    if not hr_dir and not data_dir:
        raise ValueError("FSRNet evaluation needs --data_dir (test records) or eval.hr_dir and "
                         "eval.lr_dir (folders of test pairs, --override=eval.hr_dir=...)")
    cfg = task.config
    size = cfg.model.image_size
    small = size // cfg.degradation.scale
    skipped: list[dict] = []
    if hr_dir:
        pairs, skipped = eval_data.folder_pairs(hr_dir, lr_dir)
        batches = eval_data.folder_batches(pairs, batch_size, size, small, skipped, max_examples)
        data = {"hr_dir": hr_dir, "lr_dir": lr_dir}
        description = eval_data.describe_folders(hr_dir)
        total = min(len(pairs), max_examples) if max_examples else len(pairs)
    else:
        pattern = split_pattern(data_dir, split)
        list_shards(pattern)  # fail early, naming the pattern
        count, scheme = eval_data.records_landmarks(pattern)
        if count != cfg.priors.num_landmarks:
            if method != "bicubic":
                raise ValueError(f"{pattern}: the records hold {count} landmarks ({scheme}), "
                                 f"the model's config {cfg.name!r} "
                                 f"predicts {cfg.priors.num_landmarks}; evaluate a model "
                                 "trained on this kind of records")
            # bicubic alone needs no priors: read the records with their own landmark count
            cfg = dataclasses.replace(cfg, priors=dataclasses.replace(
                cfg.priors, num_landmarks=count, landmark_scheme=scheme))
        batches = eval_data.record_batches(pattern, cfg, batch_size, max_examples)
        data = {"records": pattern}
        description = eval_data.describe_records(data_dir, split)
        total = max_examples or None
    name = test_set or _default_name(data_dir, hr_dir)
    methods = ("bicubic", "fsrnet") if method == "fsrnet" else ("bicubic",)
    resolver = SuperResolver.for_task(task) if "fsrnet" in methods else None
    bar = tqdm(total=total, desc=f"evaluating {name}", unit="face", disable=not show_progress,
               file=sys.stderr)
    done = [0]

    def progress(n):
        bar.update(n - done[0])
        done[0] = n

    start = time.perf_counter()
    scores = run_protocol(batches, resolver, methods=methods,
                          landmark_scheme=cfg.priors.landmark_scheme,
                          num_landmarks=cfg.priors.num_landmarks, sheet_rows=sheet_rows,
                          progress=progress)
    bar.close()
    if not scores.rows:
        raise ValueError(f"no test pair could be read ({len(skipped)} skipped; first: "
                         f"{skipped[0] if skipped else '-'})")
    run = {**data, "batch_size": batch_size, "max_examples": max_examples}
    if resolver is not None:
        run.update(run_info or {}, config=cfg.name, landmark_scheme=cfg.priors.landmark_scheme)
    else:
        run["network"] = "none (bicubic alone)"
    results = {"kind": "super_resolution", "model": "fsrnet", "method": method,
               "random_weights": resolver is not None and bool((run_info or {}).get(
                   "random_weights")),
               "test_sets": {name: {**scores.summary(), "description": description}},
               "skipped": skipped,
               "seconds": round(time.perf_counter() - start, 2), "run": run}
    page = report.write_report(output_dir, results, scores, name)
    return results, page


class FsrnetEvaluator(Evaluator):
    """Spec 9 on test records (--data_dir) or folders of pairs (eval.hr_dir, eval.lr_dir),
    with the options of the config's `eval` section."""

    @classmethod
    def needs_trained_weights(cls, config) -> bool:
        """eval.method=bicubic scores the bicubic input alone: no network."""
        return config.eval.method != "bicubic"

    def evaluate(self, data_dir, output_dir, *, run_info=None, show_progress=True):
        e = self.config.eval
        return evaluate(self.task, data_dir, output_dir, hr_dir=e.hr_dir or None,
                        lr_dir=e.lr_dir or None, method=e.method, test_set=e.test_set or None,
                        split=e.split, batch_size=e.batch_size, max_examples=e.max_examples,
                        sheet_rows=e.sheet_rows, show_progress=show_progress,
                        run_info=run_info)

    @staticmethod
    def summary_text(results: dict) -> str:
        """One line per test set and method (report.summary_text)."""
        from tpgan_tf.models.fsrnet.report import summary_text
        return summary_text(results)

    @staticmethod
    def headlines(results: dict) -> list:
        """Per test set: Y-PSNR and SSIM of FSRNet next to bicubic's, and the prior head's NME
        where the records have landmarks (with eval.method=bicubic: bicubic alone)."""
        from tpgan_tf.evaluation.evaluator import Headline

        out = []
        for name, scores in results["test_sets"].items():
            methods = scores["methods"]
            ours = methods.get("fsrnet", {})
            for metric, panel in (("psnr", "Y-PSNR (dB)"), ("ssim", "SSIM")):
                out.append(Headline(panel, name, ours.get(metric),
                                    methods["bicubic"][metric], "bicubic"))
            if scores.get("nme") is not None:
                out.append(Headline("NME", name, scores["nme"], higher_is_better=False))
        return out
