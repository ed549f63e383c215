"""FSRNet's ready crops (`experiments.apply --model=fsrnet --aligned`, and its alias
experiments/super_resolve.py): each image takes one of three paths (--input_kind): 16 x 16 LR
faces go to `super_resolve`, 128 x 128 files that are already bicubic upsamplings go to
`super_resolve_upsampled` unchanged (never reduced and blurred again), other crops are HR faces
reduced by the fsrnet spec 1 degradation first; `auto` decides by the upsampling PSNR
(tpgan_tf/models/fsrnet/input_kinds.py); the outputs, sheets and the summary of the paths;
one `error:` line for user errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from experiments import apply
from tests.conftest import REPO
from tests.photos.helpers import random_run
from tpgan_tf.models.fsrnet import degradation
from tpgan_tf.models.fsrnet.input_kinds import UPSAMPLED_PSNR_DB, auto_kind, upsampling_psnr
from tpgan_tf.models.fsrnet.photos import prepare as prepare_kind
from tpgan_tf.models.fsrnet.photos import reduce_hr
from tpgan_tf.photos.applier import ModelSource


def prepare(image, input_kind="auto"):
    return prepare_kind(image, input_kind, 16, 128)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    # The input skip (zero-initialised image heads: y_hat = x at init) makes the output the
    # network input itself, so the path an image took shows in its output.
    return random_run(str(tmp_path_factory.mktemp("fsrnet_run")), "fsrnet", seed=3,
                      overrides=("model.hourglass_depth=1", "model.num_stacks=1",
                                 "model.input_residual=true"))


def _uint8(x) -> np.ndarray:
    return np.clip(np.round(np.asarray(x) * 255), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray) -> np.ndarray:
    data = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 75])[1]
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]


@pytest.fixture(scope="module")
def faces():
    """Two synthetic HR faces (128 x 128), their 16 x 16 LR faces and the LR faces
    bicubic-upsampled back to 128 (rounded to bytes, as the release's LR files)."""
    from data_prep.synthetic.faces import face_record

    hr = np.stack([face_record(0, 0, 0).image, face_record(0, 1, 0).image])
    lr = _uint8(np.clip(degradation.bicubic_downsample(hr / np.float32(255)).numpy(), 0, 1))
    up = _uint8(np.clip(degradation.degrade(hr / np.float32(255)).numpy(), 0, 1))
    return hr, lr, up


def test_upsampling_psnr_by_hand():
    """A constant image is a bicubic upsampling (rows of U sum to 1): capped at 99 dB. A 0/255
    checkerboard has nothing in the range of the upsampling: its projection is the mean 127.5,
    so the PSNR is 20 log10(255 / 127.5) = 6.02 dB."""
    assert upsampling_psnr(np.full((128, 128, 3), 77, np.uint8), 16) == 99.0
    board = (np.indices((128, 128)).sum(0) % 2 * 255).astype(np.uint8)
    assert upsampling_psnr(np.repeat(board[..., None], 3, -1), 16) == pytest.approx(
        20 * np.log10(2), abs=1e-3)


def test_auto_tells_upsampled_files_from_hr_faces(faces):
    hr, lr, up = faces
    for i in range(2):
        kind, psnr = auto_kind(hr[i], 16, 128)
        assert kind == "hr" and psnr < UPSAMPLED_PSNR_DB - 3, psnr  # 27.1, 34.8 dB
        kind, psnr = auto_kind(up[i], 16, 128)
        assert kind == "upsampled" and psnr > UPSAMPLED_PSNR_DB + 5, psnr
        kind, psnr = auto_kind(_jpeg(up[i]), 16, 128)  # the release's files are JPEG q75
        assert kind == "upsampled" and psnr > UPSAMPLED_PSNR_DB, psnr
        assert auto_kind(lr[i], 16, 128) == ("lr", None)
    assert auto_kind(hr[0][:96, :96], 16, 128) == ("hr", None)  # another size: an HR crop


def test_prepare_takes_each_path_and_never_reduces_an_upsampled_file(faces):
    hr, lr, up = (x[0] for x in faces)
    p = prepare(lr)
    assert (p.path, p.note, p.source) == ("lr", "LR face", None) and p.image is lr
    p = prepare(up)
    assert p.path == "upsampled" and p.image is up and p.source is None
    assert p.note.startswith("already bicubic-upsampled (upsampling PSNR")
    p = prepare(hr)
    expected = _uint8(degradation.bicubic_downsample(hr[None] / np.float32(255)).numpy()[0])
    assert p.path == "hr" and p.source is hr
    np.testing.assert_array_equal(p.image, expected)
    assert "pass --input_kind=upsampled if it is one" in p.note
    assert p.note.endswith("reduced 128x128 -> 16x16")
    # forced: an HR face fed as upsampled, an upsampled file reduced as an HR face
    assert prepare(hr, "upsampled").path == "upsampled"
    forced = prepare(up, "hr")
    assert forced.path == "hr" and forced.image.shape == (16, 16, 3)
    assert prepare(up, "lr").note == "128x128; --input_kind=lr needs 16x16"
    assert prepare(lr, "upsampled").note == "16x16; --input_kind=upsampled needs 128x128"
    # non-square crops are centre-cropped HR faces; smaller ones are refused
    p = prepare(np.zeros((40, 64, 3), np.uint8))
    assert p.path == "hr" and p.image.shape == (16, 16, 3) and p.source.shape == (40, 40, 3)
    assert p.note == "HR face, centre-cropped to 40x40, reduced 40x40 -> 16x16"
    assert prepare(lr[:8]).note == "16x8 is smaller than 16x16"


def test_folder_run_writes_sr_and_sheets_and_says_which_path_each_took(run_dir, faces,
                                                                       tmp_path):
    model = ModelSource(model_dir=run_dir)
    sr_of = lambda lr: model("super_resolve", lr=lr[None])["sr"][0]  # noqa: E731
    hr, lr, up = faces
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    cv2.imwrite(str(src / "sub" / "face.png"), lr[0][:, :, ::-1])
    cv2.imwrite(str(src / "up.png"), up[1][:, :, ::-1])
    cv2.imwrite(str(src / "big.png"), hr[0][:, :, ::-1])
    cv2.imwrite(str(src / "tiny.png"), np.zeros((8, 8, 3), np.uint8))
    (src / "broken.jpg").write_bytes(b"not an image")
    lines = []
    result = apply.run(str(src), str(tmp_path / "out"), model_dir=run_dir, aligned=True,
                       log=lines.append, progress=None)
    assert result["done"] == ["big.png", "up.png", "sub/face.png"]  # a folder's files first
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {k: v["path"] for k, v in saved["fsrnet"].items()} == {
        "big.png": "hr", "sub/face.png": "lr", "up.png": "upsampled"}
    assert result["skipped"] == {"broken.jpg": "not a readable image",
                                 "tiny.png": "8x8 is smaller than 16x16"}
    read = lambda rel: cv2.imread(str(tmp_path / "out" / rel))[:, :, ::-1]  # noqa: E731
    np.testing.assert_array_equal(read("sub/face_sr.png"), sr_of(lr[0]))
    # the upsampled file is the network input itself (y_hat = x), not reduced to 16 x 16 again
    np.testing.assert_array_equal(
        read("up_sr.png"), model("super_resolve_upsampled", image=up[1][None])["sr"][0])
    np.testing.assert_array_equal(read("up_sr.png"), up[1])
    reduced = sr_of(reduce_hr(up[1], 16)[0])
    assert np.abs(reduced.astype(int) - up[1]).mean() > 0.25  # blurred a second time
    np.testing.assert_array_equal(read("big_sr.png"), sr_of(prepare(hr[0]).image))
    assert read("big_sheet.png").shape == (128, 4 * 128, 3)  # input | LR | bicubic | SR
    assert read("sub/face_sheet.png").shape == (128, 3 * 128, 3)  # LR | bicubic | SR
    np.testing.assert_array_equal(read("up_sheet.png"),  # the file itself | SR
                                  np.concatenate([up[1], read("up_sr.png")], 1))
    assert os.path.exists(tmp_path / "out" / "sheet.png")
    assert any(line.startswith("up.png [upsampled: already bicubic-upsampled") for line in lines)
    assert "fsrnet --aligned: 1 LR 16x16, 1 already upsampled 128x128 fed as they are, " \
           "1 HR reduced to 16x16 first" in lines
    assert lines[-1].startswith("fsrnet: 3 of 5 photos done, 3 faces; skipped 2 photos")


def test_user_errors_are_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.super_resolve", f"--input={tmp_path}",
         f"--saved_model={tmp_path / 'none'}", f"--output_dir={tmp_path / 'out'}"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "no such export" in last
    assert "Traceback" not in proc.stderr
