"""Results files of an evaluation, for any model: strict JSON, Markdown and HTML tables, and an
HTML results page made of sections (headings, tables, notes, pictures)."""
from __future__ import annotations

import html
import json
import math
import os
from typing import Sequence

import numpy as np

from tpgan_tf.core import files


def jsonable(obj):
    """Non-finite floats -> "inf" / "-inf" / None and numpy scalars -> Python, recursively,
    so results.json is strict JSON."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_json(results: dict, path: str) -> None:
    files.write_text_atomic(path, json.dumps(jsonable(results), indent=1, sort_keys=True,
                                             allow_nan=False) + "\n")


def fmt(value, digits: int = 2) -> str:
    """A table cell: "–" for missing / nan, "∞" for inf, else the number to `digits`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


RANDOM_WEIGHTS = "random weights"


def weights_label(label: str, run_info: dict | None) -> str:
    """A model's row label, marked when its weights are randomly initialised (run_info
    "random_weights", set by experiments/evaluate.py --allow_random_weights):
    "TP-GAN (ours)" -> "TP-GAN (ours, random weights)", "FSRNet" -> "FSRNet (random weights)"."""
    if not (run_info or {}).get("random_weights"):
        return label
    if label.endswith(")"):
        return f"{label[:-1]}, {RANDOM_WEIGHTS})"
    return f"{label} ({RANDOM_WEIGHTS})"


def mark_weights(results: dict, run_info: dict | None) -> None:
    """Applies weights_label to a results dict's model labels ("method_label" and its entry
    in "methods"), in place."""
    method = results.get("method")
    results["method_label"] = weights_label(results["method_label"], run_info)
    if method in results.get("methods", {}):
        results["methods"][method] = weights_label(results["methods"][method], run_info)


def picture(path: str, caption: str) -> dict:
    """One entry of a results.json's "pictures": a picture (path relative to the results
    folder) that a summary page shows before the numbers, with its caption."""
    return {"path": path, "caption": caption}


def pose_label(pose: int) -> str:
    """0 -> "0°", 15 -> "±15°" (no "|": it would split a Markdown table cell)."""
    return f"±{pose}°" if pose else "0°"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Page:
    """A results page built section by section, written as index.html and results.md.

        page = Page("TP-GAN evaluation", "228 probes ...")
        page.heading("Rank-1 (%)"); page.table(header, rows); page.note("...")
        page.image("rank1_vs_yaw.png", "rank-1 against yaw"); page.write(output_dir)
    """

    def __init__(self, title: str, intro: str = ""):
        self.title = title
        self._html = [f"<h1>{html.escape(title)}</h1>"]
        self._md = [f"# {title}", ""]
        if intro:
            self.paragraph(intro)

    def heading(self, text: str) -> None:
        self._html.append(f"<h2>{html.escape(text)}</h2>")
        self._md += [f"## {text}", ""]

    def paragraph(self, text: str) -> None:
        self._html.append(f"<p>{html.escape(text)}</p>")
        self._md += [text, ""]

    def note(self, text: str) -> None:
        self._html.append(f'<p class="note">{html.escape(text)}</p>')
        self._md += [text, ""]

    def items(self, items: dict) -> None:
        """A bullet list of key: value (run information)."""
        self._html.append("<ul>" + "".join(
            f"<li>{html.escape(str(k))}: <code>{html.escape(str(v))}</code></li>"
            for k, v in items.items()) + "</ul>")
        self._md += [f"- {k}: `{v}`" for k, v in items.items()] + [""]

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self._html.append(html_table(header, rows))
        self._md += [markdown_table(header, rows), ""]

    def image(self, relpath: str, caption: str) -> None:
        self._html.append(f"<figure><img src='{html.escape(relpath)}' alt='{html.escape(caption)}'>"
                          f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        self._md += [f"![{caption}]({relpath})", ""]

    def link(self, relpath: str, text: str) -> None:
        self._html.append(f"<p><a href='{html.escape(relpath)}'>{html.escape(text)}</a></p>")
        self._md += [f"[{text}]({relpath})", ""]

    def html(self) -> str:
        body = "\n".join(self._html)
        return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(self.title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: 4px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }}
img {{ max-width: 100%; }}
.note {{ color: #555; font-size: 90%; }}
</style></head><body>
{body}
</body></html>
"""

    def markdown(self) -> str:
        return "\n".join(self._md)

    def write(self, output_dir: str, html_name: str = "index.html",
              markdown_name: str = "results.md") -> str:
        """Writes both files; returns the path of the HTML page."""
        os.makedirs(output_dir, exist_ok=True)
        files.write_text_atomic(os.path.join(output_dir, markdown_name), self.markdown())
        path = os.path.join(output_dir, html_name)
        files.write_text_atomic(path, self.html())
        return path
