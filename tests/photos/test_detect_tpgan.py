"""The photo tool's face detection with TP-GAN on real photos (tests/data/astronaut.jpg): a
folder with the photo, a photo without a face and an unreadable file; --all_faces;
thresholds; small faces found on an enlarged copy; EXIF orientation. Model: a randomly
initialised `tiny` TP-GAN run (the same traced functions the export saves)."""
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
import tensorflow as tf

from tpgan_tf.faces import detection
from tpgan_tf.faces.alignment import align_face
from tpgan_tf.photos.files import SHEET_GAP
from tpgan_tf.photos import tool
from tpgan_tf.photos.applier import ModelSource, applier_for
from tpgan_tf.photos.faces import FaceSource
from tpgan_tf.photos.files import photo_bytes_and_image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTO = os.path.join(REPO, "tests", "data", "astronaut.jpg")


def _read_rgb(path):
    return np.ascontiguousarray(cv2.imread(path, cv2.IMREAD_COLOR)[:, :, ::-1])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The photo applier of a random tiny TP-GAN run (one checkpoint, seed 10)."""
    import keras

    from tpgan_tf.core import checkpointing
    from tpgan_tf.core.config import get_config, save_config
    from tpgan_tf.core.runner import load_trained

    run = str(tmp_path_factory.mktemp("tiny_run"))
    keras.utils.set_random_seed(10)
    task, cfg, _ = load_trained(None, "tiny", task="tpgan")
    save_config(cfg, run)
    prefix = tf.train.Checkpoint(**{name: checkpointing.variables_by_path(net.variables, name)
                                    for name, net in task.networks.items()}).save(
        os.path.join(run, "ckpt"))
    return applier_for(ModelSource(model_dir=prefix, model="tpgan"))


def _run(input_path, out, applier, **faces):
    lines = []
    result = tool.run(applier, FaceSource("detect", **faces), input_path, str(out),
                      log=lines.append, progress=None)
    return result, lines


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
    result = tool.run(model, FaceSource("detect"), folder, str(tmp_path), log=lines.append,
                      progress=bar)
    assert result["done"] == ["astronaut.jpg"]
    assert result["skipped"] == {"broken.jpg": "not a readable image",
                                 "flat.png": "no face found"}
    assert lines[-4:] == ["skipped 2 inputs:", "  broken.jpg: not a readable image",
                          "  flat.png: no face found",
                          f"tpgan: 1 of 3 photos done, 1 face; skipped 2 photos; output in "
                          f"{tmp_path} (results.json)"]
    assert "3/3" in bar.getvalue()  # the tqdm bar went over the three photos
    assert sorted(os.listdir(tmp_path)) == ["astronaut_frontal.png", "astronaut_sheet.png",
                                            "results.json"]
    frontal = _read_rgb(str(tmp_path / "astronaut_frontal.png"))
    sheet = _read_rgb(str(tmp_path / "astronaut_sheet.png"))
    assert frontal.shape == (128, 128, 3) and sheet.shape == (128, 256 + SHEET_GAP, 3)
    np.testing.assert_array_equal(sheet[:, 128 + SHEET_GAP:], frontal)
    # The sheet's left half is the in-graph tpgan spec 1.2 crop at the detected points: it matches
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

    result, lines = _run(str(photos), tmp_path / "all", model, all_faces=True)
    assert result["done"] == ["group.png"]
    assert list(result["skipped"]) == ["group.png face 3"]
    assert result["skipped"]["group.png face 3"].startswith("face too small (eye distance 1")
    assert sorted(os.listdir(tmp_path / "all")) == [
        "group_face1_frontal.png", "group_face1_sheet.png",
        "group_face2_frontal.png", "group_face2_sheet.png", "results.json"]
    assert lines[-1].startswith("tpgan: 1 of 1 photos done, 2 faces; skipped 0 photos")

    result, _ = _run(str(photos), tmp_path / "largest", model)
    assert result["done"] == ["group.png"] and result["skipped"] == {}
    assert sorted(os.listdir(tmp_path / "largest")) == ["group_frontal.png", "group_sheet.png",
                                                        "results.json"]
    # The default takes face 1 of --all_faces, the largest (same detection, same pixels).
    by_default = open(tmp_path / "largest" / "group_sheet.png", "rb").read()
    assert by_default == open(tmp_path / "all" / "group_face1_sheet.png", "rb").read()
    assert by_default != open(tmp_path / "all" / "group_face2_sheet.png", "rb").read()

    strict, _ = _run(str(photos), tmp_path / "strict", model, min_eye_distance=200)
    assert strict["done"] == []
    assert strict["skipped"]["group.png"].startswith(
        "none of 3 faces usable (largest: face too small (eye distance 4")
    picky, _ = _run(PHOTO, tmp_path / "picky", model, min_confidence=1.0)
    assert picky["skipped"]["astronaut.jpg"].startswith("low confidence (0.99")


def test_source_arguments():
    with pytest.raises(ValueError, match="face source must be one of"):
        FaceSource("guess")
    with pytest.raises(ValueError, match="--all_faces needs detection"):
        FaceSource("csv", PHOTO, all_faces=True)
    with pytest.raises(ValueError, match=r"--min_confidence must be in \[0, 1\], got 1.5"):
        FaceSource("detect", min_confidence=1.5)
    with pytest.raises(ValueError, match="--min_eye_distance must be >= 0 pixels, got -1"):
        FaceSource("detect", min_eye_distance=-1)
    with pytest.raises(FileNotFoundError, match="missing.csv: no such landmark CSV"):
        FaceSource("csv", "missing.csv")


def test_small_faces_are_found_on_an_enlarged_copy():
    """The astronaut shrunk until MTCNN misses her at the photo's own size: found on the
    enlarged copy, her points mapped back within a pixel of the shrunk full-size points."""
    image = _read_rgb(PHOTO)
    (full,) = detection.detect(image)
    scale = 0.1  # a 512-pixel photo -> 51 px; MTCNN's box of the face ~8 px wide
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert detection.detect(small) == []
    (found,) = detection.detect_any_size(small)
    expected = (full.landmarks + 0.5) * (small.shape[1] / image.shape[1]) - 0.5
    np.testing.assert_allclose(found.landmarks, expected, atol=1.0)


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
    data, image = photo_bytes_and_image(turned)
    assert image.shape == upright.shape
    assert np.abs(image.astype(int) - upright.astype(int)).mean() < 3.0
    np.testing.assert_array_equal(tf.io.decode_image(data, channels=3).numpy(), image)
    assert len(detection.detect(image)) == 1
    # Without EXIF nothing changes: the file's own bytes are sent.
    plain = open(PHOTO, "rb").read()
    assert photo_bytes_and_image(plain)[0] is plain
    assert photo_bytes_and_image(b"junk") == (b"junk", None)


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
        [sys.executable, "-m", "experiments.apply", "--model=tpgan", f"--input={folder}",
         f"--saved_model={tmp_path / 'export' / 'tpgan'}", f"--output_dir={tmp_path / 'out'}"],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == (f"tpgan: 1 of 3 photos done, 1 face; skipped 2 photos; output in "
                         f"{tmp_path / 'out'} (results.json)")
    assert "broken.jpg: skipped (not a readable image)" in lines
    assert "flat.png: skipped (no face found)" in lines
    assert "photo/s" in proc.stderr  # the progress bar
    assert sorted(os.listdir(tmp_path / "out")) == ["astronaut_frontal.png", "astronaut_sheet.png",
                                                    "results.json"]
