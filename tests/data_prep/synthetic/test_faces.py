"""Tests of data_prep/synthetic/faces.py: FSRNet face records (issue 12 part 4). Shapes and
types, landmarks against the label map (inside the crop, left/right, top-to-bottom order, jaw on
the face boundary, brows in brow labels, eye/nose/lip regions where the points say), every
label present, varied crops, sub-pixel landmark placement, determinism, the split iterator."""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from data_prep import synthetic as S
from data_prep.synthetic import faces as F
from data_prep.synthetic.regions import HELEN_ID

SEED = 0
FACE = set(range(1, 10))  # Helen labels of the "face" global class


def _frontal(seed, identity, **changes):
    """A yaw-0, roll-0 version of view 0 of `identity` (other fields as drawn)."""
    view = dataclasses.replace(F.face_view(seed, identity, 0), yaw=0.0, roll=0.0)
    return F.render_face(F.face_identity(seed, identity), dataclasses.replace(view, **changes))


def _window(labels, point, radius):
    x, y = np.rint(point).astype(int)
    return labels[max(y - radius, 0):y + radius + 1, max(x - radius, 0):x + radius + 1]


def _on_face_boundary(labels, point, radius=2):
    w = _window(labels, point, radius)
    return bool(np.isin(w, list(FACE)).any() and np.isin(w, [0, HELEN_ID["hair"]]).any())


def _polygon_mask(points, shape):
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.rint(points * 16).astype(np.int32)], 1, shift=4)
    return mask.astype(bool)


def _open_mouth_identity():
    for identity in range(20):
        if F.face_identity(SEED, identity).mouth_open > 2.5:
            return identity
    raise AssertionError("no open mouth among 20 identities")


def test_record_types_shapes_and_determinism():
    a, b = F.face_record(SEED, 3, 1), F.face_record(SEED, 3, 1)
    assert a.image.shape == (128, 128, 3) and a.image.dtype == np.uint8
    assert a.landmarks.shape == (68, 2) and a.landmarks.dtype == np.float32
    assert a.labels.shape == (128, 128) and a.labels.dtype == np.uint8
    assert (a.identity, a.view) == (3, 1) and abs(a.yaw) <= F.MAX_YAW_DEG
    assert abs(a.roll) <= F.MAX_ROLL_DEG and a.labels.max() <= 10
    assert a.image.tobytes() == b.image.tobytes() and a.labels.tobytes() == b.labels.tobytes()
    assert a.landmarks.tobytes() == b.landmarks.tobytes()
    other = F.face_record(SEED + 1, 3, 1)
    assert not np.array_equal(a.image, other.image)
    np.testing.assert_array_equal(a.global_labels, np.select(
        [a.labels == 0, a.labels == 10], [0, 2], 1))


def test_landmarks_inside_the_crop_and_in_order():
    for identity in range(4):
        for view in range(3):
            rec = F.face_record(SEED, identity, view)
            lm = rec.landmarks
            assert (lm >= 0).all() and (lm <= 127).all(), (identity, view)
            # left = image-left: the left eye and brow lie left of the right ones
            assert lm[36:42, 0].max() < lm[42:48, 0].min(), (identity, view)
            assert lm[17:22, 0].mean() < lm[22:27, 0].mean()
            # top to bottom (|roll| <= 8 deg): eyes above the nose tip above the mouth
            assert lm[36:48, 1].mean() < lm[30, 1] < lm[48:68, 1].mean()
            assert lm[17:27, 1].mean() < lm[36:48, 1].mean() and lm[57, 1] < lm[8, 1]


def test_jaw_points_lie_on_the_face_boundary():
    for identity in (0, 1, 2):
        _, lm, labels = _frontal(SEED, identity)
        for k in range(17):
            assert _on_face_boundary(labels, lm[k]), (identity, k, lm[k])
    # a turned head: the side toward the camera is visible and still on the boundary; with
    # yaw > 0 the theta < 0 side (points 0..8) faces the camera
    _, lm, labels = _frontal(SEED, 1, yaw=25.0)
    assert all(_on_face_boundary(labels, lm[k]) for k in range(0, 9))
    # the hidden far side keeps its projection (3-D landmarks): inside the face skin, a few
    # pixels in from the visible outline
    for k in range(12, 17):
        x, y = np.rint(lm[k]).astype(int)
        assert labels[y, x] == HELEN_ID["face_skin"] and not _on_face_boundary(labels, lm[k], 1)


def test_part_points_sit_in_their_labels():
    for identity in range(3):
        for view in range(3):
            rec = F.face_record(SEED, identity, view)
            lm, labels = rec.landmarks, rec.labels
            for k in range(17, 27):  # brow points within a pixel of their brow label
                want = HELEN_ID["left_brow"] if k < 22 else HELEN_ID["right_brow"]
                assert (_window(labels, lm[k], 1) == want).any(), (identity, view, k)
            for k in range(36, 48):
                want = HELEN_ID["left_eye"] if k < 42 else HELEN_ID["right_eye"]
                assert (_window(labels, lm[k], 1) == want).any(), (identity, view, k)
            x, y = np.rint(lm[30]).astype(int)
            assert labels[y, x] == HELEN_ID["nose"]
            for k in (50, 51, 52):
                assert (_window(labels, lm[k], 1) == HELEN_ID["upper_lip"]).any()
            for k in (56, 57, 58):
                assert (_window(labels, lm[k], 1) == HELEN_ID["lower_lip"]).any()


def test_part_regions_are_where_the_landmarks_say():
    identity = _open_mouth_identity()
    image, lm, labels = _frontal(SEED, identity, tightness=1.2)
    for group, label in (((36, 42), "left_eye"), ((42, 48), "right_eye")):
        poly = _polygon_mask(lm[slice(*group)], labels.shape)
        part = labels == HELEN_ID[label]
        assert (poly & part).sum() > 0.8 * part.sum()  # the label lies inside the outline
        assert (poly & part).sum() > 0.6 * poly.sum()  # and fills most of it
    mouth = _polygon_mask(lm[48:60], labels.shape)
    lips = np.isin(labels, [HELEN_ID[n] for n in ("upper_lip", "inner_mouth", "lower_lip")])
    assert (mouth & lips).sum() > 0.85 * lips.sum() and (mouth & lips).sum() > 0.7 * mouth.sum()
    inner = _polygon_mask(lm[60:68], labels.shape)
    assert (labels[inner] == HELEN_ID["inner_mouth"]).mean() > 0.5
    middle = np.rint((lm[62] + lm[66]) / 2).astype(int)  # between the inner lip edges
    assert labels[middle[1], middle[0]] == HELEN_ID["inner_mouth"]
    nose = labels == HELEN_ID["nose"]
    ys, xs = np.nonzero(nose)
    assert abs(xs.mean() - lm[27:36, 0].mean()) < 1.5
    assert lm[27, 1] - 2 < ys.min() and ys.max() < lm[33, 1] + 2
    # the upper lip is redder than the face skin under the same light
    skin = image[labels == HELEN_ID["face_skin"]].astype(float).mean(axis=0)
    lip = image[labels == HELEN_ID["upper_lip"]].astype(float).mean(axis=0)
    assert lip[0] / lip[1] > skin[0] / skin[1]


def test_every_label_is_present_in_a_frontal_view():
    identity = _open_mouth_identity()
    _, _, labels = _frontal(SEED, identity, tightness=1.5, offset=(0.0, 0.0))
    counts = np.bincount(labels.ravel(), minlength=11)
    assert (counts > 0).all(), counts
    assert counts[HELEN_ID["left_eye"]] == pytest.approx(counts[HELEN_ID["right_eye"]], rel=0.2)
    closed = next(i for i in range(20) if F.face_identity(SEED, i).mouth_open == 0)
    _, _, labels = _frontal(SEED, closed)
    assert not (labels == HELEN_ID["inner_mouth"]).any()


def test_crops_vary_in_tightness_and_offset():
    recs = [F.face_record(SEED, 2, v) for v in range(6)]
    eyes = np.array([r.landmarks[36:48].mean(axis=0) for r in recs])
    spans = np.array([r.landmarks[0, 0] - r.landmarks[16, 0] for r in recs])
    assert np.linalg.norm(eyes[0] - eyes[1]) > 2.0
    assert np.ptp(eyes[:, 0]) > 8 and np.ptp(eyes[:, 1]) > 4
    assert np.ptp(np.abs(spans)) > 15  # the face's size in the crop changes
    views = [F.face_view(SEED, 2, v) for v in range(6)]
    assert len({round(v.tightness, 6) for v in views}) == 6


def test_landmarks_are_placed_to_a_fraction_of_a_pixel():
    # At yaw 0 the two eye labels are mirror images about the head axis and each is symmetric
    # about its corners' row (orthographic: image y depends on the height alone), so the mean
    # of the two label centroids is the mean of the four eye corners, for any roll and offset
    # (both move by the same affine map). A half-pixel convention slip, a wrong supersampling
    # offset or nearest-neighbour bias in the warp would show as a shift of ~0.1-0.5 px.
    p = dataclasses.replace(F.face_identity(SEED, 5), mouth_open=0.0)
    for roll, offset in ((0.0, (0.3, -0.2)), (0.0, (-0.7, 0.5)), (7.0, (0.3, -0.2)),
                         (-5.0, (-0.7, 0.5))):
        view = dataclasses.replace(F.face_view(SEED, 5, 0), yaw=0.0, roll=roll, tightness=1.05,
                                   offset=offset)
        _, lm, labels = F.render_face(p, view)
        centroids = [np.argwhere(labels == HELEN_ID[name])[:, ::-1].mean(axis=0)
                     for name in ("left_eye", "right_eye")]
        corners = lm[[36, 39, 42, 45]].mean(axis=0)
        np.testing.assert_allclose(np.mean(centroids, axis=0), corners, atol=0.15,
                                   err_msg=f"roll {roll}, offset {offset}")


def test_face_records_iterates_a_split():
    recs = list(F.face_records(SEED, 4, 6, 2))
    assert [(r.identity, r.view) for r in recs] == [(4, 0), (4, 1), (5, 0), (5, 1)]
    single = F.face_record(SEED, 5, 1)
    np.testing.assert_array_equal(recs[3].image, single.image)
    np.testing.assert_array_equal(recs[3].landmarks, single.landmarks)
    np.testing.assert_array_equal(recs[3].labels, single.labels)
    with pytest.raises(ValueError, match=r"\[6, 6\)"):
        next(F.face_records(SEED, 6, 6, 2))
    with pytest.raises(ValueError, match="views_per_identity=0"):
        next(F.face_records(SEED, 0, 1, 0))


def test_bad_views_are_named():
    p = F.face_identity(SEED, 0)
    view = F.face_view(SEED, 0, 0)
    with pytest.raises(ValueError, match="tightness 0.9"):
        F.render_face(p, dataclasses.replace(view, tightness=0.9))
    with pytest.raises(ValueError, match="offset"):
        F.render_face(p, dataclasses.replace(view, offset=(1.5, 0.0)))
    with pytest.raises(ValueError, match="yaw 120"):
        F.render_face(p, dataclasses.replace(view, yaw=120.0))


def test_face_identity_keeps_the_person_and_adds_a_mouth():
    for identity in range(6):
        face, base = F.face_identity(SEED, identity), S.identity_for(SEED, identity)
        assert dataclasses.replace(face, mouth_open=0.0) == base
        assert face.mouth_open == 0 or F.MOUTH_OPEN_MM[0] <= face.mouth_open <= F.MOUTH_OPEN_MM[1]
    assert any(F.face_identity(SEED, i).mouth_open > 0 for i in range(6))
