"""The photo tool with DR-GAN (tpgan_tf/models/drgan/photos.py) on real photos: the astronaut
(tests/data/astronaut.jpg), her mirror image and two synthetic faces, found by MTCNN; per
face the frontal, the sheet of every pose code and f(x) as .npy; `--compare` (the cosine
matrix of the saved features, same / different at a threshold); `--aligned` on the crop
the detected path made; `--fuse` of a single-image model (omega = 1: the mean feature);
bad inputs.

Model: a random tiny DR-GAN run (32 x 32 images, poses -60 .. +60 in 15-degree steps). A
random encoder is no face recogniser, but it is a smooth function of the crop: the
astronaut's mirror (a near-symmetric face, aligned by its own points) stays nearer to her
than the synthetic faces do (measured, seeds 10 / 11 / 12: 0.991 / 0.916 / 0.941 against at
most 0.975 / 0.885 / 0.935)."""
from __future__ import annotations

import csv
import json
import os

import cv2
import numpy as np
import pytest

from experiments import apply
from tests.conftest import photo
from tests.photos.helpers import random_run
from tpgan_tf.faces import detection
from tpgan_tf.faces.alignment import align_face
from tpgan_tf.models.drgan.photos import cosine_matrix
from tpgan_tf.photos.files import SHEET_GAP

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTO = os.path.join(REPO, "tests", "data", "astronaut.jpg")
NAMES = ["astronaut.png", "mirror.png", "other40.png", "other41.png"]
SIZE, VIEWS, FRONTAL = 32, 9, 4  # the tiny preset: 32 x 32, yaw -60 .. 60, view 4 = 0


def _read(path):
    return np.ascontiguousarray(cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1])


def _write(path, rgb):
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1]))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return random_run(str(tmp_path_factory.mktemp("drgan_run")), "drgan", seed=10)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("drgan_photos") / "photos"
    root.mkdir()
    image = _read(PHOTO)
    _write(root / "astronaut.png", image)
    _write(root / "mirror.png", image[:, ::-1])
    for subject in (40, 41):
        _write(root / f"other{subject}.png", photo(subject, 0, (320, 320))[0])
    return root


@pytest.fixture(scope="module")
def compared(run_dir, folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("drgan_out")
    lines = []
    result = apply.run(str(folder), str(out), model_dir=run_dir, log=lines.append,
                       progress=None, options={"compare": True, "threshold": 0.98})
    return {"out": out, "result": result, "lines": lines}


def test_outputs_per_face(compared):
    out, result = compared["out"], compared["result"]
    assert result["done"] == NAMES and result["skipped"] == {}
    stems = [os.path.splitext(n)[0] for n in NAMES]
    assert sorted(os.listdir(out)) == sorted(
        ["compare.csv", "results.json"]
        + [f"{s}_{kind}" for s in stems
           for kind in ("features.npy", "frontal.png", "poses.png")])
    for stem in stems:
        frontal, poses = _read(out / f"{stem}_frontal.png"), _read(out / f"{stem}_poses.png")
        assert frontal.shape == (SIZE, SIZE, 3)
        # The model's view | a gap | one face per pose code; the frontal is its column.
        assert poses.shape == (SIZE, SIZE + SHEET_GAP + VIEWS * SIZE, 3)
        start = SIZE + SHEET_GAP + FRONTAL * SIZE
        np.testing.assert_array_equal(poses[:, start:start + SIZE], frontal)
        features = np.load(out / f"{stem}_features.npy")
        assert features.dtype == np.float32 and features.ndim == 1 and features.size >= 8


def test_compare_is_the_cosine_of_the_saved_features(compared):
    out, saved = compared["out"], json.loads((compared["out"] / "results.json").read_text())
    features = np.stack([np.load(out / f"{os.path.splitext(n)[0]}_features.npy")
                         for n in NAMES]).astype(np.float64)
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    expected = unit @ unit.T
    names = NAMES  # one face a photo: named by the photo
    assert saved["compare"]["faces"] == names
    np.testing.assert_allclose(saved["compare"]["similarity"], expected, atol=6e-5)
    with open(out / "compare.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["face", *names]
    np.testing.assert_allclose(np.array([r[1:] for r in rows[1:]], float), expected,
                               atol=6e-5)
    # Her mirror image is nearer to her than either other face.
    assert expected[0, 1] > expected[0, 2:].max() + 0.01, expected[0]
    # --threshold: one verdict per pair, >= threshold is the same person.
    pairs = saved["compare"]["pairs"]
    assert len(pairs) == 6 and saved["compare"]["threshold"] == 0.98
    for pair in pairs:
        i, j = names.index(pair["a"]), names.index(pair["b"])
        assert pair["same"] == (expected[i, j] >= 0.98)
    assert [p["same"] for p in pairs][:3] == [True, False, False]
    assert any(line.startswith(f"  {names[0]} ~ {names[1]}: ") and "same person" in line
               for line in compared["lines"])


def test_cosine_matrix_by_hand():
    np.testing.assert_allclose(cosine_matrix(np.array([[3.0, 4.0], [4.0, 3.0], [0.0, 0.0]])),
                               [[1, 0.96, 0], [0.96, 1, 0], [0, 0, 0]])


def test_aligned_crop_gives_the_detected_features(run_dir, compared, tmp_path):
    """--aligned on the tpgan spec 1.2 crop of her detected points: the features of the detected
    path (the same crop through the same signatures)."""
    image = _read(PHOTO)
    (face,) = detection.detect(image)
    crops = tmp_path / "crops"
    crops.mkdir()
    _write(crops / "face.png", align_face(image, face.landmarks, 128).image)
    result = apply.run(str(crops), str(tmp_path / "out"), model_dir=run_dir, aligned=True,
                       log=lambda _: None, progress=None)
    assert result["done"] == ["face.png"]
    # The sheet's first column is what the encoder sees of the crop: bilinear 128 -> 36,
    # the centre 32 x 32 (drgan spec 4.3).
    view = cv2.resize(align_face(image, face.landmarks, 128).image, (36, 36),
                      interpolation=cv2.INTER_LINEAR)[2:34, 2:34]
    np.testing.assert_array_equal(_read(tmp_path / "out" / "face_poses.png")[:, :SIZE], view)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "face_features.npy"),
                               np.load(compared["out"] / "astronaut_features.npy"),
                               rtol=1e-5, atol=1e-6)


def test_fuse_of_a_single_image_model_is_the_mean_feature(run_dir, folder, compared,
                                                          tmp_path):
    lines = []
    result = apply.run(str(folder), str(tmp_path / "out"), model_dir=run_dir,
                       log=lines.append, progress=None, options={"fuse": True})
    out = tmp_path / "out"
    assert result["done"] == NAMES
    assert any("no confidence head" in line for line in lines)
    fused = np.load(out / "fused_features.npy")
    mean = np.mean([np.load(compared["out"] / f"{os.path.splitext(n)[0]}_features.npy")
                    for n in NAMES], axis=0)
    np.testing.assert_allclose(fused, mean, rtol=1e-4, atol=1e-6)
    assert _read(out / "fused_frontal.png").shape == (SIZE, SIZE, 3)
    saved = json.loads((out / "results.json").read_text())
    assert saved["fused"][0]["folder"] == "." and \
        saved["fused"][0]["omega"] == {n: 1.0 for n in NAMES}


def test_bad_inputs(run_dir, tmp_path):
    with pytest.raises(ValueError, match="--threshold needs --compare"):
        apply.run(PHOTO, str(tmp_path / "a"), model_dir=run_dir, options={"threshold": 0.5})
    with pytest.raises(ValueError, match=r"cosine similarity in \[-1, 1\]"):
        apply.run(PHOTO, str(tmp_path / "b"), model_dir=run_dir,
                  options={"compare": True, "threshold": 2.0})
    with pytest.raises(ValueError, match=r"^--input_kind: not options of drgan \(its own: "
                                         r"--compare, --threshold, --fuse\)$"):
        apply.run(PHOTO, str(tmp_path / "c"), model_dir=run_dir,
                  options={"input_kind": "lr"})
    crops = tmp_path / "crops"
    crops.mkdir()
    _write(crops / "small.png", np.zeros((64, 64, 3), np.uint8))
    lines = []
    result = apply.run(str(crops), str(tmp_path / "d"), model_dir=run_dir, aligned=True,
                       log=lines.append, progress=None)
    assert result["done"] == [] and "small.png" in result["skipped"]
    assert result["skipped"]["small.png"] == \
        "--aligned takes 128x128 crops of the tpgan spec 1.2 rule, got 64x64"
