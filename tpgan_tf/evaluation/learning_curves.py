"""Learning-curve files: a model's headline numbers (evaluator.Headline) at successive training
iterations, as a table (curves.md, curves.json) and a plot (curves.png: every panel against
iterations on top and against training minutes below, each baseline a dashed line of its
colour). Written by benchmarks/learning_curves.py; any model, since the headlines name
themselves.

    points = [CurvePoint(0, 0.0, 12.0, evaluator.headlines(results0), "eval_0"), ...]
    write_curves("out", points, title="fsrnet `demo`", info={"cpu": ...})
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Sequence

from tpgan_tf.core import files
from tpgan_tf.evaluation import report
from tpgan_tf.evaluation.evaluator import Headline

TABLE, DATA, PLOT = "curves.md", "curves.json", "curves.png"


@dataclasses.dataclass
class CurvePoint:
    """One evaluation of a run.

    iteration: the checkpoint's iteration. train_seconds: training wall time up to it (input,
    tracing and checkpoints included, evaluations excluded). elapsed_seconds: since the start,
    evaluations included. eval_dir: where its results page is (relative to the output)."""

    iteration: int
    train_seconds: float
    elapsed_seconds: float
    headlines: Sequence[Headline]
    eval_dir: str = ""


def columns(points: Sequence[CurvePoint]) -> list[Headline]:
    """Every headline name in first-seen order, as the Headline of its latest point (whose
    baseline is the one shown: baselines do not depend on the model's weights)."""
    latest: dict[str, Headline] = {}
    for point in points:
        for h in point.headlines:
            latest[h.name] = h
    return list(latest.values())


def _value(point: CurvePoint, name: str):
    return next((h.value for h in point.headlines if h.name == name), None)


def table(points: Sequence[CurvePoint]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): the baselines first (where any), then one row per point in order."""
    cols = columns(points)
    header = ["iteration", "training (min)", "elapsed (min)"] + [h.name for h in cols]
    rows = []
    labels = sorted({h.baseline_label for h in cols if h.baseline is not None})
    if labels:
        rows.append([f"baseline: {'; '.join(labels)}", "–", "–"]
                    + [report.fmt(h.baseline, _digits(h)) for h in cols])
    for p in points:
        rows.append([str(p.iteration), f"{p.train_seconds / 60:.1f}",
                     f"{p.elapsed_seconds / 60:.1f}"]
                    + [report.fmt(_value(p, h.name), _digits(h)) for h in cols])
    return header, rows


def _digits(h: Headline) -> int:
    errors_and_ratios = ("SSIM", "NME", "face colour error")
    return 4 if h.panel.endswith(errors_and_ratios) else 2


def as_dict(points: Sequence[CurvePoint], title: str, info: dict) -> dict:
    """The contents of curves.json."""
    cols = columns(points)
    return {"title": title, "info": info,
            "columns": [{"name": h.name, "panel": h.panel, "label": h.label,
                         "baseline": h.baseline, "baseline_label": h.baseline_label,
                         "higher_is_better": h.higher_is_better} for h in cols],
            "rows": [{"iteration": p.iteration, "train_seconds": round(p.train_seconds, 1),
                      "elapsed_seconds": round(p.elapsed_seconds, 1), "eval_dir": p.eval_dir,
                      "values": {h.name: _value(p, h.name) for h in cols}} for p in points]}


def points_from_dict(data: dict) -> list[CurvePoint]:
    """The points of a curves.json (as_dict's contents), to continue a curve: every value with
    its column's headline (the latest baseline, as the table shows)."""
    cols = data["columns"]
    return [CurvePoint(row["iteration"], row["train_seconds"], row["elapsed_seconds"],
                       [Headline(c["panel"], c["label"], row["values"].get(c["name"]),
                                 c["baseline"], c["baseline_label"], c["higher_is_better"])
                        for c in cols if c["name"] in row["values"]], row.get("eval_dir", ""))
            for row in data["rows"]]


def plot(path: str, points: Sequence[CurvePoint], title: str) -> None:
    """curves.png: one column of panels per Headline.panel; the top row against iterations,
    the bottom row against training minutes; solid lines the model, dashed its baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    cols = columns(points)
    panels = list(dict.fromkeys(h.panel for h in cols))
    fig, axes = plt.subplots(2, len(panels), figsize=(5.2 * len(panels), 8.0), dpi=100,
                             squeeze=False)
    xs = {"iteration": [p.iteration for p in points],
          "training time (min)": [p.train_seconds / 60 for p in points]}
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, panel in enumerate(panels):
        lines = [h for h in cols if h.panel == panel]
        for i, (xlabel, x) in enumerate(xs.items()):
            ax = axes[i][j]
            for k, h in enumerate(lines):
                colour = colours[k % len(colours)]
                ys = [_value(p, h.name) for p in points]
                ys = [math.nan if y is None else y for y in ys]
                ax.plot(x, ys, "-o", color=colour, linewidth=2, markersize=4, label=h.label)
                if h.baseline is not None:
                    ax.axhline(h.baseline, color=colour, linestyle="--", linewidth=1, alpha=0.8)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(panel)
            ax.grid(True, alpha=0.3)
        handles, labels = axes[0][j].get_legend_handles_labels()
        base = sorted({h.baseline_label for h in lines if h.baseline is not None})
        if base:
            handles.append(Line2D([], [], color="grey", linestyle="--"))
            labels.append(f"dashed: {'; '.join(base)}")
        best = "higher is better" if lines[0].higher_is_better else "lower is better"
        axes[0][j].set_title(f"{panel} ({best})", fontsize=10)
        axes[0][j].legend(handles, labels, fontsize=8, loc="best")
    fig.suptitle(title)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def write_curves(output_dir: str, points: Sequence[CurvePoint], *, title: str,
                 info: dict | None = None) -> dict[str, str]:
    """Writes curves.md (title, run information, table), curves.json and curves.png into
    output_dir; returns {"table", "data", "plot"}: their paths."""
    if not points:
        raise ValueError("no evaluation to write")
    if not columns(points):
        raise ValueError("the evaluations give no headline numbers")
    info = dict(info or {})
    os.makedirs(output_dir, exist_ok=True)
    paths = {k: os.path.join(output_dir, name)
             for k, name in (("table", TABLE), ("data", DATA), ("plot", PLOT))}
    report.write_json(as_dict(points, title, info), paths["data"])
    lines = [f"# {title}", ""] + [f"- {k}: `{v}`" for k, v in info.items()]
    lines += ["", report.markdown_table(*table(points)), "", f"![learning curves]({PLOT})", ""]
    files.write_text_atomic(paths["table"], "\n".join(lines))
    plot(paths["plot"], points, title)
    return paths
