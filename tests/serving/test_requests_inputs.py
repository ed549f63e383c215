"""tpgan_tf/serving/requests.py builds request instances for any model's signature table:
stacked images, --input values, and errors that name what is missing."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tpgan_tf.serving import requests as sc

TABLE = {
    "rotate": {"image": ("uint8", (8, 8, 3)), "pose": ("int32", ())},
    "fuse": {"images": ("uint8", (3, 8, 8, 3))},
    "sr": {"image": ("uint8", (4, 4, 3))},
}


@pytest.fixture
def images(tmp_path):
    paths = []
    for i in range(3):
        path = str(tmp_path / f"f{i}.png")
        cv2.imwrite(path, np.full((8, 8, 3), 10 * i, np.uint8))
        paths.append(path)
    return paths


def test_extra_input_and_one_instance_per_image(images):
    got = sc.request_instances("rotate", images[:2], None, extra={"pose": "4"}, signatures=TABLE)
    assert len(got) == 2 and got[1]["image"].shape == (8, 8, 3) and got[1]["image"][0, 0, 0] == 10
    assert got[0]["pose"].dtype == np.int32 and got[0]["pose"].shape == () and got[0]["pose"] == 4


def test_stacked_input_takes_every_image_as_one_instance(images):
    (got,) = sc.request_instances("fuse", images, None, signatures=TABLE)
    assert got["images"].shape == (3, 8, 8, 3)
    np.testing.assert_array_equal(got["images"][:, 0, 0, 0], [0, 10, 20])
    with pytest.raises(ValueError, match="takes 3 images per instance"):
        sc.request_instances("fuse", images[:2], None, signatures=TABLE)


def test_errors_name_the_input(images):
    with pytest.raises(ValueError, match="needs input 'pose'.*--input=pose=VALUE"):
        sc.request_instances("rotate", images[:1], None, signatures=TABLE)
    with pytest.raises(ValueError, match="has no inputs \\['zoom'\\]"):
        sc.request_instances("rotate", images[:1], None, extra={"pose": "1", "zoom": "2"},
                             signatures=TABLE)
    with pytest.raises(ValueError, match="needs a 4x4 face, got 8x8"):
        sc.request_instances("sr", images[:1], None, signatures=TABLE)
    with pytest.raises(ValueError, match="takes no landmarks"):
        sc.request_instances("sr", images[:1], "1,2,3,4,5,6,7,8,9,10", signatures=TABLE)
    with pytest.raises(ValueError, match="unknown signature 'nope'"):
        sc.request_instances("nope", images[:1], None, signatures=TABLE)


def test_save_outputs_writes_images_of_any_size_and_arrays(tmp_path):
    from tpgan_tf.serving.client import save_outputs

    written = save_outputs({"sr": np.full((16, 16, 3), 7, np.uint8),
                            "heatmaps": np.zeros((4, 4, 5), np.float32),
                            "frontal_png_bytes": b"\x89PNG..."}, str(tmp_path), "x")
    assert sorted(p.rsplit("/", 1)[1] for p in written) == ["x_frontal.png", "x_heatmaps.npy",
                                                           "x_sr.png"]
    assert cv2.imread(str(tmp_path / "x_sr.png")).shape == (16, 16, 3)
