"""tpgan_tf/models/tpgan/serving.py: the in-graph training input, the uint8 conversion, the
Python inference API and its errors, the batch-statistics effect.

The references are the numpy implementations of the data preparation (tpgan_tf/faces/parts.py,
the training path of spec 1.4), so the graph is checked against independent code.
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.faces.cases import LEFT, RIGHT, pattern_image
from tpgan_tf.faces import parts as pt
from tpgan_tf.faces.landmarks import mirror_landmarks, to_index_points
from tpgan_tf.models.tpgan import serving as fz


def _training_inputs(image, points0):
    """The training path with numpy (data_prep): patches cut before mirroring, then the whole
    sample mirrored when the face looks left; / 256."""
    patches, padded = pt.crop_parts(image, to_index_points(points0.astype(np.float64)), 20)
    if points0[2, 0] < 0.5 * (points0[0, 0] + points0[1, 0]):
        image, _, patches, _ = pt.mirror_sample(image, points0, patches, padded)
    out = {"image": image, **patches}
    return {k: v.astype(np.float32) / 256.0 for k, v in out.items()}


def test_generator_inputs_follow_the_training_path():
    image = pattern_image(2)
    mirrored_image = image[:, ::-1]
    mirrored_points = mirror_landmarks(RIGHT.astype(np.float64), 128).astype(np.float32)
    images = np.stack([image, mirrored_image, image])
    points = np.stack([RIGHT, mirrored_points, LEFT])
    got, flags = fz.generator_inputs(tf.constant(images), tf.constant(points))
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
    got = fz.to_uint8(tf.constant(x), "minmax").numpy()
    np.testing.assert_array_equal(got[0, 0, :, 0], [0, 128, 255])  # 127.5 rounds half up
    np.testing.assert_array_equal(got[1], 0)
    y = np.array([[[[-0.1], [0.5], [100.4 / 256], [1.2]]]], np.float32)
    np.testing.assert_array_equal(fz.to_uint8(tf.constant(y), "clip").numpy().ravel(),
                                  [0, 128, 100, 255])
    with pytest.raises(ValueError, match="output_range"):
        fz.to_uint8(tf.constant(y), "percentile")
    assert fz.OUTPUT_RANGES == ("minmax", "clip")


def test_frontalizer_rejects_an_unknown_output_range(tiny_tpgan):
    with pytest.raises(ValueError, match="output_range must be one of"):
        fz.Frontalizer(tiny_tpgan.generator, output_range="percentile")
    info = tiny_tpgan.frontalizer.export_info()
    assert (info["output_range"], info["nose_offset"], info["bn_mode"]) == (
        "minmax", 20, "batch_stats")


def test_bad_requests_in_python_inference(tiny_tpgan, sample_faces):
    frontalizer = tiny_tpgan.frontalizer
    images, points = sample_faces
    with pytest.raises(tf.errors.InvalidArgumentError, match="inside the 128 x 128"):
        frontalizer.frontalize(images[:1], points[:1] + np.float32([130, 0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be finite"):
        frontalizer.frontalize(images[:1], points[:1] * np.float32(np.inf))
    with pytest.raises(ValueError, match="128, 128, 3"):
        frontalizer.frontalize(images[:1, :64], points[:1])
    with pytest.raises(ValueError, match="uint8"):
        frontalizer.frontalize(images[:1].astype(np.float32), points[:1])


def test_batch_statistics_effect(tiny_tpgan, sample_faces):
    """bn_mode=batch_stats: a batch of identical faces has the statistics of one face, so its
    frontal equals the single face's; a batch of different faces changes it."""
    frontalizer = tiny_tpgan.frontalizer
    images, points = sample_faces
    alone = frontalizer.frontalize_float(images[:1], points[:1])
    copies = frontalizer.frontalize_float(np.repeat(images[:1], 3, 0),
                                          np.repeat(points[:1], 3, 0))
    assert np.abs(copies - alone).max() < 1e-4
    effect = fz.bn_batch_effect(frontalizer, images, points)
    assert effect["batch"] == 4 and effect["mean_abs_float"] > 1e-4
    assert effect["max_abs_float"] >= effect["mean_abs_float"]
    with pytest.raises(ValueError, match="at least 2 faces"):
        fz.bn_batch_effect(frontalizer, images[:1], points[:1])


def test_frontalize_equals_uint8_of_frontalize_float(tiny_tpgan, sample_faces):
    frontalizer = tiny_tpgan.frontalizer
    images, points = sample_faces
    as_float = frontalizer.frontalize_float(images, points)
    assert as_float.shape == (4, 128, 128, 3) and as_float.dtype == np.float32
    np.testing.assert_array_equal(frontalizer.frontalize(images, points),
                                  fz.to_uint8(tf.constant(as_float)).numpy())
