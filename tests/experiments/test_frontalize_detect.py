"""experiments/frontalize.py --detect on real photos (tests/data/astronaut.jpg): a folder with
the photo, a photo without a face and an unreadable file; --all_faces; thresholds; EXIF
orientation. Model: a randomly initialised `tiny` TP-GAN, in process."""
from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest

from experiments import frontalize as fz
from tpgan_tf.faces import detection
from tpgan_tf.faces.alignment import align_face

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTO = os.path.join(REPO, "tests", "data", "astronaut.jpg")


def _read_rgb(path):
    return np.ascontiguousarray(cv2.imread(path, cv2.IMREAD_COLOR)[:, :, ::-1])


@pytest.fixture(scope="module")
def model():
    """`frontalize_image` of a random tiny TP-GAN (the same traced function the export saves)."""
    import keras

    from tpgan_tf.core.runner import load_trained

    keras.utils.set_random_seed(10)
    task, _, _ = load_trained(None, "tiny", task="tpgan")
    return fz.Model.from_function(task.frontalizer().traced("frontalize_image"), "tiny")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """photos/: the astronaut, a flat colour image (no face), a file that is not an image."""
    root = tmp_path_factory.mktemp("detect") / "photos"
    root.mkdir()
    shutil.copy(PHOTO, root / "astronaut.jpg")
    cv2.imwrite(str(root / "flat.png"), np.full((240, 320, 3), (180, 120, 60), np.uint8))
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff this is not a JPEG")
    return str(root)


def test_folder_with_detection(folder, model, tmp_path):
    lines, bar = [], io.StringIO()
    result = fz.frontalize_folder(folder, str(tmp_path), model, fz.landmark_source(None, True),
                                  log=lines.append, progress=bar)
    assert result == {"done": ["astronaut.jpg"],
                      "skipped": {"broken.jpg": "not a readable image",
                                  "flat.png": "no face found"}}
    assert lines[-4:] == ["skipped 2 inputs:", "  broken.jpg: not a readable image",
                          "  flat.png: no face found",
                          f"frontalized 1 of 3 photos; skipped 2; 1 frontal; output in {tmp_path}"]
    assert "3/3" in bar.getvalue()  # the tqdm bar went over the three photos
    assert sorted(os.listdir(tmp_path)) == ["astronaut_frontal.png", "astronaut_sheet.png"]
    frontal = _read_rgb(str(tmp_path / "astronaut_frontal.png"))
    sheet = _read_rgb(str(tmp_path / "astronaut_sheet.png"))
    assert frontal.shape == (128, 128, 3) and sheet.shape == (128, 256 + fz.SHEET_GAP, 3)
    np.testing.assert_array_equal(sheet[:, 128 + fz.SHEET_GAP:], frontal)
    # The sheet's left half is the in-graph spec 1.2 crop at the detected points: it matches
    # the numpy alignment of the same points (different cubic kernels: a few grey levels).
    (face,) = detection.detect(_read_rgb(PHOTO))
    expected = align_face(_read_rgb(PHOTO), face.landmarks).image
    diff = np.abs(sheet[:, :128].astype(int) - expected.astype(int))
    assert diff.mean() < 3.0, diff.mean()


def test_all_faces_and_thresholds(model, tmp_path):
    """A group picture: the astronaut at full size, at 0.6x and at 0.3x (too small)."""
    image = _read_rgb(PHOTO)
    canvas = np.full((512, 512 + 320 + 170, 3), 255, np.uint8)
    canvas[:, :512] = image
    canvas[60:367, 520:827] = cv2.resize(image, (307, 307), interpolation=cv2.INTER_AREA)
    canvas[100:254, 840:994] = cv2.resize(image, (154, 154), interpolation=cv2.INTER_AREA)
    photos = tmp_path / "group"
    photos.mkdir()
    cv2.imwrite(str(photos / "group.png"), np.ascontiguousarray(canvas[:, :, ::-1]))

    lines = []
    result = fz.frontalize_folder(str(photos), str(tmp_path / "all"), model,
                                  fz.landmark_source(None, True, all_faces=True),
                                  log=lines.append)
    assert result["done"] == ["group.png"]
    assert list(result["skipped"]) == ["group.png face 3"]
    assert result["skipped"]["group.png face 3"].startswith("face too small (eye distance 1")
    assert sorted(os.listdir(tmp_path / "all")) == [
        "group_face1_frontal.png", "group_face1_sheet.png",
        "group_face2_frontal.png", "group_face2_sheet.png"]
    assert lines[-1].startswith("frontalized 1 of 1 photos; skipped 0 (1 face left out); "
                                "2 frontals")

    result = fz.frontalize_folder(str(photos), str(tmp_path / "largest"), model,
                                  fz.landmark_source(None, True), log=lambda _: None)
    assert result == {"done": ["group.png"], "skipped": {}}
    assert sorted(os.listdir(tmp_path / "largest")) == ["group_frontal.png", "group_sheet.png"]
    # The default takes face 1 of --all_faces, the largest (same detection, same pixels).
    by_default = open(tmp_path / "largest" / "group_sheet.png", "rb").read()
    assert by_default == open(tmp_path / "all" / "group_face1_sheet.png", "rb").read()
    assert by_default != open(tmp_path / "all" / "group_face2_sheet.png", "rb").read()

    strict = fz.frontalize_folder(str(photos), str(tmp_path / "strict"), model,
                                  fz.landmark_source(None, True, min_eye_distance=200),
                                  log=lambda _: None)
    assert strict["done"] == []
    assert strict["skipped"]["group.png"].startswith(
        "none of 3 faces usable (largest: face too small (eye distance 4")
    picky = fz.frontalize_folder(PHOTO, str(tmp_path / "picky"), model,
                                 fz.landmark_source(None, True, min_confidence=1.0),
                                 log=lambda _: None)
    assert picky["skipped"]["astronaut.jpg"].startswith("low confidence (0.99")


def test_source_arguments():
    with pytest.raises(ValueError, match="exactly one of --landmarks"):
        fz.landmark_source(None, False)
    with pytest.raises(ValueError, match="--all_faces needs --detect"):
        fz.landmark_source(PHOTO, False, all_faces=True)
    with pytest.raises(ValueError, match=r"--min_confidence must be in \[0, 1\], got 1.5"):
        fz.landmark_source(None, True, min_confidence=1.5)
    with pytest.raises(ValueError, match="--min_eye_distance must be >= 0 pixels, got -1"):
        fz.landmark_source(None, True, min_eye_distance=-1)
    with pytest.raises(FileNotFoundError, match="missing.csv: no such landmark CSV"):
        fz.landmark_source("missing.csv", False)


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 Exif segment holding only the Orientation tag (0x0112)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def test_exif_turned_photo_is_read_as_displayed(tmp_path):
    """A phone picture stored sideways with EXIF orientation 6 (display: turn 90 degrees
    clockwise): detection sees the upright face, and the bytes sent to the model decode (in
    TensorFlow, which ignores EXIF) to that same upright image."""
    import tensorflow as tf

    upright = _read_rgb(PHOTO)
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # what the sensor wrote
    jpeg = cv2.imencode(".jpg", stored[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    turned = _with_exif_orientation(jpeg, 6)
    data, image = fz.photo_bytes_and_image(turned)
    assert image.shape == upright.shape
    assert np.abs(image.astype(int) - upright.astype(int)).mean() < 3.0
    np.testing.assert_array_equal(tf.io.decode_image(data, channels=3).numpy(), image)
    assert len(detection.detect(image)) == 1
    # Without EXIF nothing changes: the file's own bytes are sent.
    plain = open(PHOTO, "rb").read()
    assert fz.photo_bytes_and_image(plain)[0] is plain
    assert fz.photo_bytes_and_image(b"junk") == (b"junk", None)


@pytest.mark.slow
def test_command_line_with_an_export(folder, tmp_path):
    """The commands a user runs: export a (random) tiny model, frontalize --detect on the
    folder (~70 s on 2 cores)."""
    env = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"}
    export = subprocess.run(
        [sys.executable, "-m", "experiments.export", "--model=tpgan", "--config=tiny",
         f"--export_base={tmp_path / 'export'}"],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert export.returncode == 0, export.stderr[-2000:]
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.frontalize", f"--input={folder}", "--detect",
         f"--saved_model={tmp_path / 'export' / 'tpgan'}", f"--output_dir={tmp_path / 'out'}"],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == f"frontalized 1 of 3 photos; skipped 2; 1 frontal; output in {tmp_path / 'out'}"
    assert "broken.jpg: skipped (not a readable image)" in lines
    assert "flat.png: skipped (no face found)" in lines
    assert "photo/s" in proc.stderr  # the progress bar
    assert sorted(os.listdir(tmp_path / "out")) == ["astronaut_frontal.png", "astronaut_sheet.png"]
