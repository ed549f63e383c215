"""The "folder" source of the FSRNet face records (data_prep/folder.py, face_records_job.py):
a folder of photos without labels -> records with MTCNN's five points moved into FSRNet's crop
(the template's similarity, or the centre box), the parsing map drawn from them; images
without a usable face, too small or unreadable are skipped and listed; the workers never
import TensorFlow; the command line names what it skipped."""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_prep import build_face_records
from data_prep.drawn_parsing import draw_parsing
from data_prep.synthetic.faces import face_record
from tests.conftest import REPO
from tpgan_tf.data.face_records import parse_face, read_metadata
from tpgan_tf.faces.similarity import crop_face, similarity_matrix
from tpgan_tf.models.fsrnet.crop_rule import TEMPLATE

ASTRONAUT = os.path.join(REPO, "tests", "data", "astronaut.jpg")
# Hand-marked points of the astronaut (tests/data/README.md), about +-2 px.
ASTRONAUT_POINTS = [(203, 101), (246, 103), (224, 127), (203, 141), (245, 141)]


def _write(path, image):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.ascontiguousarray(image[:, :, ::-1]))


def _read(path):
    return cv2.imread(path)[:, :, ::-1]


def _records(out, split):
    files = sorted(glob.glob(os.path.join(out, f"{split}-*.tfrecord")))
    return [r.numpy() for r in tf.data.TFRecordDataset(files)]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder: a real portrait in a sub-folder, two synthetic faces (MTCNN finds them:
    eye distances 37 and 28 px), one whose face is too small for the template crop (23.5 px
    between the eyes: enlarged 1.33x by the template's similarity), random noise, a truncated
    JPEG and a text file."""
    root = tmp_path_factory.mktemp("photos")
    os.makedirs(root / "a")
    shutil.copyfile(ASTRONAUT, root / "a" / "astronaut.jpg")
    for identity in (2, 5):
        _write(str(root / "b" / f"face{identity}.png"), face_record(0, identity, 0).image)
    _write(str(root / "face0.png"), face_record(0, 0, 0).image)
    _write(str(root / "noise.png"),
           np.random.default_rng(0).integers(0, 256, (100, 120, 3), dtype=np.uint8))
    with open(ASTRONAUT, "rb") as f:
        (root / "broken.jpg").write_bytes(f.read()[:500])
    (root / "notes.txt").write_text("not an image")
    return str(root)


@pytest.fixture(scope="module")
def template_records(photos, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("records") / "template")
    manifest = build_face_records.build(out, "folder", folder=photos, folder_test=1, workers=1,
                                        show_progress=False)
    return out, manifest


def test_faces_split_and_bad_images_are_listed_with_reasons(photos, template_records):
    out, manifest = template_records
    assert {s: v["examples"] for s, v in manifest["splits"].items()} == {"train": 2, "test": 1}
    reasons = {os.path.relpath(e["path"], photos): e["reason"] for e in manifest["skipped"]}
    assert set(reasons) == {"broken.jpg", "face0.png", "noise.png"}  # notes.txt is no image
    assert reasons["broken.jpg"].startswith("unreadable image")
    assert reasons["noise.png"] == "no face found (MTCNN)"
    assert re.fullmatch(r"face too small: its 128x128 crop would enlarge it 1\.3\dx \(more "
                        r"than 1\.25x\)", reasons["face0.png"])
    names = [read_metadata(r)["name"] for r in _records(out, "train")]
    assert sorted(names) == ["a/astronaut", "b/face2"]
    [test] = [read_metadata(r) for r in _records(out, "test")]
    assert test["name"] == "b/face5"  # the last face in path order
    assert manifest["settings"]["template"] == [list(p) for p in TEMPLATE]


def test_a_record_is_the_template_crop_of_the_detected_points(template_records):
    from data_prep.folder import largest_face

    out, _ = template_records
    [serialized] = [r for r in _records(out, "train")
                    if read_metadata(r)["name"] == "a/astronaut"]
    meta = read_metadata(serialized)
    assert (meta["landmark_scheme"], meta["label_set"], meta["source"]) == (
        "celeba5", "helen11", "folder")
    image = _read(ASTRONAUT)
    points, reason = largest_face(image, 0.9)
    assert reason is None
    np.testing.assert_allclose(points, ASTRONAUT_POINTS, atol=4)  # MTCNN found her
    matrix = similarity_matrix(points, TEMPLATE)
    parsed = parse_face(tf.constant(serialized), 5)
    landmarks = parsed["landmarks"].numpy()
    np.testing.assert_allclose(landmarks, points @ matrix[:, :2].T + matrix[:, 2], atol=1e-4)
    # a least-squares similarity maps the points' mean onto the template's mean
    np.testing.assert_allclose(landmarks.mean(axis=0), np.mean(TEMPLATE, axis=0), atol=1e-3)
    np.testing.assert_array_equal(parsed["hr"].numpy(), crop_face(image, matrix, 128))
    np.testing.assert_array_equal(parsed["parsing"].numpy(), draw_parsing(landmarks, 128))


def test_center_crop_keeps_a_ready_crop_as_it_is(photos, tmp_path):
    from data_prep.folder import largest_face

    folder = tmp_path / "crops"
    os.makedirs(folder)
    shutil.copyfile(os.path.join(photos, "b", "face2.png"), folder / "face2.png")
    out = str(tmp_path / "records")
    manifest = build_face_records.build(out, "folder", folder=str(folder), folder_crop="center",
                                        workers=1, show_progress=False)
    assert manifest["settings"]["crop"] == "center" and manifest["skipped"] == []
    [serialized] = _records(out, "train")
    parsed = parse_face(tf.constant(serialized), 5)
    image = _read(str(folder / "face2.png"))
    np.testing.assert_array_equal(parsed["hr"].numpy(), image)  # 128 x 128: untouched
    points, _ = largest_face(image, 0.9)
    np.testing.assert_allclose(parsed["landmarks"].numpy(), points, atol=1e-4)


def test_folder_without_a_usable_face_and_bad_flags_raise(photos, tmp_path):
    folder = tmp_path / "none"
    os.makedirs(folder)
    shutil.copyfile(os.path.join(photos, "noise.png"), folder / "noise.png")
    with pytest.raises(ValueError, match=r"no usable face in 1 images \(first: .*noise.png: "
                                         r"no face found"):
        build_face_records.build(str(tmp_path / "o1"), "folder", folder=str(folder), workers=1,
                                 show_progress=False)
    os.makedirs(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no images"):
        build_face_records.build(str(tmp_path / "o2"), "folder", folder=str(tmp_path / "empty"),
                                 workers=1, show_progress=False)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        build_face_records.build(str(tmp_path / "o2"), "folder", folder=str(tmp_path / "no"),
                                 workers=1, show_progress=False)
    with pytest.raises(ValueError, match="needs --folder"):
        build_face_records.build(str(tmp_path / "o3"), "folder", workers=1)
    with pytest.raises(ValueError, match="ten finite numbers"):
        build_face_records.build(str(tmp_path / "o4"), "folder", folder=photos,
                                 crop_template=["1", "2"], workers=1)


def test_workers_crop_and_draw_without_tensorflow(photos):
    # The job's process function on a folder item in a fresh interpreter: a record, and no
    # TensorFlow imported (MTCNN runs in the parent; its points are given here).
    code = (
        "import sys\n"
        "from data_prep.face_records_job import FaceItem, process_face\n"
        f"item = FaceItem(source='folder', name='astronaut', image_path={ASTRONAUT!r}, "
        f"landmarks={tuple(map(tuple, ASTRONAUT_POINTS))!r}, label_kind='drawn', "
        f"crop='template', template={TEMPLATE!r}, landmark_scheme='celeba5', num_landmarks=5)\n"
        "record, skipped = process_face(item)\n"
        "assert skipped is None and record['landmarks'].shape == (5, 2), skipped\n"
        "print('tensorflow' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_command_line_names_the_skipped_images(photos, tmp_path):
    folder = tmp_path / "mixed"
    os.makedirs(folder)
    for name in ("broken.jpg", "noise.png"):
        shutil.copyfile(os.path.join(photos, name), folder / name)
    shutil.copyfile(os.path.join(photos, "b", "face2.png"), folder / "face2.png")
    proc = subprocess.run(
        [sys.executable, "-m", "data_prep.build_face_records", "--source=folder",
         f"--folder={folder}", f"--output_dir={tmp_path / 'out'}", "--workers=1"],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr
    assert "wrote train: 1 faces in 1 shards; skipped 2 inputs" in proc.stdout
    lines = proc.stderr.splitlines()
    assert f"skipped {folder / 'broken.jpg'}: unreadable image (corrupt, truncated or not an " \
           "image)" in lines
    assert f"skipped {folder / 'noise.png'}: no face found (MTCNN)" in lines


def test_the_largest_sure_face_is_kept():
    from data_prep.folder import largest_face

    # the astronaut (a box ~60 px wide) and a synthetic face shrunk to a box ~40 px wide in a corner
    image = _read(ASTRONAUT).copy()
    small = cv2.resize(face_record(0, 2, 0).image, (96, 96), interpolation=cv2.INTER_AREA)
    image[400:496, 400:496] = small
    points, reason = largest_face(image, 0.9)
    assert reason is None
    np.testing.assert_allclose(points, ASTRONAUT_POINTS, atol=4)
    points, reason = largest_face(image, 1.01)
    assert points is None and re.fullmatch(r"no face sure enough: 2 found, the best "
                                           r"confidence 0\.\d{3} < 1\.01", reason)
