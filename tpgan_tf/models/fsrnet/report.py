"""The results page of the FSRNet evaluation (evaluation.py): results.json (with the demo page's
"summary_tables"), per_image.csv, results.md / index.html and sheets/*.png.

The table in the paper's layout: rows = methods, columns = PSNR / SSIM per TEST SET, each column
named by its test set: the quoted rows' sets (QUOTED_SETS) and, in its own column, every set
evaluated here (its description from eval_data.describe_*: e.g. the release's last 1,000 CelebA
images are NOT the paper's CelebA test set, images 18,001-18,100, so they never share a column).
The paper's numbers were NOT seen (fsrnet spec 10): the rows shown are quoted by third parties
([Q]) and marked so.
"""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from tpgan_tf.core import files
from tpgan_tf.evaluation import report, sheets

METHOD_LABELS = {"bicubic": "Bicubic", "fsrnet": "FSRNet"}
# The test sets of the quoted rows (fsrnet spec 8.2, 10): {column: what the test set is}.
CELEBA_PAPER, HELEN_DIC, CELEBA_DIC = ("CelebA 18,001-18,100", "Helen, RE-SFMNet split",
                                       "CelebA, RE-SFMNet split")
QUOTED_SETS = {
    CELEBA_PAPER: "the paper's CelebA test set: images 18,001-18,100 after the first 18,000 for "
                  "training (tyshiwo #9), the paper's crop",
    HELEN_DIC: "RE-SFMNet's DIC-style Helen split (not the paper's; sizes not seen)",
    CELEBA_DIC: "RE-SFMNet's DIC-style CelebA split (not the paper's; sizes not seen)",
}
# fsrnet spec 10 "What I actually saw": {row: {column: (PSNR, SSIM)}}. None of them is from the
# paper's PDF: quoted [Q], never verified.
PAPER_ROWS = {
    "Bicubic, paper (quoted by cs-giung)": {CELEBA_PAPER: (23.75, 0.6423)},
    "FSRNet, paper (quoted by cs-giung)": {CELEBA_PAPER: (26.31, 0.7522)},
    "Bicubic, DIC-style retraining (RE-SFMNet)": {HELEN_DIC: (23.88, 0.6628),
                                                  CELEBA_DIC: (23.58, 0.6285)},
    "FSRNet, DIC-style retraining (RE-SFMNet)": {HELEN_DIC: (26.43, 0.7799),
                                                 CELEBA_DIC: (26.66, 0.7714)},
}
PAPER_NOTE = ("Rows marked paper / retraining are QUOTED, not verified: the paper's table was "
              "not seen (fsrnet spec 10). Each column is one test set (listed below the table): "
              "numbers in different columns come from different test images and are not "
              "comparable. Our rows are computed here by the official protocol (Y-PSNR on "
              "byte-truncated BT.601 luma, MSE >= 1, no border crop; SSIM on the same Y).")
PROTOCOL_NOTE = ("Y-PSNR: MATLAB BT.601 luma of RGB clipped to [0, 1], truncated to bytes, MSE "
                 "over all pixels clamped to >= 1 (at most 48.13 dB), no border crop, mean of "
                 "per-image values (the official Torch7 script). SSIM: Gaussian 11x11, sigma "
                 "1.5, K1 0.01, K2 0.03 on the same Y plane, data range 255. Bicubic = the "
                 "network input itself (16x16 bicubic-upsampled to 128x128).")


def method_label(method: str, results: dict, suffix: str = "") -> str:
    """The row label of `method`; the network's says "random weights" when the evaluated
    weights were randomly initialised (experiments/evaluate.py --allow_random_weights)."""
    label = METHOD_LABELS[method] + suffix
    if method == "bicubic":
        return label
    return report.weights_label(label, {"random_weights": results.get("random_weights")})


def set_columns(results: dict) -> dict[str, str]:
    """{column: its test set} of the paper-layout table: QUOTED_SETS, then every evaluated set
    (its name; description and face count from the results)."""
    columns = dict(QUOTED_SETS)
    for name, summary in results["test_sets"].items():
        column = name if name not in columns else f"{name} (ours)"
        what = summary.get("description") or name
        columns[column] = f"{what}; {summary['examples']} faces evaluated here"
    return columns


def paper_layout_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the paper's layout: quoted paper rows, then ours per method; one
    column pair per test set (set_columns)."""
    sets = list(set_columns(results))
    ours = {}
    for (name, summary), column in zip(results["test_sets"].items(), sets[len(QUOTED_SETS):]):
        for method, values in summary["methods"].items():
            ours.setdefault(method, {})[column] = (values["psnr"], values["ssim"])
    header = ["Method"] + [f"{s} {m}" for s in sets for m in ("PSNR", "SSIM")]
    rows = []
    for label, cells in PAPER_ROWS.items():
        rows.append([label] + _cells(cells, sets))
    for method in ("bicubic", "fsrnet"):
        if method in ours:
            suffix = " (computed here)" if method == "bicubic" else " (ours)"
            rows.append([method_label(method, results, suffix)] + _cells(ours[method], sets))
    return header, rows


def _cells(values: dict, sets) -> list[str]:
    out = []
    for s in sets:
        psnr, ssim = values.get(s, (None, None))
        out += [report.fmt(psnr, 2), report.fmt(ssim, 4)]
    return out


def set_table(name: str, summary: dict, results: dict | None = None
              ) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one test set: method, PSNR, SSIM (the labels of method_label)."""
    header = ["method", "Y-PSNR (dB)", "SSIM (Y)"]
    rows = [[method_label(m, results or {}), report.fmt(v["psnr"], 2), report.fmt(v["ssim"], 4)]
            for m, v in summary["methods"].items()]
    rows.sort(key=lambda r: r[0] != "Bicubic")
    return header, rows


def summary_tables(results: dict) -> list[dict]:
    """The tables of the combined demo page (experiments/demo/page.py)."""
    tables = []
    for name, summary in results["test_sets"].items():
        header, rows = set_table(name, summary, results)
        what = f" ({summary['description']})" if summary.get("description") else ""
        note = f"{summary['examples']} test faces{what}. " + PROTOCOL_NOTE
        if "nme" in summary:
            note += (f" Landmarks read off the prior head's heatmaps: NME "
                     f"{100 * summary['nme']:.2f} % of the inter-ocular distance.")
        tables.append({"title": f"FSRNet super-resolution x8 on {name}: Y-PSNR / SSIM",
                       "header": header, "rows": rows, "note": note})
    return tables


def _to_uint8(image) -> np.ndarray:
    return np.clip(np.round(np.asarray(image) * 255.0), 0, 255).astype(np.uint8)


def _nearest(image, size: int) -> np.ndarray:
    factor = size // image.shape[0]
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def write_sheet(output_dir: str, samples: list[dict], methods, name: str) -> dict | None:
    """The picture sheet LR | bicubic | FSRNet | HR (LR when known); returns its
    report.picture (path relative to output_dir, caption = the sheet's title)."""
    if not samples:
        return None
    size = samples[0]["hr"].shape[0]
    with_lr = all(s["lr"] is not None for s in samples)
    titles = (["LR (nearest)"] if with_lr else []) + ["bicubic"]
    titles += ["FSRNet"] if "fsrnet" in methods else []
    titles += ["HR"]
    rows = []
    for s in samples:
        images = ([_to_uint8(_nearest(s["lr"], size))] if with_lr else []) + [_to_uint8(s["x"])]
        caption = s["name"]
        if "fsrnet" in methods:
            images.append(_to_uint8(s["fsrnet"]))
        images.append(_to_uint8(s["hr"]))
        rows.append((caption, images))
    rel = os.path.join("sheets", f"{name}.png")
    title = f"{name}: " + " | ".join(titles)
    os.makedirs(os.path.join(output_dir, "sheets"), exist_ok=True)
    sheets.write_png(os.path.join(output_dir, rel), sheets.picture_sheet(rows, titles, title))
    return report.picture(rel, title)


def _per_image_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()


def write_report(output_dir: str, results: dict, scores, name: str) -> str:
    """Adds paper rows and summary tables to `results`, writes every file of the module doc
    and returns the path of index.html."""
    os.makedirs(output_dir, exist_ok=True)
    results["paper_rows"], results["paper_note"] = PAPER_ROWS, PAPER_NOTE
    results["summary_tables"] = summary_tables(results)
    results["columns"] = set_columns(results)
    sheet = write_sheet(output_dir, scores.samples, scores.methods, name)
    results["pictures"] = [sheet] if sheet else []
    report.write_json(results, os.path.join(output_dir, "results.json"))
    files.write_text_atomic(os.path.join(output_dir, "per_image.csv"),
                            _per_image_csv(scores.rows))
    page = report.Page("FSRNet evaluation (fsrnet spec 9 protocol)",
                       f"Test set {name}: {results['test_sets'][name]['examples']} faces; "
                       f"{len(results['skipped'])} inputs skipped.")
    page.heading("Y-PSNR (dB) / SSIM in the paper's layout")
    page.table(*paper_layout_table(results))
    page.note(PAPER_NOTE)
    page.items({f"column {column}": what for column, what in set_columns(results).items()})
    for table in results["summary_tables"]:
        page.heading(table["title"])
        page.table(table["header"], table["rows"])
        page.note(table["note"])
    if sheet:
        page.heading("Pictures")
        page.image(sheet["path"], sheet["caption"])
    page.link("per_image.csv", "per-image values (CSV)")
    if results["skipped"]:
        page.heading(f"Skipped inputs ({len(results['skipped'])})")
        page.table(["file", "reason"], [[s["path"], s["reason"]] for s in results["skipped"][:50]])
    page.heading("Run")
    page.items({k: v for k, v in results["run"].items() if v is not None})
    return page.write(output_dir)


def summary_text(results: dict) -> str:
    """The terminal summary: one line per test set and method."""
    lines = []
    for name, summary in results["test_sets"].items():
        for method, v in summary["methods"].items():
            lines.append(f"{name}: {method_label(method, results):<8} Y-PSNR {v['psnr']:.2f} dB  "
                         f"SSIM {v['ssim']:.4f}  ({summary['examples']} faces)")
        if "nme" in summary:
            lines.append(f"{name}: prior-head landmark NME {100 * summary['nme']:.2f} %")
    return "\n".join(lines)
