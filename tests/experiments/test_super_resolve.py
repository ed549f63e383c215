"""experiments/super_resolve.py: 16 x 16 faces go to the model as they are, larger ones are
reduced by the spec 1 degradation first (non-square ones centre-cropped), smaller or unreadable
ones are skipped with a reason; the outputs and sheets; one `error:` line for user errors."""
from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from experiments import super_resolve as S
from tests.conftest import REPO
from tpgan_tf.models.fsrnet.degradation import bicubic_downsample


@pytest.fixture(scope="module")
def model():
    import keras

    from tpgan_tf.core.runner import load_trained

    keras.utils.set_random_seed(3)
    task, _, _ = load_trained(preset="tiny", task="fsrnet",
                              overrides=("model.hourglass_depth=1", "model.num_stacks=1"))
    resolver = task.super_resolver()
    return S.Model.from_function(resolver.traced("super_resolve")), resolver


def test_prepare_keeps_16_reduces_larger_and_refuses_smaller():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    lr, note, source = S.prepare(small, "downscale")
    assert lr is small and note == "" and source is None
    big = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    lr, note, source = S.prepare(big, "downscale")
    expected = np.clip(np.round(bicubic_downsample(big[None] / np.float32(255)).numpy()[0]
                                * 255), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(lr, expected)
    assert note == "reduced 128x128 -> 16x16" and source is big
    lr, note, source = S.prepare(rng.integers(0, 256, (40, 64, 3), dtype=np.uint8), "downscale")
    assert lr.shape == (16, 16, 3) and source.shape == (40, 40, 3)
    assert note.startswith("centre-cropped to 40x40, reduced 40x40")
    assert S.prepare(big, "skip")[1] == "128x128 is larger than 16x16 (--larger=skip)"
    assert S.prepare(small[:8], "downscale")[1] == "16x8 is smaller than 16x16"


def test_folder_run_writes_sr_and_sheets_and_lists_skipped(model, tmp_path):
    fn, resolver = model
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    rng = np.random.default_rng(1)
    face = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    cv2.imwrite(str(src / "sub" / "face.png"), face[:, :, ::-1])
    cv2.imwrite(str(src / "big.png"), rng.integers(0, 256, (96, 96, 3), dtype=np.uint8))
    cv2.imwrite(str(src / "tiny.png"), np.zeros((8, 8, 3), np.uint8))
    (src / "broken.jpg").write_bytes(b"not an image")
    lines = []
    result = S.super_resolve_folder(str(src), str(tmp_path / "out"), fn, log=lines.append)
    assert result["done"] == ["big.png", "sub/face.png"]
    assert result["skipped"] == {"broken.jpg": "not a readable image",
                                 "tiny.png": "8x8 is smaller than 16x16"}
    sr = cv2.imread(str(tmp_path / "out" / "sub" / "face_sr.png"))[:, :, ::-1]
    np.testing.assert_array_equal(sr, resolver.super_resolve_numpy(face)["sr"][0])
    sheet = cv2.imread(str(tmp_path / "out" / "big_sheet.png"))
    assert sheet.shape == (128, 4 * 128, 3)  # input | LR | bicubic | SR
    assert cv2.imread(str(tmp_path / "out" / "sub" / "face_sheet.png")).shape == (128, 384, 3)
    assert os.path.exists(tmp_path / "out" / "sheet.png")
    assert lines[-1].startswith("super-resolved 2 of 4 images; skipped 2")


def test_user_errors_are_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.super_resolve", f"--input={tmp_path}",
         f"--saved_model={tmp_path / 'none'}", f"--output_dir={tmp_path / 'out'}"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "no saved_model.pb" in last
    assert "Traceback" not in proc.stderr
