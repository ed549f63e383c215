"""DR-GAN's evaluation (`python -m experiments.evaluate --model_dir=RUN --data_dir=...`):
`DrganEvaluator` runs both protocols with the options of the config's `eval` section
(config.EvalConfig, set by --override=eval.<field>=...) and writes the results page.

  (a) DR-GAN's own protocol (drgan spec 5.1, identification.py) on the test IMAGE records of
      --data_dir: rank-1 per |yaw| with the cosine of f(x); with eval.lightcnn_weights also
      Light-CNN on the raw aligned images as a baseline row.
  (b) TP-GAN's frontalization protocol (tpgan spec 7.1, frontal_protocol.py) on the test PAIR
      records of eval.pairs_dir with the same Light-CNN (eval.lightcnn_weights; without it
      only L1 / PSNR / SSIM): DR-GAN's frontal syntheses next to TP-GAN's on one test set.

Files in output_dir: results.json (kind "recognition": protocol (a), "summary_tables" for
the demo's combined page, a summary of (b)), results.md / index.html, pose_codes.png (held-out
faces rendered at every pose code), and frontal/ (protocol (b)'s own results.json with kind
"frontalization", its page, plot and sheets; the demo page groups it with TP-GAN's results
on the same pair records).
"""
from __future__ import annotations

import os
import sys

import numpy as np

from tpgan_tf.data.pipeline import list_shards, split_pattern
from tpgan_tf.evaluation import frontalization as fr
from tpgan_tf.evaluation import report, sheets
from tpgan_tf.evaluation.evaluator import Evaluator
from tpgan_tf.evaluation.frontalization_report import write_report
from tpgan_tf.models.drgan import frontal_protocol, identification
from tpgan_tf.models.drgan.serving import DrganServing, to_uint8

POSE_SHEET = "pose_codes.png"
POSE_SHEET_CAPTION = "held-out faces: input | rendered at every pose code of the pose set"
FRONTAL_SUBDIR = "frontal"


def _progress(show: bool, unit: str):
    from tqdm import tqdm

    bar = tqdm(desc=f"evaluating ({unit}s)", unit=unit, disable=not show, file=sys.stderr)
    done = [0]

    def update(n):
        bar.update(n - done[0])
        done[0] = n

    return bar, update


def identification_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows): rank-1 % per |yaw| of every method of protocol (a), then the paper."""
    poses = sorted(int(p) for p in results["poses"])
    header = ["Method"] + [report.pose_label(p) for p in poses] + ["all probes"]
    rows = []
    for method, label in results["methods"].items():
        rows.append([label] + [report.fmt(results["poses"][str(p)]["rank1_percent"].get(method))
                               for p in poses]
                    + [report.fmt(results["rank1_percent_all_probes"].get(method))])
    for name, row in results.get("paper_rows", {}).items():
        rows.append([f"{name} (recalled, unverified)"]
                    + [report.fmt(row.get(str(p))) for p in poses] + ["–"])
    return header, rows


def counts_table(results: dict) -> tuple[list[str], list[list[str]]]:
    poses = sorted(int(p) for p in results["poses"])
    header = ["Pose"] + [report.pose_label(p) for p in poses]
    return header, [["images"] + [str(results["poses"][str(p)]["images"]) for p in poses],
                    ["probes"] + [str(results["poses"][str(p)]["probes"]) for p in poses]]


def write_pose_sheet(path: str, task, aligned: list[np.ndarray]) -> str | None:
    """Held-out faces (aligned uint8 [128, 128, 3]) rendered at every pose code: one row per
    face, columns input (the network's test crop) | every view. Returns path or None."""
    if not aligned:
        return None
    cfg = task.config
    end = DrganServing.for_task(task)
    views = cfg.data.num_views
    rows = []
    from tpgan_tf.models.drgan.inputs import eval_input
    for image in aligned:
        batch = np.repeat(image[None], views, axis=0)
        out = end.run("rotate", batch, np.arange(views, dtype=np.int32))["image"]
        crop = to_uint8(eval_input(image[None], cfg.data.load_size,
                                           cfg.data.image_size)).numpy()[0]
        rows.append(("", [crop, *out]))
    titles = ["input"] + [f"{i * 15 - cfg.data.max_yaw:+d}" for i in range(views)]
    sheets.write_png(path, sheets.picture_sheet(
        rows, titles, "held-out faces at every pose code (yaw in degrees; z = 0)"))
    return path


def evaluate(task, data_dir: str, output_dir: str, *, pairs_dir: str | None = None,
             lightcnn_weights: str | None = None, lightcnn_width: float | None = None,
             split: str = "test", batch_size: int = 16, max_examples: int = 0,
             sheet_rows: int = 6, show_progress: bool = True,
             run_info: dict | None = None) -> tuple[dict, str]:
    """Both protocols of the module doc for a restored DrganTask; returns (results of (a) with
    a summary of (b), path of index.html). DR-GAN evaluates with z = 0."""
    if not data_dir:
        raise ValueError("--data_dir (the DR-GAN image records) is required")
    pattern = split_pattern(data_dir, split)
    list_shards(pattern)  # fail early, naming the pattern, before any model work
    pairs_pattern = split_pattern(pairs_dir, split) if pairs_dir else None
    if pairs_pattern:
        list_shards(pairs_pattern)
    lcnn = None
    if lightcnn_weights:
        from tpgan_tf.identity.weights import load_lightcnn
        lcnn = load_lightcnn(lightcnn_weights, lightcnn_width)
    cfg = task.config
    os.makedirs(output_dir, exist_ok=True)
    bar, update = _progress(show_progress, "image")
    results, shown = identification.evaluate_identification(
        task.encoder, cfg, pattern, batch_size=batch_size, max_examples=max_examples,
        lightcnn=lcnn, keep_inputs=sheet_rows, progress=update)
    bar.close()
    report.mark_weights(results, run_info)
    results["run"] = {"data": pattern, **(run_info or {}), "config": cfg.name,
                      "width": cfg.model.width, "lightcnn_weights": lightcnn_weights,
                      "batch_size": batch_size, "max_examples": max_examples}
    sheet = write_pose_sheet(os.path.join(output_dir, POSE_SHEET), task, list(shown.values()))
    results["pictures"] = [report.picture(POSE_SHEET, POSE_SHEET_CAPTION)] if sheet else []
    results["summary_tables"] = [{
        "title": "DR-GAN: rank-1 (%) by its own protocol (f(x), drgan spec 5.1)",
        "header": identification_table(results)[0], "rows": identification_table(results)[1],
        "note": identification.PAPER_NOTE}]
    frontal = None
    if pairs_pattern:
        bar, update = _progress(show_progress, "pair")
        frontal, data = frontal_protocol.evaluate_frontalization(
            task.encoder, task.decoder, cfg, pairs_pattern, lcnn, batch_size=batch_size,
            max_examples=max_examples, sheet_rows=sheet_rows, progress=update)
        bar.close()
        report.mark_weights(frontal, run_info)
        frontal["run"] = {**results["run"], "data": pairs_pattern}
        write_report(os.path.join(output_dir, FRONTAL_SUBDIR), frontal, data.samples,
                     title="DR-GAN frontal syntheses by TP-GAN's protocol (tpgan spec 7.1)",
                     paper_rows=frontal["paper_rows"], paper_note=frontal["paper_note"])
        results["frontalization"] = {
            "page": f"{FRONTAL_SUBDIR}/index.html", "data": pairs_pattern,
            "method": frontal["method"], "poses": frontal["poses"],
            "rank1_percent_all_probes": frontal["rank1_percent_all_probes"],
            "pairs": frontal["pairs"], "probes": frontal["probes"]}
    page = _write_page(output_dir, results, frontal, sheet)
    return results, page


def _write_page(output_dir: str, results: dict, frontal: dict | None, sheet: str | None) -> str:
    report.write_json(results, os.path.join(output_dir, "results.json"))
    page = report.Page("DR-GAN evaluation", f"{results['subjects']} test subjects (gallery: one "
                       f"frontal image each), {results['probes']} probes out of "
                       f"{results['images']} test images.")
    page.items(results["run"])
    page.heading("Rank-1 identification (%) by DR-GAN's protocol (f(x), drgan spec 5.1)")
    page.table(*identification_table(results))
    page.note(results["paper_note"])
    page.heading("Counts per pose")
    page.table(*counts_table(results))
    if sheet:
        page.heading("Held-out faces at every pose code")
        page.image(os.path.basename(sheet), POSE_SHEET_CAPTION)
    if frontal is not None:
        page.heading("Frontal syntheses by TP-GAN's protocol (tpgan spec 7.1, pair records)")
        page.table(*fr.rank1_table([frontal], frontal["paper_rows"]))
        page.note(frontal["paper_note"])
        page.table(*fr.quality_table(frontal))
        page.link(f"{FRONTAL_SUBDIR}/index.html", "Full frontalization results page")
    else:
        page.note("TP-GAN's frontalization protocol was not run (set eval.pairs_dir and "
                  "eval.lightcnn_weights).")
    page.heading("Protocol")
    page.items(results["protocol"])
    page.link("results.json", "All numbers: results.json")
    return page.write(output_dir)


def summary_text(results: dict) -> str:
    """The tables for the terminal after an evaluation."""
    lines = [report.markdown_table(*identification_table(results)),
             f"{results['probes']} probes, {results['subjects']} gallery subjects"]
    if results.get("frontalization"):
        f = results["frontalization"]
        overall = ", ".join(f"{k} {v:.2f}" for k, v in f["rank1_percent_all_probes"].items()
                            if v is not None)
        lines.append(f"frontal syntheses (TP-GAN protocol, {f['probes']} probes): rank-1 % "
                     f"{overall or '- (no Light-CNN)'}; page {f['page']}")
    return "\n".join(lines)


class DrganEvaluator(Evaluator):
    """Both protocols of the module doc with the options of the config's `eval` section
    ("" / 0 = not given)."""

    def evaluate(self, data_dir, output_dir, *, run_info=None, show_progress=True):
        e = self.config.eval
        return evaluate(self.task, data_dir, output_dir, pairs_dir=e.pairs_dir or None,
                        lightcnn_weights=e.lightcnn_weights or None,
                        lightcnn_width=e.lightcnn_width or None, split=e.split,
                        batch_size=e.batch_size, max_examples=e.max_examples,
                        sheet_rows=e.sheet_rows, show_progress=show_progress,
                        run_info=run_info)

    summary_text = staticmethod(summary_text)

    @staticmethod
    def headlines(results: dict) -> list:
        """f(x) rank-1 per |yaw| (next to Light-CNN on the raw images when it ran), then the
        frontal syntheses' rank-1 per |yaw| and PSNR by TP-GAN's protocol (next to the raw
        profile's) when it ran."""
        from tpgan_tf.evaluation.evaluator import Headline

        poses = sorted(int(p) for p in results["poses"] if int(p) > 0)
        rank1 = {p: results["poses"][str(p)]["rank1_percent"] for p in poses}
        out = [Headline("f(x) rank-1 (%)", report.pose_label(p),
                        rank1[p].get(identification.METHOD),
                        rank1[p].get(identification.BASELINE), "Light-CNN, raw image")
               for p in poses]
        if results.get("frontalization"):
            out += fr.headlines(results["frontalization"], prefix="frontal ")
        return out
