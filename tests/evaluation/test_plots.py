"""Plots (tpgan_tf/evaluation/plots.py): matplotlib, headless; the legend beside the axes is
part of the picture (the old OpenCV chart cut it off)."""
import math

import cv2

from tpgan_tf.evaluation import plots


def test_line_plot_writes_the_whole_figure(tmp_path):
    path = str(tmp_path / "plot.png")
    series = [plots.Series("measured, a long label that must not be cut off", [0, 15, 30],
                           [90.0, math.nan, 40.0]),
              plots.Series("paper", [15, 30], [99.0, 98.0], recalled=True),
              plots.Series("empty", [0], [None])]
    plots.line_plot(path, series, title="t", xlabel="x", ylabel="y", xticks=[0, 15, 30],
                    ylim=(0, 101))
    image = cv2.imread(path)
    assert image is not None and image.shape[2] == 3 and image.std() > 10
    # 9.6 x 4.8 inches at 100 dpi, cropped to its contents: the legend beside the axes
    # makes it wider than the axes' 960 pixels, and nothing is cut at the right edge.
    height, width = image.shape[:2]
    assert 300 < height <= 520 and width > 960
    assert (image[:, -3:] > 250).all()  # a white margin, not a clipped label
