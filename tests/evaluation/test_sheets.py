"""Picture sheets (tpgan_tf/evaluation/sheets.py): pixels copied to their cells, errors, PNG."""
import cv2
import numpy as np
import pytest

from tpgan_tf.evaluation import sheets


def test_picture_sheet_places_every_image_unchanged(tmp_path):
    rng = np.random.default_rng(0)
    rows = [(f"row {r}", [rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for _ in range(3)])
            for r in range(2)]
    rows[1][1][1] = np.full((20, 30), 77, np.uint8)  # gray: repeated to RGB
    sheet = sheets.picture_sheet(rows, ("a", "b", "c"), "title")
    pad, caption, header = 6, 18, 40  # the layout the evaluation tests read back
    assert sheet.dtype == np.uint8
    assert sheet.shape == (header + 2 * (caption + 20 + pad) + pad, 3 * (30 + pad) + pad, 3)
    for r, (_, images) in enumerate(rows):
        y = header + r * (caption + 20 + pad) + caption
        for c, image in enumerate(images):
            x = pad + c * (30 + pad)
            want = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
            np.testing.assert_array_equal(sheet[y:y + 20, x:x + 30], want)
    path = tmp_path / "sheet.png"
    sheets.write_png(str(path), sheet)
    np.testing.assert_array_equal(cv2.imread(str(path))[:, :, ::-1], sheet)  # RGB on disk


def test_picture_sheet_errors():
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="at least one row"):
        sheets.picture_sheet([], ("a",), "t")
    with pytest.raises(ValueError, match="row 0 has 1 images for 2 columns"):
        sheets.picture_sheet([("r", [image])], ("a", "b"), "t")
    with pytest.raises(ValueError, match="must all be 8x8"):
        sheets.picture_sheet([("r", [image, np.zeros((9, 8, 3), np.uint8)])], ("a", "b"), "t")
    for title in (("a long title " * 4).strip(), "|yaw| = 45 deg: input | TP-GAN (ours) | ground truth"):
        wide = sheets.picture_sheet([("r", [image])], ("a",), title)
        # The title fits: its ink ends within the right margin, not at the edge.
        ink = np.nonzero((wide[:22] < 200).any(axis=(0, 2)))[0]
        assert wide.shape[1] - 12 <= ink.max() < wide.shape[1] - 3, (ink.max(), wide.shape)
