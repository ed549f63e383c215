"""The results page of the frontalization protocol (frontalization.py): results.json,
results.md / index.html (TP-GAN's Table 1 layout, counts, image quality, pictures, protocol),
rank1_vs_yaw.png and sheets/yaw_XX.png. results.json's "pictures" name the sheets a summary
page shows first (PICTURE_POSES)."""
from __future__ import annotations

import os
from typing import Sequence

from tpgan_tf.evaluation import frontalization as fr
from tpgan_tf.evaluation import plots, report, sheets

QUALITY_NOTE = ("L1: mean absolute error per pixel in [0, 1]; PSNR: data range 1 (∞ = "
                "identical); SSIM: Gaussian 11x11, sigma 1.5, per RGB channel averaged; face "
                f"colour: the mean over R, G, B of |mean colour of the face region "
                f"({fr.FACE_REGION_TEXT}: eye line to mouth, eye to eye) - the ground "
                "truth's|, in [0, 1] (lower keeps the subject's skin tone better). "
                "\"profile\" is the trivial baseline: the input profile itself against the "
                "ground truth.")

# The sheets a summary page (the demo's combined page) shows before the tables: one mid pose
# and the hardest one, where the frontalizers' targets differ most from the profiles.
PICTURE_POSES = (45, 90)


def sheet_name(pose: int) -> str:
    return f"sheets/yaw_{pose:02d}.png"


def write_sheets(output_dir: str, samples: dict[int, list[dict]], method_label: str
                 ) -> dict[int, str]:
    """One sheet per |yaw|: rows input | output | ground truth. Returns {pose: relative path}."""
    os.makedirs(os.path.join(output_dir, "sheets"), exist_ok=True)
    out = {}
    for pose, rows in samples.items():
        rel = sheet_name(pose)
        sheet = sheets.picture_sheet(
            [(f"subject {s['record'].subject} yaw {s['record'].yaw:+d} illum "
              f"{s['record'].illumination:02d}", [s["input"], s["output"], s["target"]])
             for s in rows], ("input", method_label, "ground truth"),
            f"|yaw| = {pose} deg: input | {method_label} | ground truth")
        sheets.write_png(os.path.join(output_dir, rel), sheet)
        out[pose] = rel
    return out


def plot_rank1(path: str, results: Sequence[dict], paper_rows: dict | None = None) -> None:
    """rank-1 % against |yaw| of every model (and the profile baseline once) plus the papers'
    recalled rows (dashed)."""
    series = []
    for i, r in enumerate(results):
        series += fr.rank1_series(r, include_profile=i == 0)
    for name, values in (paper_rows or {}).items():
        series.append(plots.Series(name, fr.TABLE_POSES, values, recalled=True))
    plots.line_plot(path, series, title="Rank-1 identification vs pose",
                    xlabel="|yaw| (degrees)", ylabel="rank-1 (%)", xticks=fr.ALL_POSES,
                    ylim=(0, 101))


def write_report(output_dir: str, results: dict, samples: dict[int, list[dict]], *,
                 title: str, paper_rows: dict | None = None, paper_note: str = "") -> str:
    """Writes every file of the module doc for one model; returns the path of index.html."""
    os.makedirs(output_dir, exist_ok=True)
    sheet_paths = write_sheets(output_dir, samples, results["method_label"])
    results["pictures"] = [
        report.picture(sheet_paths[pose], f"|yaw| = {pose}°: input | "
                       f"{results['method_label']} | ground truth")
        for pose in PICTURE_POSES if pose in sheet_paths]
    report.write_json(results, os.path.join(output_dir, "results.json"))
    plot_rank1(os.path.join(output_dir, "rank1_vs_yaw.png"), [results], paper_rows)
    page = report.Page(title, f"{results['subjects']} test subjects (gallery: one frontal "
                              f"each), {results['probes']} probes out of {results['pairs']} "
                              "test pairs.")
    if results.get("run"):
        page.items(results["run"])
    page.heading("Rank-1 identification (%), Table 1 layout")
    page.table(*fr.rank1_table([results], paper_rows))
    if paper_note:
        page.note(paper_note)
    page.image("rank1_vs_yaw.png", "rank-1 against |yaw|")
    page.heading("Counts and the 0° sanity row")
    page.table(*fr.sanity_table(results))
    page.heading("Image quality against the frontal ground truth")
    page.table(*fr.quality_table(results))
    page.note(QUALITY_NOTE)
    page.heading(f"Pictures: input | {results['method_label']} | ground truth")
    for pose, rel in sorted(sheet_paths.items()):
        page.image(rel, f"|yaw| = {pose}°")
    page.heading("Protocol")
    page.items(results["protocol"])
    page.link("results.json", "All numbers: results.json")
    return page.write(output_dir)
