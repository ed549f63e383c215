"""experiments/frontalize.py on synthetic photos with known landmarks (SavedModel route; the
shared tiny export of tests/conftest.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from experiments import frontalize as fz
from tests.conftest import REPO, assert_uint8_close, decode_png, photo, png_bytes
from tpgan_tf.faces.landmarks import write_landmark_csv


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """photos/: two good photos (PNG, and a JPEG in a subfolder), one without landmarks, one
    with a landmark outside it, one broken file, one text file; landmarks.csv beside them."""
    root = tmp_path_factory.mktemp("frontalize") / "photos"
    (root / "sub").mkdir(parents=True)
    raw_a, lm_a = photo(30, 30, (320, 240))
    raw_b, lm_b = photo(31, -45, (640, 480))
    raw_c, _ = photo(32, 0, (200, 150))
    (root / "a.png").write_bytes(png_bytes(raw_a))
    (root / "sub" / "b.jpg").write_bytes(cv2.imencode(".jpg", raw_b[:, :, ::-1])[1].tobytes())
    (root / "c.png").write_bytes(png_bytes(raw_c))
    (root / "d.png").write_bytes(png_bytes(raw_a))
    (root / "broken.png").write_bytes(b"\x89PNG but not really")
    (root / "notes.txt").write_text("not a photo")
    outside = lm_a.copy()
    outside[0, 0] = 400.0  # the photo is 320 wide
    table = {"a.png": lm_a, "sub/b.jpg": lm_b, "d.png": outside, "broken.png": lm_a}
    write_landmark_csv(str(root / "landmarks.csv"), table)
    return {"root": str(root), "csv": str(root / "landmarks.csv"), "points": table}


def _direct(model, path, points):
    """frontalize_image of the loaded SavedModel `model` run directly on one photo ->
    (frontal RGB, aligned RGB)."""
    fn = model.signatures["frontalize_image"]
    out = fn(image_bytes=tf.constant([open(path, "rb").read()]),
             landmarks=tf.constant(np.asarray(points, np.float32)[None]))
    return (decode_png(out["frontal_png_bytes"].numpy()[0]),
            decode_png(out["aligned_png_bytes"].numpy()[0]))


def _check_outputs(model, folder, out_dir, rels):
    for rel in rels:
        stem = os.path.join(out_dir, os.path.splitext(rel)[0])
        frontal = decode_png(open(f"{stem}_frontal.png", "rb").read())
        sheet = cv2.imread(f"{stem}_sheet.png")[:, :, ::-1]
        expected_frontal, expected_aligned = _direct(model, os.path.join(folder["root"], rel),
                                                     folder["points"][rel])
        assert frontal.shape == (128, 128, 3)
        assert sheet.shape == (128, 256 + fz.SHEET_GAP, 3)
        assert_uint8_close(frontal, expected_frontal)  # see tpgan test_export: TF1 rounding
        np.testing.assert_array_equal(sheet[:, 128 + fz.SHEET_GAP:], frontal)
        assert_uint8_close(sheet[:, :128], expected_aligned)
        assert (sheet[:, 128:128 + fz.SHEET_GAP] == 128).all()


def test_folder_in_process(folder, tmp_path, tiny_saved_model):
    model = fz.Model.from_function(tiny_saved_model.signatures["frontalize_image"])
    lines = []
    result = fz.frontalize_folder(folder["root"], str(tmp_path), model,
                                  fz.landmark_source(folder["csv"], False), log=lines.append)
    assert result["done"] == ["a.png", "sub/b.jpg"]
    assert sorted(result["skipped"]) == ["broken.png", "c.png", "d.png"]
    assert result["skipped"]["broken.png"] == "not a readable image"
    assert "no landmarks in" in result["skipped"]["c.png"]
    assert "outside the 320x240 image" in result["skipped"]["d.png"]
    assert lines[-1].startswith("frontalized 2 of 5 photos; skipped 3")
    _check_outputs(tiny_saved_model, folder, str(tmp_path), ["a.png", "sub/b.jpg"])
    assert not os.path.exists(tmp_path / "c_frontal.png")


def test_command_line_on_a_folder(folder, tmp_path, tiny_export, tiny_saved_model):
    """The CLI as a user runs it, with the export's model directory (latest version)."""
    model_base = os.path.dirname(tiny_export)  # <base>/tpgan
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.frontalize", f"--input={folder['root']}",
         f"--landmarks={folder['csv']}", f"--saved_model={model_base}",
         f"--output_dir={tmp_path}"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("frontalized 2 of 5 photos; skipped 3"), lines
    assert any(line.startswith("c.png: skipped (no landmarks") for line in lines)
    _check_outputs(tiny_saved_model, folder, str(tmp_path), ["a.png", "sub/b.jpg"])


def test_single_photo_and_argument_errors(folder, tmp_path, tiny_saved_model):
    model = fz.Model.from_function(tiny_saved_model.signatures["frontalize_image"])
    photo_path = os.path.join(folder["root"], "a.png")  # CSV paths relative to its folder
    result = fz.frontalize_folder(photo_path, str(tmp_path), model,
                                  fz.landmark_source(folder["csv"], False), log=lambda _: None)
    assert result == {"done": ["a.png"], "skipped": {}}
    with pytest.raises(ValueError, match="exactly one of --landmarks"):
        fz.landmark_source(None, False)
    with pytest.raises(ValueError, match="exactly one of --saved_model"):
        fz.Model()
    with pytest.raises(FileNotFoundError, match="no saved_model.pb"):
        fz.Model(saved_model=str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no photos"):
        fz.frontalize_folder(str(empty), str(tmp_path), model, lambda r, i: (None, "x"))
