"""The photo tool with TP-GAN (tpgan_tf/photos, tpgan_tf/models/tpgan/photos.py, the
experiments.apply / frontalize scripts) on synthetic photos with known landmarks: a landmark
CSV, bad inputs, results.json, ready crops (--aligned). SavedModel route: the shared tiny
export of tests/conftest.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from experiments import apply
from tests.conftest import REPO, assert_uint8_close, decode_png, photo, png_bytes
from tpgan_tf.faces.landmarks import write_landmark_csv
from tpgan_tf.photos.files import SHEET_GAP
from tpgan_tf.photos import tool
from tpgan_tf.photos.applier import ModelSource, applier_for
from tpgan_tf.photos.faces import FaceSource


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
        assert sheet.shape == (128, 256 + SHEET_GAP, 3)
        assert_uint8_close(frontal, expected_frontal)  # see tpgan test_export: TF1 rounding
        np.testing.assert_array_equal(sheet[:, 128 + SHEET_GAP:], frontal)
        assert_uint8_close(sheet[:, :128], expected_aligned)
        assert (sheet[:, 128:128 + SHEET_GAP] == 128).all()


@pytest.fixture(scope="module")
def applier(tiny_export):
    return applier_for(ModelSource(saved_model=os.path.dirname(tiny_export), model="tpgan"))


def test_folder_in_process(folder, tmp_path, tiny_saved_model, applier):
    lines = []
    result = tool.run(applier, FaceSource("csv", folder["csv"]), folder["root"], str(tmp_path),
                      log=lines.append, progress=None)
    assert result["done"] == ["a.png", "sub/b.jpg"]
    assert sorted(result["skipped"]) == ["broken.png", "c.png", "d.png"]
    assert result["skipped"]["broken.png"] == "not a readable image"
    assert "no landmarks in" in result["skipped"]["c.png"]
    assert "outside the 320x240 image" in result["skipped"]["d.png"]
    assert lines[-1].startswith("tpgan: 2 of 5 photos done, 2 faces; skipped 3 photos")
    _check_outputs(tiny_saved_model, folder, str(tmp_path), ["a.png", "sub/b.jpg"])
    assert not os.path.exists(tmp_path / "c_frontal.png")
    # results.json: one record per face or skipped photo, with the points used.
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["model"] == "tpgan" and len(saved["faces"]) == 5
    by_photo = {r["photo"]: r for r in saved["faces"]}
    assert by_photo["a.png"]["outputs"] == ["a_frontal.png", "a_sheet.png"]
    np.testing.assert_allclose(by_photo["a.png"]["landmarks"], folder["points"]["a.png"],
                               atol=0.006)
    assert by_photo["c.png"]["skipped"].startswith("no landmarks in")
    assert by_photo["broken.png"]["outputs"] == []


def test_command_line_on_a_folder(folder, tmp_path, tiny_export, tiny_saved_model):
    """The CLI as a user runs it (the old name, experiments.frontalize), with the export's
    model directory (latest version)."""
    model_base = os.path.dirname(tiny_export)  # <base>/tpgan
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.frontalize", f"--input={folder['root']}",
         f"--landmarks={folder['csv']}", f"--saved_model={model_base}",
         f"--output_dir={tmp_path}"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("tpgan: 2 of 5 photos done, 2 faces; skipped 3 photos"), lines
    assert any(line.startswith("c.png: skipped (no landmarks") for line in lines)
    _check_outputs(tiny_saved_model, folder, str(tmp_path), ["a.png", "sub/b.jpg"])


def test_single_photo_and_argument_errors(folder, tmp_path, tiny_export, applier):
    photo_path = os.path.join(folder["root"], "a.png")  # CSV paths relative to its folder
    result = tool.run(applier, FaceSource("csv", folder["csv"]), photo_path, str(tmp_path),
                      log=lambda _: None, progress=None)
    assert result["done"] == ["a.png"] and result["skipped"] == {}
    with pytest.raises(ValueError, match="exactly one of --saved_model"):
        ModelSource()
    with pytest.raises(FileNotFoundError, match="no such export"):
        ModelSource(saved_model=str(tmp_path / "none"))
    with pytest.raises(ValueError, match="holds a 'tpgan' model, but --model=drgan"):
        ModelSource(saved_model=os.path.dirname(tiny_export), model="drgan")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no photos"):
        tool.run(applier, FaceSource("csv", folder["csv"]), str(empty), str(tmp_path))
    with pytest.raises(ValueError, match=r"^--compare, --input_kind: not options of tpgan \(its own: none\)$"):
        applier_for(applier.model, {"compare": True, "input_kind": "lr", "fuse": False})


def test_aligned_crop_equals_the_photo_it_came_from(folder, tmp_path, tiny_export, applier):
    """--aligned on the aligned crop the tool made from a photo, with the photo's points
    mapped into the crop (tpgan spec 1.2, numpy twin), gives that photo's frontal up to the
    rounding of the two alignments; without points it uses the template's."""
    from tpgan_tf.faces.alignment import alignment_matrix, apply_matrix

    result = tool.run(applier, FaceSource("csv", folder["csv"]),
                      os.path.join(folder["root"], "a.png"), str(tmp_path / "photo"),
                      log=lambda _: None, progress=None)
    assert result["done"] == ["a.png"]
    sheet = cv2.imread(str(tmp_path / "photo" / "a_sheet.png"))[:, :, ::-1]
    crops = tmp_path / "crops"
    crops.mkdir()
    (crops / "a.png").write_bytes(png_bytes(np.ascontiguousarray(sheet[:, :128])))
    points = folder["points"]["a.png"]
    write_landmark_csv(str(crops / "points.csv"),
                       {"a.png": apply_matrix(alignment_matrix(points)[0], points)})
    out = apply.run(str(crops), str(tmp_path / "aligned"), saved_model=tiny_export,
                    aligned=True, landmarks=str(crops / "points.csv"), log=lambda _: None,
                    progress=None)
    assert out["done"] == ["a.png"]
    from_photo = decode_png((tmp_path / "photo" / "a_frontal.png").read_bytes())
    from_crop = decode_png((tmp_path / "aligned" / "a_frontal.png").read_bytes())
    diff = np.abs(from_photo.astype(int) - from_crop.astype(int))
    assert diff.mean() < 0.5 and diff.max() <= 8, (diff.mean(), diff.max())
    template = apply.run(str(crops), str(tmp_path / "template"), saved_model=tiny_export,
                         aligned=True, log=lambda _: None, progress=None)
    assert template["done"] == ["a.png"]
    saved = json.loads((tmp_path / "template" / "results.json").read_text())
    np.testing.assert_allclose(saved["faces"][0]["landmarks"], applier.aligned_points(),
                               atol=0.006)
    # A ready crop of another size is reported and skipped (the run goes on).
    wrong = apply.run(os.path.join(folder["root"], "a.png"), str(tmp_path / "x"),
                      saved_model=tiny_export, aligned=True, log=lambda _: None, progress=None)
    assert wrong["done"] == [] and wrong["skipped"] == {
        "a.png": "--aligned takes 128x128 crops of the tpgan spec 1.2 rule, got 320x240"}
