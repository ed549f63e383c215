"""tpgan_tf/inference.py: the in-graph training input, uint8 conversion, alignment, loading G.

The references are the numpy implementations of data_prep (patches.py: the training path of
spec 1.4; alignment.py: spec 1.2), so the TF code is checked against independent code.
"""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_prep import alignment as al
from data_prep import patches as pt
from data_prep import synthetic as sy
from data_prep.landmarks import round_half_away as np_round_half_away
from data_prep.landmarks import to_index_points
from tpgan_tf import inference as inf
from tpgan_tf.parts import PART_NAMES

# Template-like crop landmarks (0-based floats) of a face looking image-right and image-left.
RIGHT = np.array([[50.2, 41.0], [82.7, 40.4], [78.4, 64.6], [55.5, 88.1], [80.49, 88.6]],
                 np.float32)
LEFT = np.array([[44.5, 40.5], [76.6, 41.2], [48.3, 65.0], [47.6, 88.7], [72.2, 88.2]],
                np.float32)


def _pattern_image(seed=0):
    """A random uint8 [128, 128, 3] face stand-in (every pixel different enough to locate)."""
    return np.random.default_rng(seed).integers(0, 256, (128, 128, 3), dtype=np.uint8)


def test_round_half_away_matches_numpy():
    values = np.array([-2.5, -1.5, -0.5, -0.49, 0.0, 0.5, 1.5, 2.5, 2.4999, 127.5], np.float32)
    got = inf.round_half_away(tf.constant(values)).numpy()
    np.testing.assert_array_equal(got, [-3, -2, -1, 0, 0, 1, 2, 3, 2, 128])
    np.testing.assert_array_equal(got, np_round_half_away(values.astype(np.float64)))


def test_windows_equal_data_prep_part_windows():
    rng = np.random.default_rng(1)
    points = rng.uniform(-30, 160, (300, 5, 2)).astype(np.float32)
    points[:100] = np.round(points[:100] * 2) / 2  # exact halves: the rounding ties
    got = inf.part_windows(tf.constant(points), nose_offset=20).numpy()
    for b in range(len(points)):
        ref = pt.part_windows(to_index_points(points[b].astype(np.float64)), 20)
        for i, name in enumerate(PART_NAMES):
            assert tuple(got[b, i]) == ref[name][:2], (b, name)
    # One example by hand (spec 1.4, `.5pt` index = round(p) + 1):
    # eye_left (50.2, 41.0) -> (51, 42): rows 22.., cols 31..; nose (78.4, 64.6) -> (79, 66):
    # rows 66 - 21 = 45, cols 79 - 20 + 1 = 60; mouth corners (55.5, 88.1) -> (57, 89) (a tie,
    # rounded away from 0) and (80.49, 88.6) -> (81, 90): my = 179 // 2 = 89, mx = 138 // 2 = 69.
    hand = inf.part_windows(tf.constant(RIGHT[None])).numpy()[0]
    np.testing.assert_array_equal(hand, [[22, 31], [21, 64], [45, 60], [73, 45]])


def test_cut_patches_equal_crop_parts_with_zero_fill():
    image = _pattern_image()
    points = np.stack([RIGHT, RIGHT + np.float32([[-60, -30]]), RIGHT + np.float32([[55, 45]])])
    windows = inf.part_windows(tf.constant(points))
    got = inf.cut_patches(tf.constant(np.stack([image] * 3)), windows)
    for b in range(3):
        ref, padded = pt.crop_parts(image, to_index_points(points[b].astype(np.float64)), 20)
        for name in PART_NAMES:
            np.testing.assert_array_equal(got[name][b].numpy(), ref[name], err_msg=name)
        assert any(padded.values()) == (b > 0)  # the shifted faces reach outside the crop


def test_faces_left_and_mirror_landmarks():
    lm = tf.constant(np.stack([RIGHT, LEFT]))
    np.testing.assert_array_equal(inf.faces_left(lm).numpy(), [False, True])
    frontal = RIGHT.copy()
    frontal[2, 0] = 0.5 * (frontal[0, 0] + frontal[1, 0])  # nose exactly in the middle
    assert not inf.faces_left(tf.constant(frontal[None])).numpy()[0]
    mirrored = inf.mirror_landmarks(tf.constant(RIGHT[None])).numpy()[0]
    np.testing.assert_allclose(mirrored, pt.mirror_landmarks(RIGHT.astype(np.float64)), atol=1e-5)
    np.testing.assert_allclose(mirrored[0], [127 - 82.7, 40.4], atol=1e-5)  # right eye -> left


def _training_inputs(image, points0):
    """The training path with numpy (data_prep): patches cut before mirroring, then the whole
    sample mirrored when the face looks left; / 256."""
    patches, padded = pt.crop_parts(image, to_index_points(points0.astype(np.float64)), 20)
    if points0[2, 0] < 0.5 * (points0[0, 0] + points0[1, 0]):
        image, _, patches, _ = pt.mirror_sample(image, points0, patches, padded)
    out = {"image": image, **patches}
    return {k: v.astype(np.float32) / 256.0 for k, v in out.items()}


def test_generator_inputs_follow_the_training_path():
    image = _pattern_image(2)
    mirrored_image = image[:, ::-1]
    mirrored_points = pt.mirror_landmarks(RIGHT.astype(np.float64)).astype(np.float32)
    images = np.stack([image, mirrored_image, image])
    points = np.stack([RIGHT, mirrored_points, LEFT])
    got, flags = inf.generator_inputs(tf.constant(images), tf.constant(points))
    np.testing.assert_array_equal(flags.numpy(), [False, True, True])
    for b in range(3):
        ref = _training_inputs(images[b], points[b])
        for key, value in ref.items():
            np.testing.assert_array_equal(got[key][b].numpy(), value, err_msg=f"{b} {key}")
    # The mirror contract: the mirrored face gives exactly the same global input ...
    np.testing.assert_array_equal(got["image"][1].numpy(), got["image"][0].numpy())
    # ... but its patches are shifted (windows are cut before mirroring): eyes by one column
    # (`.5pt` index = round + 1), the nose by three (o = 20 puts the tip at column 19 of 40).
    for name, shift in (("eye_left", 1), ("eye_right", 1), ("nose", 3)):
        a, b = got[name][0].numpy(), got[name][1].numpy()
        np.testing.assert_array_equal(b[:, shift:], a[:, :-shift], err_msg=name)
        assert not np.array_equal(a, b)


def test_to_uint8_minmax_and_clip_by_hand():
    x = np.zeros((2, 1, 3, 1), np.float32)
    x[0, 0, :, 0] = [-1.0, 0.0, 1.0]  # span 2: (x + 1) * 127.5 -> 0, 127.5, 255
    x[1, 0, :, 0] = 0.3  # flat image: span taken as 1, everything at the minimum -> 0
    got = inf.to_uint8(tf.constant(x), "minmax").numpy()
    np.testing.assert_array_equal(got[0, 0, :, 0], [0, 128, 255])  # 127.5 rounds half up
    np.testing.assert_array_equal(got[1], 0)
    y = np.array([[[[-0.1], [0.5], [100.4 / 256], [1.2]]]], np.float32)
    np.testing.assert_array_equal(inf.to_uint8(tf.constant(y), "clip").numpy().ravel(),
                                  [0, 128, 100, 255])
    with pytest.raises(ValueError, match="output_range"):
        inf.to_uint8(tf.constant(y), "percentile")


def test_alignment_matrices_equal_data_prep():
    rng = np.random.default_rng(3)
    cases = [rng.uniform(100, 500, (5, 2)) for _ in range(20)]
    vertical_eyes = np.array([[300, 200], [300, 230], [330, 250], [290, 300], [320, 301]], float)
    upside_down = np.array([[300, 300], [350, 305], [330, 250], [300, 200], [340, 210]], float)
    cases += [vertical_eyes, upside_down]  # roll 0 (same eye x) and d <= 0 (scale 1)
    points = np.stack(cases).astype(np.float32)
    got, scales = inf.alignment_matrices(tf.constant(points))
    for b, p in enumerate(points):
        ref, _, scale = al.alignment_matrix(p.astype(np.float64))
        np.testing.assert_allclose(got[b].numpy(), ref, rtol=1e-9, atol=1e-9)
        assert abs(scales[b].numpy() - scale) < 1e-9
    assert scales[-1].numpy() == 1.0


@pytest.mark.parametrize("yaw,size", [(30, (640, 480)), (-45, (640, 480)), (15, (200, 150))])
def test_align_photos_close_to_numpy_align_face(yaw, size):
    raw, landmarks = sy.render_view(sy.identity_for(0, 3), yaw, image_size=size,
                                    roll_degrees=5.0)
    ref = al.align_face(raw, landmarks)
    png = cv2.imencode(".png", raw[:, :, ::-1])[1].tobytes()
    aligned, crop_points = inf.align_photos(tf.constant([png]),
                                            tf.constant(landmarks[None], tf.float32))
    diff = np.abs(aligned.numpy()[0].astype(np.int32) - ref.image.astype(np.int32))
    # Measured on 40 synthetic photos: mean |difference| 0.44 grey levels on average (at most
    # 0.79) when shrinking (s ~ 0.87, antialiased Keys cubic in both), 0.75 (at most 1.6) when
    # enlarging (bilinear here, bicubic in data_prep); 99th percentile <= 12, at edges.
    assert diff.mean() < (1.0 if ref.scale < 1 else 2.0), diff.mean()
    assert np.percentile(diff, 99) <= 12
    np.testing.assert_allclose(crop_points.numpy()[0], ref.landmarks, atol=1e-3)


def test_align_photos_rejects_bad_requests():
    raw, landmarks = sy.render_view(sy.identity_for(0, 4), 0, image_size=(200, 150))
    png = tf.constant([cv2.imencode(".png", raw)[1].tobytes()])
    outside = landmarks.copy()
    outside[4, 0] = 200.0  # x beyond width - 0.5
    with pytest.raises(tf.errors.InvalidArgumentError, match="lies outside its image"):
        inf.align_photos(png, tf.constant(outside[None], tf.float32))
    nan = landmarks.copy()
    nan[1, 1] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be finite"):
        inf.align_photos(png, tf.constant(nan[None], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        inf.align_photos(tf.constant([b"not an image"]), tf.constant(landmarks[None], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="differ in size"):
        inf.align_photos(png, tf.constant(np.stack([landmarks] * 2), tf.float32))


def test_load_generator_errors(tmp_path):
    from tests.test_export import shared_tiny
    from tpgan_tf.checkpointing import variables_by_path
    from tpgan_tf.config import save_config

    tiny = shared_tiny()
    model_dir = str(tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="config"):
        inf.load_generator(model_dir)
    save_config(tiny.config, model_dir)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        inf.load_generator(model_dir)
    # A checkpoint holding only the encoder is refused, not half-restored.
    partial = tf.train.Checkpoint(generator=variables_by_path(
        tiny.generator.encoder.variables, "generator"))
    tf.train.CheckpointManager(partial, model_dir, max_to_keep=1).save(checkpoint_number=1)
    with pytest.raises(ValueError, match="does not hold this generator"):
        inf.load_generator(model_dir)
    with pytest.raises(FileNotFoundError, match="ckpt-9.index does not exist"):
        inf.load_generator(os.path.join(model_dir, "ckpt-9"))


def test_load_generator_restores_the_checkpoint(tmp_path):
    """Saved as the trainer does (tpgan_tf.checkpointing.make_checkpoint's layout under a
    CheckpointManager), with every variable moved away from its initial value so that a
    variable that is not restored shows; loaded by model_dir and by checkpoint prefix."""
    from tests.test_export import shared_tiny
    from tpgan_tf.checkpointing import variables_by_path
    from tpgan_tf.config import save_config

    tiny = shared_tiny()
    model_dir = str(tmp_path / "run")
    save_config(tiny.config, model_dir)
    originals = [w.numpy() for w in tiny.generator.weights]
    try:
        for i, w in enumerate(tiny.generator.weights):
            w.assign(originals[i] + np.float32(0.25 + 0.001 * i))
        expected = [w.numpy() for w in tiny.generator.weights]
        root = tf.train.Checkpoint(
            generator=variables_by_path(tiny.generator.variables, "generator"),
            iteration=tf.Variable(7, dtype=tf.int64))
        tf.train.CheckpointManager(root, model_dir, max_to_keep=2).save(checkpoint_number=7)
    finally:
        for w, value in zip(tiny.generator.weights, originals):
            w.assign(value)
    by_prefix, _, ckpt_prefix = inf.load_generator(os.path.join(model_dir, "ckpt-7"))
    assert ckpt_prefix == os.path.join(model_dir, "ckpt-7")
    for w, value in zip(by_prefix.weights, expected):
        np.testing.assert_array_equal(w.numpy(), value, err_msg=w.path)
    generator, cfg, ckpt = inf.load_generator(model_dir, bn_mode="inference")
    assert ckpt == os.path.join(model_dir, "ckpt-7")
    assert cfg.name == "tiny" and cfg.model.bn_mode == "inference"
    assert generator.norm["bn_mode"] == "inference"
    assert len(generator.weights) == len(expected)
    for w, value in zip(generator.weights, expected):
        np.testing.assert_array_equal(w.numpy(), value, err_msg=w.path)
