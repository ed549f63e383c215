"""Tests of data_prep/synthetic/layout.py: `generate` writes the raw Multi-PIE layout (tpgan spec 6.1)
deterministically, its landmarks.csv (spec 1.2, 1.3), bad arguments, and the same pixels as before
the package split."""
from __future__ import annotations

import hashlib
import os
import re

import cv2
import numpy as np
import pytest

from data_prep import synthetic as S
from tpgan_tf.faces.landmarks import read_landmark_csv
from data_prep.multipie import ImageKey

SMALL = (160, 120)  # (width, height)

# Computed with the single-file synthetic-face module (before data_prep/synthetic/ became a package, commit
# 279622c): sha256 of the decoded pixels of every PNG (walk order) and of landmarks.csv for
# generate(2 subjects, flashes 07/11, cameras 05_1/24_0, 96x72, seed 2). Pixels, not PNG bytes,
# so a different zlib does not matter; numpy/OpenCV float changes would (re-baseline on purpose).
GOLDEN_GENERATE_PIXELS = "3252aea84461ee59aef5a26564cd7a6e9125ffbfa280bef7a536e7efc33b0198"
GOLDEN_GENERATE_CSV = "f993f751b31522ba2e266d10d8fd1fe5db7a9348a8fd77354cb6be2695440fa7"


def _files(root: str) -> list[str]:
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            out.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return sorted(out)


# ----------------------------------------------------------------------------- generate
def test_generate_is_deterministic_and_depends_on_seed(tmp_path):
    kw = dict(num_subjects=2, illuminations=(7, 11), cameras=("05_1", "24_0", "13_0"),
              image_size=SMALL, progress=False)
    S.generate(str(tmp_path / "a"), seed=3, workers=1, **kw)
    S.generate(str(tmp_path / "b"), seed=3, workers=2, **kw)  # and independent of workers
    S.generate(str(tmp_path / "c"), seed=4, workers=1, **kw)
    files = _files(tmp_path / "a")
    assert len(files) == 2 * 3 * 2 + 1
    assert files == _files(tmp_path / "b") == _files(tmp_path / "c")
    changed = 0
    for rel in files:
        a = (tmp_path / "a" / rel).read_bytes()
        assert a == (tmp_path / "b" / rel).read_bytes(), rel
        changed += a != (tmp_path / "c" / rel).read_bytes()
    assert changed == len(files)  # every image and the landmark file differ for another seed


def test_layout_names_and_landmarks_csv(tmp_path):
    out = str(tmp_path)
    folders = ("11_0", "05_1", "20_0")
    summary = S.generate(out, 2, illuminations=(19, 0, 7), sessions=2, cameras=folders,
                         image_size=SMALL, seed=1, workers=1, progress=False)
    expected = set()
    for sub in (1, 2):
        for ses in (1, 2):
            for cam in folders:
                for il in (0, 7, 19):
                    expected.add(f"data/session{ses:02d}/multiview/{sub:03d}/01/{cam}/"
                                 f"{sub:03d}_{ses:02d}_01_{cam.replace('_', '')}_{il:02d}.png")
    assert "data/session02/multiview/002/01/20_0/002_02_01_200_19.png" in expected
    assert set(_files(out)) == expected | {"landmarks.csv"}  # no temp files left over
    assert summary["images"] == len(expected) == 36
    for rel in expected:
        key = ImageKey.parse_path(rel)  # the reader of data_prep.multipie accepts every path
        assert S.image_relpath(key.subject, key.session, key.recording, key.camera,
                               key.illumination) == rel
    lines = (tmp_path / "landmarks.csv").read_text().splitlines()
    assert lines[0] == "path,x0,y0,x1,y1,x2,y2,x3,y3,x4,y4"
    assert len(lines) == 1 + 36
    assert [ln.split(",")[0] for ln in lines[1:]] == sorted(expected)
    for ln in lines[1:]:
        fields = ln.split(",")
        assert len(fields) == 11
        assert all(re.fullmatch(r"-?\d+\.\d\d", v) for v in fields[1:]), ln
    lms = read_landmark_csv(os.path.join(out, "landmarks.csv"))
    # spec 1.3: one pose per (subject, session, camera), shared by its illuminations
    a = lms["data/session01/multiview/001/01/05_1/001_01_01_051_00.png"]
    b = lms["data/session01/multiview/001/01/05_1/001_01_01_051_19.png"]
    np.testing.assert_array_equal(a, b)
    assert (a[:, 0] > 0).all() and (a[:, 0] < SMALL[0]).all() and (a[:, 1] < SMALL[1]).all()
    # a file is exactly render_view with generate's jitter, written as RGB (cv2 reads BGR)
    rel = "data/session02/multiview/002/01/20_0/002_02_01_200_07.png"
    disk = cv2.imread(os.path.join(out, rel), cv2.IMREAD_UNCHANGED)
    assert disk.shape == (SMALL[1], SMALL[0], 3)
    params = S.identity_for(1, 2, 2)
    image, lm = S.render_view(params, illumination=7, image_size=SMALL,
                              **S.camera_jitter(1, 2, 2, "20_0", SMALL))
    np.testing.assert_array_equal(disk[..., ::-1], image)
    np.testing.assert_allclose(lms[rel], lm, atol=0.0051)


def test_bad_inputs_are_named():
    with pytest.raises(KeyError, match="052"):
        S.image_relpath(1, 1, 1, "052", 7)
    with pytest.raises(ValueError, match="illumination 20"):
        S.generate("/nonexistent/never", 1, illuminations=(7, 20), progress=False)
    with pytest.raises(ValueError, match="at least 64x48"):
        S.generate("/nonexistent/never", 1, image_size=(32, 24), progress=False)


def test_generate_matches_the_pre_split_golden_output(tmp_path):
    S.generate(str(tmp_path), 2, illuminations=(7, 11), cameras=("05_1", "24_0"),
               image_size=(96, 72), seed=2, workers=1, progress=False)
    digest = hashlib.sha256()
    names = _files(tmp_path)
    assert len(names) == 2 * 2 * 2 + 1
    for rel in names:
        if rel.endswith(".png"):
            digest.update(cv2.imread(str(tmp_path / rel), cv2.IMREAD_UNCHANGED).tobytes())
    assert digest.hexdigest() == GOLDEN_GENERATE_PIXELS
    csv_bytes = (tmp_path / "landmarks.csv").read_bytes()
    assert hashlib.sha256(csv_bytes).hexdigest() == GOLDEN_GENERATE_CSV
