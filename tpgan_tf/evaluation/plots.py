"""Plots of evaluation results, drawn with matplotlib (headless `Agg` backend)."""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence


@dataclasses.dataclass
class Series:
    """One line of a plot: measured (solid, filled markers) or recalled from a paper
    (dashed, open markers)."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    recalled: bool = False


def line_plot(path: str, series: Sequence[Series], *, title: str, xlabel: str, ylabel: str,
              xticks: Sequence[float] | None = None, ylim: tuple[float, float] | None = None
              ) -> None:
    """Writes a PNG line plot of `series` (nan points are skipped) with the legend beside the
    axes; the figure is cropped to its contents, so no label is cut off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.6, 4.8), dpi=100)
    for s in series:
        points = [(x, y) for x, y in zip(s.x, s.y) if y is not None and not math.isnan(y)]
        if not points:
            continue
        xs, ys = zip(*points)
        if s.recalled:
            ax.plot(xs, ys, linestyle="--", marker="o", markerfacecolor="none", alpha=0.6,
                    label=f"{s.label} (recalled)")
        else:
            ax.plot(xs, ys, linestyle="-", marker="o", linewidth=2, label=s.label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if xticks is not None:
        ax.set_xticks(list(xticks))
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
