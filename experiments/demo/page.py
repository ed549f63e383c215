"""The combined results page of `make demo` (<workdir>/index.html): every model's pictures first
and its main tables next to them (a person looks before reading), the frontalization models
evaluated on the same pair records side by side (one Table-1 layout and one plot), the
learning curves committed under benchmarks/results (benchmarks/learning_curves.py), the stage
timings, and links to each model's own results page."""
from __future__ import annotations

import json
import os
import re
import shutil

from tpgan_tf.evaluation import frontalization as fr
from tpgan_tf.evaluation.frontalization_report import plot_rank1
from tpgan_tf.evaluation.report import Page

# The committed curves: benchmarks/results/<model>_learning_curves.{png,md} of this checkout.
CURVES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks", "results")


def _results_files(results_dir: str) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(results_dir):
        dirs.sort()
        if "results.json" in files:
            found.append(os.path.join(folder, "results.json"))
    return found


def _pictures(page: Page, rel: str, results: dict) -> None:
    """The pictures a results.json names ("pictures"), paths made relative to the page."""
    for picture in results.get("pictures", []):
        page.image(f"{rel}/{picture['path']}", picture["caption"])


def _curve_facts(markdown: str) -> str:
    """'CPU ..., stopped ...' from a curves.md's run information (empty if absent)."""
    facts = []
    for key in ("cpu", "stopped"):
        found = re.search(rf"^- {key}: `([^`]*)`", markdown, flags=re.MULTILINE)
        if found:
            facts.append(f"{key} {found.group(1)}")
    return "; ".join(facts)


def add_learning_curves(page: Page, workdir: str, models, curves_dir: str = CURVES_DIR) -> None:
    """Copies each model's committed curve (plot and table) into <workdir>/curves/ and shows
    it; says so for a model that has none."""
    page.heading("Learning curves (committed measurements, not this run)")
    page.paragraph("benchmarks/learning_curves.py trains each model's demo preset longer than "
                   "the demo and evaluates it by the model's own protocol on the held-out "
                   "identities at fixed intervals; dashed lines are the trivial baselines (raw "
                   "profile, bicubic). Tables with every value: the linked files.")
    os.makedirs(os.path.join(workdir, "curves"), exist_ok=True)
    for model in models:
        png, md = (os.path.join(curves_dir, f"{model}_learning_curves.{ext}")
                   for ext in ("png", "md"))
        if not (os.path.exists(png) and os.path.exists(md)):
            page.note(f"{model}: no committed learning curve in {curves_dir}.")
            continue
        for path in (png, md):
            shutil.copyfile(path, os.path.join(workdir, "curves", os.path.basename(path)))
        with open(md) as f:
            facts = _curve_facts(f.read())
        page.image(f"curves/{os.path.basename(png)}", f"{model}: {facts}" if facts else model)
        page.link(f"curves/{os.path.basename(md)}", f"{model}: the curve's table")


def build(workdir: str, results_dirs: dict[str, str], timings: dict[str, float],
          curves_dir: str = CURVES_DIR) -> str:
    """results_dirs: {model: its results folder}. Returns the path of the page."""
    page = Page("tpgan-tf demo results", "Every model of `make demo`, trained a few minutes on "
                "the built-in synthetic faces (not Multi-PIE, Helen or CelebA): the numbers show "
                "that the pipelines work end to end, not the papers' results. Pictures first, "
                "then the numbers.")
    frontal: dict[str, list[dict]] = {}
    others = []
    for model, folder in results_dirs.items():
        for path in _results_files(folder):
            with open(path) as f:
                results = json.load(f)
            rel = os.path.relpath(os.path.dirname(path), workdir)
            if results.get("kind") == "frontalization":
                frontal.setdefault(results.get("run", {}).get("data", "?"), []).append(
                    {**results, "_page": rel})
            else:
                others.append((model, rel, results))
    for i, (data, group) in enumerate(sorted(frontal.items())):
        group.sort(key=lambda r: r["method"] != "tpgan")  # TP-GAN first
        paper = {}
        for r in group:
            paper.update(r.get("paper_rows") or {})
        labels = ", ".join(r["method_label"] for r in group)
        page.heading(f"Frontalization on the same test pairs ({labels})")
        for r in group:
            _pictures(page, r["_page"], r)
        page.paragraph(f"Rank-1 (%). Test pairs: {data}; identity network: Light-CNN-29 of "
                       "the demo.")
        page.table(*fr.rank1_table(group, paper))
        for r in group:
            if r.get("paper_note"):
                page.note(r["paper_note"])
        plot = f"rank1_vs_yaw_{i}.png"
        plot_rank1(os.path.join(workdir, plot), group, paper)
        page.image(plot, "rank-1 against |yaw|")
        page.heading("Image quality against the frontal ground truth")
        for r in group:
            page.paragraph(r["method_label"])
            page.table(*fr.quality_table(r))
        for r in group:
            page.link(f"{r['_page']}/index.html", f"{r['method_label']}: full results page")
    for model, rel, results in others:
        tables = results.get("summary_tables", [])
        page.heading(tables[0]["title"] if tables else f"{model}: results")
        _pictures(page, rel, results)
        for j, table in enumerate(tables):
            if j:
                page.paragraph(table["title"])
            page.table(table["header"], table["rows"])
            if table.get("note"):
                page.note(table["note"])
        page.link(f"{rel}/index.html", f"{model}: full results page")
    add_learning_curves(page, workdir, list(results_dirs), curves_dir)
    if timings:
        page.heading("Stage timings of this run (s)")
        page.table(["stage", "seconds"], [[k, f"{v:.0f}"] for k, v in timings.items()])
    return page.write(workdir, markdown_name="index.md")
