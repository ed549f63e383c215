"""Results files of an evaluation (tpgan_tf/evaluation/report.py): strict JSON, table cells,
Markdown and HTML tables, the results page."""
import json

import numpy as np

from tpgan_tf.evaluation import report


def test_results_json_is_strict(tmp_path):
    assert report.jsonable({"a": float("inf"), "b": float("nan"), 3: np.float32(0.5),
                            "c": [np.int64(2)]}) == {"a": "inf", "b": None, "3": 0.5, "c": [2]}
    assert report.jsonable((float("-inf"), np.float64(2.5))) == ["-inf", 2.5]
    path = tmp_path / "results.json"
    report.write_json({"x": np.float32(float("nan")), "y": {"z": np.int32(4)}}, str(path))
    text = path.read_text()
    assert "NaN" not in text and json.loads(text) == {"x": None, "y": {"z": 4}}


def test_cells_and_pose_labels():
    assert report.fmt(None) == "–" and report.fmt(float("nan")) == "–"
    assert report.fmt(float("inf")) == "∞" and report.fmt("n/a") == "n/a"
    assert report.fmt(12.3456) == "12.35" and report.fmt(0.12345, 4) == "0.1235"
    assert report.pose_label(0) == "0°" and report.pose_label(15) == "±15°"


def test_tables():
    md = report.markdown_table(["Method", "±90°"], [["a", "1.00"], ["b", "–"]])
    assert md.splitlines() == ["| Method | ±90° |", "|---|---|", "| a | 1.00 |", "| b | – |"]
    html = report.html_table(["<x>"], [["a & b"]])
    assert html == ("<table><thead><tr><th>&lt;x&gt;</th></tr></thead><tbody><tr>"
                    "<td>a &amp; b</td></tr></tbody></table>")


def test_page_writes_html_and_markdown(tmp_path):
    page = report.Page("Title <1>", "intro")
    page.heading("Rank-1")
    page.table(["h"], [["v"]])
    page.note("a note")
    page.items({"config": "tiny"})
    page.image("plot.png", "a plot")
    page.link("results.json", "all numbers")
    path = page.write(str(tmp_path))
    assert path == str(tmp_path / "index.html")
    html = (tmp_path / "index.html").read_text()
    assert "<h1>Title &lt;1&gt;</h1>" in html and "<img src='plot.png'" in html
    assert "<li>config: <code>tiny</code></li>" in html and "href='results.json'" in html
    md = (tmp_path / "results.md").read_text().splitlines()
    assert md[0] == "# Title <1>" and "## Rank-1" in md and "| h |" in md
    assert "![a plot](plot.png)" in md and "- config: `tiny`" in md
