"""experiments/serving_client.py --detect (tpgan_tf/serving/requests.py): a raw photo is sent to `frontalize_image` with the
points MTCNN finds in it (tests/data/astronaut.jpg), against a stand-in of TF Serving's REST
API on 127.0.0.1 that records the request; gRPC request building; errors."""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tpgan_tf.serving import requests as sc
from tests import rest_stand_in
from tpgan_tf.faces import detection

TPGAN = sc.signatures_of("tpgan")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTO = os.path.join(REPO, "tests", "data", "astronaut.jpg")
FRONTAL, ALIGNED = b"\x89PNG frontal", b"\x89PNG aligned"


@pytest.fixture(scope="module")
def expected_points():
    image = cv2.imread(PHOTO, cv2.IMREAD_COLOR)[:, :, ::-1]
    (face,) = detection.detect(np.ascontiguousarray(image))
    return face.landmarks.astype(np.float32)


@pytest.fixture()
def server():
    """A REST stand-in: records each body, answers with one fixed prediction per instance."""
    bodies = []

    def respond(path, body):
        bodies.append((path, body))
        pred = {"frontal_png_bytes": {"b64": base64.b64encode(FRONTAL).decode()},
                "aligned_png_bytes": {"b64": base64.b64encode(ALIGNED).decode()},
                "aligned_landmarks": [[0.0, 0.0]] * 5}
        return 200, {"predictions": [pred] * len(body["instances"])}

    httpd = rest_stand_in.start(respond)
    yield f"127.0.0.1:{httpd.server_address[1]}", bodies
    httpd.shutdown()
    httpd.server_close()


def test_detected_instances(expected_points):
    (inst,) = sc.detected_instances([PHOTO])
    assert inst["image_bytes"] == open(PHOTO, "rb").read()  # no EXIF turn: the file's bytes
    assert inst["landmarks"].dtype == np.float32 and inst["landmarks"].shape == (5, 2)
    np.testing.assert_array_equal(inst["landmarks"], expected_points)


def test_rest_with_detect(server, expected_points, tmp_path):
    address, bodies = server
    printed = []
    written = sc.run(address, "rest", "tpgan", "frontalize_image", [PHOTO], None,
                     str(tmp_path), detect=True, on_request=printed.append, model="tpgan")
    ((path, body),) = bodies
    assert path == "/v1/models/tpgan:predict" and body["signature_name"] == "frontalize_image"
    (row,) = body["instances"]
    assert base64.b64decode(row["image_bytes"]["b64"]) == open(PHOTO, "rb").read()
    np.testing.assert_array_equal(np.asarray(row["landmarks"], np.float32), expected_points)
    np.testing.assert_array_equal(printed[0][0]["landmarks"], expected_points)
    assert sorted(os.path.basename(p) for p in written[0]) == [
        "astronaut_aligned.png", "astronaut_aligned_landmarks.npy", "astronaut_frontal.png"]
    assert open(tmp_path / "astronaut_frontal.png", "rb").read() == FRONTAL


def test_grpc_request_with_detected_points(expected_points):
    import tensorflow as tf

    instances = sc.request_instances("frontalize_image", [PHOTO, PHOTO], None, detect=True,
                                     signatures=TPGAN)
    request = sc.grpc_request("tpgan", "frontalize_image", instances, None, TPGAN)
    np.testing.assert_array_equal(tf.make_ndarray(request.inputs["landmarks"]),
                                  np.stack([expected_points, expected_points]))
    assert [bytes(b) for b in tf.make_ndarray(request.inputs["image_bytes"])] == [
        open(PHOTO, "rb").read()] * 2


def test_detect_errors(tmp_path):
    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), np.full((200, 200, 3), 90, np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"flat.png: --detect found no usable face \(no face "
                                         r"found\); give its landmarks with --landmarks"):
        sc.detected_instances([PHOTO, str(flat)])
    with pytest.raises(ValueError, match="broken.jpg: not a readable image"):
        sc.detected_instances([str(tmp_path / "broken.jpg")])
    with pytest.raises(FileNotFoundError, match="nothing.jpg: no such image file"):
        sc.detected_instances([str(tmp_path / "nothing.jpg")])
    with pytest.raises(ValueError, match="low confidence"):
        sc.detected_instances([PHOTO], min_confidence=1.0)
    with pytest.raises(ValueError, match="exactly one of --landmarks"):
        sc.request_instances("frontalize_image", [PHOTO], "1,2,3,4,5,6,7,8,9,10", detect=True,
                            signatures=TPGAN)
    with pytest.raises(ValueError, match="--detect needs --signature=frontalize_image"):
        sc.request_instances("serving_default", [PHOTO], None, detect=True, signatures=TPGAN)


def test_command_line_with_detect(server, tmp_path):
    """The CLI as a user runs it: one line with the detected points, one with the files."""
    address, bodies = server
    photo = tmp_path / "me.jpg"
    shutil.copy(PHOTO, photo)
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.serving_client", f"--server={address}", "--api=rest",
         f"--image={photo}", "--detect", f"--output={tmp_path / 'out'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, second = proc.stdout.strip().splitlines()
    assert first.startswith(f"{photo}: detected landmarks ")
    numbers = np.array(first.rsplit(" ", 1)[1].split(","), float).reshape(5, 2)
    np.testing.assert_allclose(numbers, bodies[0][1]["instances"][0]["landmarks"], atol=0.006)
    assert second.startswith(f"{photo} -> ") and "me_frontal.png" in second
