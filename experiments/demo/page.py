"""The combined results page of `make demo` (<workdir>/index.html): every model's main tables,
frontalization models evaluated on the same pair records side by side (one Table-1 layout and
one plot), the stage timings, and links to each model's own results page."""
from __future__ import annotations

import json
import os

from tpgan_tf.evaluation import frontalization as fr
from tpgan_tf.evaluation.frontalization_report import plot_rank1
from tpgan_tf.evaluation.report import Page


def _results_files(results_dir: str) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(results_dir):
        dirs.sort()
        if "results.json" in files:
            found.append(os.path.join(folder, "results.json"))
    return found


def build(workdir: str, results_dirs: dict[str, str], timings: dict[str, float]) -> str:
    """results_dirs: {model: its results folder}. Returns the path of the page."""
    page = Page("tpgan-tf demo results", "Every model of `make demo`, trained a few minutes on "
                "the built-in synthetic faces (not Multi-PIE, Helen or CelebA): the numbers show "
                "that the pipelines work end to end, not the papers' results.")
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
        page.heading(f"Frontalization: rank-1 (%) on the same test pairs ({labels})")
        page.paragraph(f"Test pairs: {data}; identity network: Light-CNN-29 of the demo.")
        page.table(*fr.rank1_table(group, paper))
        for r in group:
            if r.get("paper_note"):
                page.note(r["paper_note"])
        plot = f"rank1_vs_yaw_{i}.png"
        plot_rank1(os.path.join(workdir, plot), group, paper)
        page.image(plot, "rank-1 against |yaw|")
        for r in group:
            page.link(f"{r['_page']}/index.html", f"{r['method_label']}: full results page")
    for model, rel, results in others:
        for table in results.get("summary_tables", []):
            page.heading(table["title"])
            page.table(table["header"], table["rows"])
            if table.get("note"):
                page.note(table["note"])
        page.link(f"{rel}/index.html", f"{model}: full results page")
    if timings:
        page.heading("Stage timings of this run (s)")
        page.table(["stage", "seconds"], [[k, f"{v:.0f}"] for k, v in timings.items()])
    return page.write(workdir, markdown_name="index.md")
