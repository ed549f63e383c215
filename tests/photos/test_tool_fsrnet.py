"""The photo tool with FSRNet (tpgan_tf/models/fsrnet/photos.py) on a real photo: the
astronaut (tests/data/astronaut.jpg) shrunk until her face is ~20 px wide (and ~8 px: found
on an enlarged copy) is found, cropped by the template, super-resolved and pasted back into the photo
enlarged x8 at the right place, the rest of the photo being the bicubic enlargement bit for
bit; `--aligned` on the LR face the tool wrote gives the same SR; bad inputs.

Model: a random tiny FSRNet run with the input skip (model.input_residual) and its
zero-initialised image heads, so its output IS its input, the bicubic upsampling of the LR
face: pasted back, it must line up with the bicubic enlargement of the photo."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from experiments import apply
from tests.photos.helpers import random_run
from tpgan_tf.faces import detection
from tpgan_tf.models.fsrnet import photos as fsrnet_photos
from tpgan_tf.photos import tool
from tpgan_tf.photos.applier import ModelSource, applier_for
from tpgan_tf.photos.faces import FaceSource
from tpgan_tf.photos.paste import enlarged_matrix, paste_face, warped_mask

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTO = os.path.join(REPO, "tests", "data", "astronaut.jpg")
OVERRIDES = ("model.hourglass_depth=1", "model.num_stacks=1", "model.input_residual=true")


def _read(path):
    return np.ascontiguousarray(cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return random_run(str(tmp_path_factory.mktemp("fsrnet_run")), "fsrnet",
                      overrides=OVERRIDES, seed=3)


@pytest.fixture(scope="module")
def applier(run_dir):
    return applier_for(ModelSource(model_dir=run_dir, model="fsrnet"))


@pytest.fixture(scope="module", params=[20.0, 8.0], ids=["face20px", "face8px"])
def small(request, tmp_path_factory):
    """photos/astronaut.png: the astronaut shrunk (INTER_AREA) so that MTCNN's box of her
    face is ~20 px wide (a 121 x 121 photo) or ~8 px (49 x 49: MTCNN finds her down to a
    box ~10 px wide, smaller ones on the enlarged copy only); and the full-size face."""
    image = _read(PHOTO)
    (full,) = detection.detect(image)
    scale = request.param / (full.box[2] - full.box[0])
    shrunk = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    folder = tmp_path_factory.mktemp("small") / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "astronaut.png"), np.ascontiguousarray(shrunk[:, :, ::-1]))
    return {"folder": str(folder), "image": shrunk, "full": full, "box": request.param,
            "factor": shrunk.shape[1] / image.shape[1]}


@pytest.fixture(scope="module")
def detected(applier, small, tmp_path_factory):
    out = tmp_path_factory.mktemp("detected")
    lines = []
    result = tool.run(applier, FaceSource("detect", min_eye_distance=applier.min_eye_distance),
                      small["folder"], str(out), log=lines.append, progress=None)
    return {"out": out, "result": result, "lines": lines}


def test_small_face_is_found_and_pasted_back_at_its_place(applier, small, detected):
    out, result = detected["out"], detected["result"]
    assert result["done"] == ["astronaut.png"] and result["skipped"] == {}
    assert sorted(os.listdir(out)) == ["astronaut_lr.png", "astronaut_sheet.png",
                                       "astronaut_sr.png", "astronaut_x8.png", "results.json",
                                       "sheet.png"]
    # Found (the 8 px face only on the enlarged copy), her points within a pixel of the
    # full-size ones, shrunk.
    image = small["image"]
    assert (detection.detect(image) == []) == (small["box"] < 20)
    (face,) = detection.detect_any_size(image)
    assert face.box[2] - face.box[0] == pytest.approx(small["box"], abs=2.5)
    expected = (small["full"].landmarks + 0.5) * small["factor"] - 0.5
    np.testing.assert_allclose(face.landmarks, expected, atol=1.0)
    saved = json.loads((out / "results.json").read_text())
    np.testing.assert_allclose(saved["faces"][0]["landmarks"], face.landmarks, atol=0.006)

    lr, sr = _read(out / "astronaut_lr.png"), _read(out / "astronaut_sr.png")
    assert lr.shape == (16, 16, 3) and sr.shape == (128, 128, 3)
    sheet = _read(out / "astronaut_sheet.png")  # LR (nearest) | bicubic | SR
    np.testing.assert_array_equal(sheet[:, :128], np.repeat(np.repeat(lr, 8, 0), 8, 1))
    np.testing.assert_array_equal(sheet[:, 256:], sr)
    np.testing.assert_array_equal(sheet[:, 128:256], fsrnet_photos.bicubic(lr, (128, 128)))
    # The model's output is its input (up to float rounding).
    assert np.abs(sr.astype(int) - sheet[:, 128:256]).max() <= 1

    x8 = _read(out / "astronaut_x8.png")
    h, w = image.shape[:2]
    assert x8.shape == (8 * h, 8 * w, 3)
    bicubic = fsrnet_photos.bicubic(image, (8 * h, 8 * w))
    to_crop = enlarged_matrix(applier.crop_matrix(face.landmarks), 8)
    mask = warped_mask(x8.shape, 128, to_crop)
    # Outside the feathered mask: the bicubic enlargement, bit for bit.
    assert 0.05 < (mask > 0).mean() < 0.8
    np.testing.assert_array_equal(x8[mask == 0], bicubic[mask == 0])
    # The same by the geometry alone: every pixel whose centre maps outside the crop's
    # pixel centres (0 .. 127) is the enlargement's; in the feather band (1 to 8 crop pixels
    # in) the output stays nearer the enlargement than a hard-edged paste.
    ys, xs = np.mgrid[0:x8.shape[0], 0:x8.shape[1]]
    cx = to_crop[0, 0] * xs + to_crop[0, 1] * ys + to_crop[0, 2]
    cy = to_crop[1, 0] * xs + to_crop[1, 1] * ys + to_crop[1, 2]
    edge = np.minimum(np.minimum(cx, 127 - cx), np.minimum(cy, 127 - cy))
    np.testing.assert_array_equal(x8[edge < 0], bicubic[edge < 0])
    band = (edge > 1) & (edge < 8)
    hard = paste_face(bicubic, sr, to_crop, feather=0.0)
    soft_step = np.abs(x8[band].astype(float) - bicubic[band]).mean()
    hard_step = np.abs(hard[band].astype(float) - bicubic[band]).mean()
    assert soft_step < 0.6 * hard_step, (soft_step, hard_step)
    # Inside, the pasted face (the bicubic upsampling of the 16 x 16 crop, blurrier than
    # the photo) lines up with the enlargement of the photo: blurred to the LR face's detail
    # (sigma 2 photo pixels) they agree within 2.5 grey levels on average (measured 1.3 and
    # 0.3 for the 20 and 12 px faces); a paste 2 crop pixels (a quarter LR pixel) off is
    # more than twice as far (4.7 and 2.9).
    inside = mask > 0.9

    def blurred_error(pasted):
        blur = lambda x: cv2.GaussianBlur(x.astype(np.float32), (0, 0), 16)  # noqa: E731
        return float(np.abs(blur(pasted) - blur(bicubic))[inside].mean())

    error = blurred_error(x8)
    shifted = blurred_error(paste_face(bicubic, sr, to_crop + [[0, 0, 2.0], [0, 0, 0]]))
    assert error < 2.5 and shifted > 2 * error, (error, shifted)
    # The face's centre lands where its points say.
    ys, xs = np.nonzero(mask)
    centre = np.linalg.inv(np.vstack([to_crop, [0, 0, 1]]))[:2] @ [63.5, 63.5, 1]
    assert np.average(xs, weights=mask[ys, xs]) == pytest.approx(centre[0], abs=0.5)
    assert np.average(ys, weights=mask[ys, xs]) == pytest.approx(centre[1], abs=0.5)
    mid = (face.landmarks[0] + face.landmarks[1]) / 2  # the eyes' midpoint, photo pixels
    eyes = np.linalg.inv(np.vstack([to_crop, [0, 0, 1]]))[:2] @ [
        (crop := np.asarray(applier.template))[:2, 0].mean(), crop[:2, 1].mean(), 1]
    np.testing.assert_allclose(eyes, (mid + 0.5) * 8 - 0.5, atol=8.0)


def test_aligned_lr_face_gives_the_detected_result(applier, run_dir, detected, tmp_path):
    """--aligned on the 16 x 16 LR face the detected run wrote: the same SR, bit for bit."""
    crops = tmp_path / "crops"
    crops.mkdir()
    (crops / "face.png").write_bytes((detected["out"] / "astronaut_lr.png").read_bytes())
    lines = []
    result = apply.run(str(crops), str(tmp_path / "out"), model_dir=run_dir, aligned=True,
                       log=lines.append, progress=None)
    assert result["done"] == ["face.png"]
    assert sorted(os.listdir(tmp_path / "out")) == ["face_sheet.png", "face_sr.png",
                                                    "results.json", "sheet.png"]
    np.testing.assert_array_equal(_read(tmp_path / "out" / "face_sr.png"),
                                  _read(detected["out"] / "astronaut_sr.png"))
    assert "face.png [lr: LR face]" in lines
    assert "fsrnet --aligned: 1 LR 16x16, 0 already upsampled 128x128 fed as they are, 0 HR " \
           "reduced to 16x16 first" in lines
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["fsrnet"] == {"face.png": {"path": "lr", "note": "LR face"}}


def test_bad_inputs(run_dir, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"^--compare: not options of fsrnet \(its own: --input_kind\)$"):
        apply.run(PHOTO, str(tmp_path / "x"), model_dir=run_dir, options={"compare": True})
    with pytest.raises(ValueError, match="--input_kind must be one of"):
        apply.run(PHOTO, str(tmp_path / "x"), model_dir=run_dir,
                  options={"input_kind": "huge"})
    # A photo too large to enlarge x8 (here: the full-size astronaut, 512 x 512 -> 16.8 MP,
    # against a limit of 1 MP): the face outputs only, and a line saying so; her face is
    # shrunk more than 4x into the 16 x 16 input, and a line says that too.
    monkeypatch.setattr(fsrnet_photos, "MAX_PASTE_PIXELS", 1_000_000)
    lines = []
    result = apply.run(PHOTO, str(tmp_path / "big"), model_dir=run_dir, log=lines.append,
                       progress=None)
    assert result["done"] == ["astronaut.jpg"]
    assert sorted(os.listdir(tmp_path / "big")) == [
        "astronaut_lr.png", "astronaut_sheet.png", "astronaut_sr.png", "results.json",
        "sheet.png"]
    assert "1 photo too large to enlarge x8 (over 1 MP): faces only" in lines
    assert any(line.startswith("1 face shrunk more than 4x into the model's 16x16 input")
               for line in lines)
    # A model whose training crops' template is unknown (e.g. the paper preset): faces in
    # photos are refused with what to do; ready crops still work.
    no_template = random_run(str(tmp_path / "run"), "fsrnet",
                             overrides=(*OVERRIDES, "priors.crop_template="))
    with pytest.raises(ValueError, match="no crop template .*crop_rule --records=DIR"):
        apply.run(PHOTO, str(tmp_path / "y"), model_dir=no_template)
    lr = tmp_path / "lr"
    lr.mkdir()
    cv2.imwrite(str(lr / "a.png"), np.zeros((16, 16, 3), np.uint8))
    assert apply.run(str(lr), str(tmp_path / "z"), model_dir=no_template, aligned=True,
                     log=lambda _: None, progress=None)["done"] == ["a.png"]
