"""FSRNet's crop of a face in a photo (tpgan_tf/models/fsrnet/crop_rule.py): the five-point
similarity against hand-computed values, the antialiased warp against slicing and
MATLAB-style shrinking, the template measured from face records, and the template in the
config and the export_info."""
from __future__ import annotations

import math
import os

import cv2
import numpy as np
import pytest

from tpgan_tf.faces.alignment import imresize_antialiased
from tpgan_tf.faces.landmarks import five_from_68
from tpgan_tf.models.fsrnet import crop_rule
from tpgan_tf.models.fsrnet.crop_rule import (TEMPLATE, crop_face, matrix_scale,
                                              measure_template, similarity_matrix, symmetric)


def test_similarity_by_hand():
    # (-1, 0), (1, 0) onto (0, -2), (0, 2): a quarter turn and scale 2, no shift.
    np.testing.assert_allclose(similarity_matrix([[-1, 0], [1, 0]], [[0, -2], [0, 2]]),
                               [[0, -2, 0], [2, 0, 0]], atol=1e-12)
    # A triangle onto its mirror image: no similarity mirrors, so the least-squares answer
    # is a half turn at scale 1/2 (centred points P, Q: sum(conj(P) Q) = -4/3,
    # sum |P|^2 = 8/3, a = -1/2; shift = mean(Q) - a mean(P) = (0, 1/2)).
    m = similarity_matrix([[-1, 0], [1, 0], [0, 1]], [[1, 0], [-1, 0], [0, 1]])
    np.testing.assert_allclose(m, [[-0.5, 0, 0], [0, -0.5, 0.5]], atol=1e-12)
    assert matrix_scale(m) == pytest.approx(0.5)
    # An exact similarity of the template is recovered.
    t = np.deg2rad(25)
    lin = 1.7 * np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    points = np.asarray(TEMPLATE) * 0.3 + [200, 100]
    target = points @ lin.T + [3, -4]
    np.testing.assert_allclose(similarity_matrix(points, target),
                               np.hstack([lin, [[3], [-4]]]), atol=1e-9)
    with pytest.raises(ValueError, match="coincide"):
        similarity_matrix(np.ones((5, 2)), TEMPLATE)


def test_crop_is_a_slice_a_matlab_shrink_and_repeats_edges():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    # A shift by whole pixels: the crop is a slice of the photo.
    np.testing.assert_array_equal(crop_face(image, [[1, 0, -10], [0, 1, -20]], 16),
                                  image[20:36, 10:26])
    # Halving with pixel centres kept (c = (x + 0.5) / 2 - 0.5): MATLAB's antialiased
    # bicubic imresize by 0.5, rounded.
    half = np.clip(np.rint(imresize_antialiased(image, 0.5)), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(crop_face(image, [[0.5, 0, -0.25], [0, 0.5, -0.25]], 24),
                                  half[:24, :24])
    # Outside the photo the edge pixels repeat (not black).
    crop = crop_face(image, [[1, 0, 5], [0, 1, 5]], 16)
    np.testing.assert_array_equal(crop[5:, 5:], image[:11, :11])
    np.testing.assert_array_equal(crop[0, 7], image[0, 2])
    np.testing.assert_array_equal(crop[3, 0], image[0, 0])


def _record(points, scheme) -> bytes:
    """A face record (blank pictures) with these landmarks."""
    from tpgan_tf.data.face_records import make_example

    png = lambda a: cv2.imencode(".png", a)[1].tobytes()  # noqa: E731
    return make_example({"hr_png": png(np.zeros((128, 128, 3), np.uint8)),
                         "parsing_png": png(np.zeros((128, 128), np.uint8)),
                         "landmarks": points, "landmark_scheme": scheme,
                         "label_set": "helen11", "name": "x", "source": "test"})


def test_measure_template_from_records(tmp_path, capsys):
    """The symmetric mean of the records' five points: two synthetic faces' 68 points
    (five_from_68) and, in another folder, two CelebA-style five-point records."""
    from data_prep.synthetic.faces import face_record

    import tensorflow as tf

    faces = [face_record(0, i, 0) for i in range(2)]
    with_68 = tmp_path / "ibug"
    with_68.mkdir()
    with tf.io.TFRecordWriter(str(with_68 / "train-00000-of-00001.tfrecord")) as w:
        for face in faces:
            w.write(_record(face.landmarks, "ibug68"))
    found = measure_template(str(with_68))
    mean = np.mean([five_from_68(f.landmarks) for f in faces], axis=0)
    np.testing.assert_allclose(found["raw_mean"], mean, atol=1e-4)
    np.testing.assert_allclose(found["template"], symmetric(mean, 128), atol=1e-4)
    t = found["template"]  # symmetric: x + mirror x = 127, the pairs share their y
    assert t[0, 0] + t[1, 0] == pytest.approx(127) and t[0, 1] == pytest.approx(t[1, 1])
    assert t[2, 0] == pytest.approx(63.5) and found["faces"] == 2

    five = tmp_path / "celeba"
    five.mkdir()
    a = np.array([[40, 50], [80, 52], [60, 70], [45, 90], [75, 88]], np.float32)
    b = a[[1, 0, 2, 4, 3]] + 2  # listed right-to-left: put in tpgan spec 1.2 order
    with tf.io.TFRecordWriter(str(five / "train-00000-of-00001.tfrecord")) as w:
        w.write(_record(a, "celeba5"))
        w.write(_record(b, "celeba5"))
    np.testing.assert_allclose(measure_template(str(five))["raw_mean"], a + 1, atol=1e-6)

    assert crop_rule.main([f"--records={with_68}"]) == 0
    out = capsys.readouterr().out
    flat = ",".join(f"{v:.2f}" for v in found["template"].reshape(-1))
    assert out.strip().splitlines()[-1] == f"--override=priors.crop_template={flat}"
    assert crop_rule.main([f"--records={tmp_path / 'none'}"]) == 2
    assert "error: " in capsys.readouterr().out
    with pytest.raises(ValueError, match="give priors.crop_template by hand"):
        crop_rule.five_points(np.zeros((194, 2)), "helen194")


def test_template_in_config_and_export_info():
    from tpgan_tf.core.config import apply_overrides, get_config
    from tpgan_tf.models.fsrnet.serving import SuperResolver

    flat = [v for p in TEMPLATE for v in p]
    assert get_config("demo", "fsrnet").priors.crop_template == flat
    assert get_config("paper", "fsrnet").priors.crop_template == []  # Helen: not measured
    cfg = apply_overrides(get_config("paper", "fsrnet"),
                          ["priors.crop_template=" + ",".join(map(str, range(10)))])
    assert cfg.priors.crop_template == [float(v) for v in range(10)]
    with pytest.raises(ValueError, match="priors.crop_template: a crop template is ten"):
        apply_overrides(get_config("demo", "fsrnet"), ["priors.crop_template=1,2,3"])

    class Generator:
        norm = {}

    info = SuperResolver(Generator(), get_config("tiny", "fsrnet")).export_info()
    assert info["alignment"]["template_landmarks"] == [list(p) for p in TEMPLATE]
    assert (info["alignment"]["crop_size"], info["alignment"]["lr_size"]) == (128, 16)
    assert SuperResolver(Generator(), get_config("paper", "fsrnet")).export_info()[
        "alignment"]["template_landmarks"] is None


@pytest.mark.slow
def test_template_is_the_demo_records_mean(tmp_path):
    """TEMPLATE is measured on the demo's training records (64 identities x 4 views, seed
    1000: experiments/demo/fsrnet.py); ~70 s on 2 cores."""
    from data_prep.build_face_records import build
    from experiments.demo.fsrnet import SEED_OFFSET, TEST_IDENTITIES, TRAIN_IDENTITIES, VIEWS

    out = str(tmp_path / "records")
    build(out, "synthetic", synthetic_identities=TRAIN_IDENTITIES,
          synthetic_test_identities=TEST_IDENTITIES, synthetic_views=VIEWS,
          seed=SEED_OFFSET, show_progress=False)
    found = measure_template(out)
    assert found["faces"] == TRAIN_IDENTITIES * VIEWS
    np.testing.assert_allclose(found["template"], TEMPLATE, atol=0.006)
    assert os.path.exists(os.path.join(out, "manifest.json"))
