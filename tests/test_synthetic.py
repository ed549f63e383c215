"""Tests of data_prep/synthetic.py: determinism, the raw Multi-PIE layout (spec 6.1), landmark
geometry (spec 1.1, 1.2), lighting, self-occlusion and identity across poses."""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from data_prep import synthetic as S
from data_prep.landmarks import read_landmark_csv
from data_prep.multipie import ImageKey

SMALL = (160, 120)  # (width, height)
MID = (320, 240)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _files(root: str) -> list[str]:
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            out.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return sorted(out)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


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


def test_cli_writes_and_summarises(tmp_path):
    cmd = [sys.executable, "-m", "data_prep.synthetic", f"--output_dir={tmp_path}",
           "--num_subjects=1", "--illuminations=07", "--cameras=05_1,24_0",
           "--image_width=96", "--image_height=72", "--workers=1", "--seed=5"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert re.search(r"wrote 2 images .* images/s", run.stdout)
    assert (tmp_path / "data/session01/multiview/001/01/24_0/001_01_01_240_07.png").is_file()


# ----------------------------------------------------------------------------- landmarks
def test_frontal_landmarks_are_mirror_symmetric():
    p = S.identity_for(0, 1)
    _, lms = S.render_view(p, 0, 7, MID)
    (x0, y0), (x1, y1), (x2, _), (x3, y3), (x4, y4) = lms
    assert abs((x0 + x1) / 2 - x2) < 0.01 and abs((x3 + x4) / 2 - x2) < 0.01
    assert abs(y0 - y1) < 1e-6 and abs(y3 - y4) < 1e-6
    assert x0 < x2 < x1 and y0 < lms[2, 1] < y3
    # spec 1.2 scale: eye-to-mouth centre distance of a raw 640x480 face is ~50-80 px
    eye_mouth = ((y3 + y4) - (y0 + y1)) / 2 * (480 / MID[1])
    assert 50 < eye_mouth < 80


def test_nose_follows_yaw_sign_and_eye_distance_is_cosine():
    p = S.identity_for(0, 2)
    yaws = list(range(-90, 91, 15))
    lms = {yaw: S.render_view(p, yaw, 7, SMALL)[1] for yaw in yaws}
    nose = [lms[y][2, 0] for y in yaws]
    assert all(b > a for a, b in zip(nose, nose[1:]))  # image-right as yaw grows (spec 1.1)
    for yaw in yaws:
        # "left" = smaller x (spec 1.2); at 90 deg the pairs tie (a symmetric head)
        assert lms[yaw][0, 0] <= lms[yaw][1, 0] + 1e-6 and lms[yaw][3, 0] <= lms[yaw][4, 0] + 1e-6
        offset = lms[yaw][2, 0] - lms[yaw][:2, 0].mean()  # nose relative to the eye midpoint
        if yaw:
            assert np.sign(offset) == np.sign(yaw) and abs(offset) > 0.5, (yaw, offset)
    for yaw in (-93, 93):  # past 90 deg (yaw jitter) the far eye is the smaller-x one
        lm = S.render_view(p, yaw, 7, SMALL)[1]
        assert lm[0, 0] < lm[1, 0] and lm[3, 0] < lm[4, 0]
    d0 = lms[0][1, 0] - lms[0][0, 0]
    for yaw in yaws:
        if abs(yaw) <= 75:  # orthographic: the eye separation scales exactly as cos(yaw)
            d = lms[yaw][1, 0] - lms[yaw][0, 0]
            assert abs(d / d0 - math.cos(math.radians(yaw))) < 0.01, yaw


def test_roll_and_shift_move_landmarks_with_the_image():
    p = S.identity_for(0, 3)
    img0, lm0, parts0 = S.render_view(p, 30, 7, MID, return_parts=True)
    img1, lm1, parts1 = S.render_view(p, 30, 7, MID, roll_degrees=10, shift=(6, -4),
                                      return_parts=True)
    cx, cy = (MID[0] - 1) / 2 + 6, S.EYE_ROW_FRACTION * MID[1] - 4
    rot = cv2.getRotationMatrix2D((cx, cy), 10, 1.0)
    moved = np.concatenate([lm0 + [6, -4], np.ones((5, 1))], axis=1) @ rot.T
    np.testing.assert_allclose(lm1, moved, atol=1e-6)
    eye = S.PART_ID["eye_neg"]
    for lm, parts in ((lm0, parts0), (lm1, parts1)):  # the near eye stays under its point
        x, y = lm[0].round().astype(int)
        assert parts[y, x] == eye


def test_pixels_at_visible_landmarks_show_their_part():
    width, height = S.DEFAULT_IMAGE_SIZE  # full size: the pupil is ~4 px wide
    for sid in (1, 2, 3):
        p = S.identity_for(0, sid)
        img, lms, parts = S.render_view(p, 0, 7, (width, height), return_parts=True)
        assert img.shape == (height, width, 3)
        skin = np.median(img[parts == S.PART_ID["skin"]].astype(float), axis=0)
        for k, label in ((0, "eye_neg"), (1, "eye_pos")):
            x, y = lms[k].round().astype(int)
            assert S.PARTS[parts[y, x]] == label
            # the pupil is much darker than the skin, and the iris has its own colour
            assert _luma(img[y, x]) < 0.6 * _luma(skin), sid
            iris = img[y, x + 3].astype(float)  # 3 px = ~3.3 mm from the centre: the iris
            want = np.asarray(p.iris_rgb) / np.sum(p.iris_rgb)
            assert np.abs(iris / iris.sum() - want).max() < np.abs(skin / skin.sum() - want).max()
        # just above the mouth line, between the corners: the upper lip, redder than skin
        mx, my = lms[3:, 0].mean(), lms[3:, 1].mean()
        lip = img[int(round(my)) - 2, int(round(mx))].astype(float)
        assert S.PARTS[parts[int(round(my)) - 2, int(round(mx))]] == "lips"
        assert lip[0] / lip[1] > skin[0] / skin[1]


# ----------------------------------------------------------------------------- lighting
def test_flash_index_sets_the_lit_side():
    p = S.identity_for(0, 4)
    sides = {}
    for il in (3, 7, 11, 0):
        img, lms, parts = S.render_view(p, 0, il, MID, return_parts=True)
        skin = parts == S.PART_ID["skin"]
        nose_x = int(round(lms[2, 0]))
        luma = _luma(img)
        sides[il] = (luma[:, :nose_x][skin[:, :nose_x]].mean(),
                     luma[:, nose_x + 1:][skin[:, nose_x + 1:]].mean())
    assert sides[3][0] > 1.3 * sides[3][1]  # flash 03 at -60 deg: image-left side lit
    assert sides[11][1] > 1.3 * sides[11][0]
    assert abs(sides[7][0] / sides[7][1] - 1) < 0.05  # frontal flash: symmetric
    assert max(sides[0]) < 0.7 * min(sides[7])  # no flash: room light only


# ----------------------------------------------------------------------------- occlusion
def _surface_theta(params, yaw):
    """Per-pixel head-frame angle (degrees, NaN on background) and labels of one view."""
    view = S._make_view(params, yaw, MID, 0.0, (0.0, 0.0), 1.0)
    theta = np.full(MID[0] * MID[1], np.nan)
    theta[view.pix] = np.degrees(view.model.theta[view.texel % len(view.model.theta)])
    return theta.reshape(MID[1], MID[0]), S._parts_view(view), view.landmarks


def test_far_side_is_self_occluded():
    p = S.identity_for(0, 2)
    views = {yaw: _surface_theta(p, yaw) for yaw in (0, 45, 60, 90)}
    theta0, parts0, lms0 = views[0]
    rows = slice(int(lms0[0, 1]), int(lms0[3, 1]))  # eye line to mouth line
    far = {yaw: np.sum(v[0][rows] > 10) for yaw, v in views.items()}  # the far cheek
    assert far[0] > 500 and far[45] < 0.6 * far[0] and far[90] < 0.02 * far[0]
    eye_pos, eye_neg = S.PART_ID["eye_pos"], S.PART_ID["eye_neg"]
    assert np.sum(parts0 == eye_pos) > 20 and np.sum(parts0 == eye_neg) > 20
    theta90, parts90, lms90 = views[90]
    assert np.sum(parts90 == eye_pos) == 0 and np.sum(parts90 == eye_neg) > 5
    for k in (0, 1):  # at 90 both eye points project to the near eye; the far one is hidden
        x, y = lms90[k].round().astype(int)
        assert parts90[y, x] != eye_pos
    # z-buffer: at the nose tip pixel the nose (theta ~ 0) hides the far cheek behind it
    for yaw in (45, 60):
        theta, parts, lms = views[yaw]
        x, y = lms[2].round().astype(int)
        assert abs(theta[y, x - 1]) < 4, (yaw, theta[y, x - 1])
        assert np.nanmax(theta[y, x - 6:x + 1]) < 8  # no far cheek just inside the tip


# ----------------------------------------------------------------------------- identity
def _descriptor(img, parts):
    """Chromaticity of the median skin, hair and clothes colours (9 numbers)."""
    out = []
    for name in ("skin", "hair", "clothes"):
        px = img[parts == S.PART_ID[name]].astype(float)
        med = (np.median(px, axis=0) if len(px) else np.zeros(3)) + 1.0
        out.append(med / med.sum())
    return np.concatenate(out)


def test_identity_is_stable_across_poses():
    gallery, probes = {}, []
    for sid in range(1, 6):
        p = S.identity_for(0, sid)
        for yaw in (-90, -45, 0, 45, 90):
            img, _, parts = S.render_view(p, yaw, 7, SMALL, return_parts=True)
            (gallery.__setitem__(sid, _descriptor(img, parts)) if yaw == 0
             else probes.append((sid, _descriptor(img, parts))))
    for sid, d in probes:
        dist = {g: np.linalg.norm(d - gd) for g, gd in gallery.items()}
        others = min(v for g, v in dist.items() if g != sid)
        assert dist[sid] < 0.7 * others, (sid, dist)


def test_sessions_keep_shape_and_change_appearance_slightly():
    s1, s2 = S.identity_for(0, 7, 1), S.identity_for(0, 7, 2)
    assert s1 == S.identity_for(0, 7, 1)
    shape = ("head_half_width", "face_front", "nose_length", "nose_height", "eye_half_distance",
             "mouth_y", "chin_y", "ear_protrusion")
    assert all(getattr(s1, f) == getattr(s2, f) for f in shape)
    skin1, skin2 = np.asarray(s1.skin_rgb), np.asarray(s2.skin_rgb)
    assert 0 < np.abs(skin1 - skin2).max() < 0.06 * skin1.max()
    # the same camera pose renders the same landmarks in both sessions
    np.testing.assert_allclose(S.render_view(s1, 30, 7, SMALL)[1],
                               S.render_view(s2, 30, 7, SMALL)[1], atol=1e-6)
