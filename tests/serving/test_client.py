"""TF Serving client transport (tpgan_tf/serving/client.py): the REST and gRPC requests built
from request instances match the exported signatures of the shared tiny TP-GAN export
(tests/conftest.py `tiny_signature_defs`), responses are parsed and outputs written. The
script that builds instances from files and runs against stand-in servers:
tests/serving/test_requests.py."""
from __future__ import annotations

import base64
import json
import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.models.tpgan.serving import Frontalizer
from tpgan_tf.serving import client

SIGNATURE_INPUTS = Frontalizer.SIGNATURE_INPUTS


def _photo_instances(files):
    """frontalize_image instances of the photos: their file bytes and raw landmarks."""
    return [{"image_bytes": open(p, "rb").read(), "landmarks": np.asarray(lm, np.float32)}
            for p, lm in zip(files["photos"], files["points"])]


def _aligned_instance(files):
    """A serving_default instance: the aligned face (uint8) and its crop landmarks."""
    return {"image": files["aligned_image"],
            "landmarks": np.asarray(files["aligned_points"], np.float32)}


def _shape_fits(shape, expected):
    return len(shape) == len(expected) and all(e in (-1, s) for s, e in zip(shape, expected))


def test_rest_request_matches_signatures(client_files, tiny_signature_defs):
    files, defs = client_files, tiny_signature_defs
    points = [np.asarray(p, np.float32) for p in files["points"]]
    body = client.rest_request("frontalize_image", _photo_instances(files))
    json.dumps(body)  # serialisable as it is
    assert body["signature_name"] == "frontalize_image" and len(body["instances"]) == 2
    for row, path, lm in zip(body["instances"], files["photos"], points):
        assert set(row) == set(defs["frontalize_image"]["inputs"])
        assert set(row["image_bytes"]) == {"b64"}  # a DT_STRING input sent as base64
        assert base64.b64decode(row["image_bytes"]["b64"]) == open(path, "rb").read()
        assert _shape_fits([2, *np.shape(row["landmarks"])],
                           defs["frontalize_image"]["inputs"]["landmarks"][1])
        np.testing.assert_array_equal(np.asarray(row["landmarks"], np.float32), lm)

    row = client.rest_request("serving_default", [_aligned_instance(files)])["instances"][0]
    assert set(row) == set(defs["serving_default"]["inputs"])
    image = np.asarray(row["image"])
    assert image.dtype.kind == "i" and image.min() >= 0 and image.max() <= 255  # uint8 as ints
    assert _shape_fits([1, *image.shape], defs["serving_default"]["inputs"]["image"][1])
    np.testing.assert_array_equal(image, files["aligned_image"])
    assert client.rest_url("localhost:8501", "tpgan") == "http://localhost:8501/v1/models/tpgan:predict"
    assert client.rest_url("http://h:1/", "m", 3) == "http://h:1/v1/models/m/versions/3:predict"


def test_grpc_request_matches_signatures(client_files, tiny_signature_defs):
    files, defs = client_files, tiny_signature_defs
    points = [np.asarray(p, np.float32) for p in files["points"]]
    request = client.grpc_request("tpgan", "frontalize_image", _photo_instances(files),
                                  SIGNATURE_INPUTS["frontalize_image"], version=4)
    assert request.model_spec.name == "tpgan" and request.model_spec.version.value == 4
    assert request.model_spec.signature_name == "frontalize_image"
    assert set(request.inputs) == set(defs["frontalize_image"]["inputs"])
    for key, proto in request.inputs.items():
        dtype, shape = defs["frontalize_image"]["inputs"][key]
        assert tf.dtypes.as_dtype(proto.dtype).name == dtype
        assert _shape_fits([d.size for d in proto.tensor_shape.dim], shape)
    sent = tf.make_ndarray(request.inputs["image_bytes"])
    assert [bytes(b) for b in sent] == [open(p, "rb").read() for p in files["photos"]]
    np.testing.assert_array_equal(tf.make_ndarray(request.inputs["landmarks"]), np.stack(points))

    request = client.grpc_request("tpgan", "serving_default", [_aligned_instance(files)],
                                  SIGNATURE_INPUTS["serving_default"])
    assert not request.model_spec.HasField("version")
    for key, proto in request.inputs.items():
        dtype, shape = defs["serving_default"]["inputs"][key]
        assert tf.dtypes.as_dtype(proto.dtype).name == dtype
        assert _shape_fits([d.size for d in proto.tensor_shape.dim], shape)
    np.testing.assert_array_equal(tf.make_ndarray(request.inputs["image"])[0],
                                  files["aligned_image"])


def test_parse_rest_response_by_hand():
    png = b"\x89PNG\r\n\x1a\n..."
    body = {"predictions": [{"frontal_png_bytes": {"b64": base64.b64encode(png).decode()},
                             "aligned_landmarks": [[1.0, 2.0]] * 5}]}
    (got,) = client.parse_rest_response(body)
    assert got["frontal_png_bytes"] == png and got["aligned_landmarks"].shape == (5, 2)
    (single,) = client.parse_rest_response({"predictions": [[[[1, 2, 3]]]]}, ["frontal"])
    assert single["frontal"].shape == (1, 1, 3)
    with pytest.raises(RuntimeError, match="server error: bad landmarks"):
        client.parse_rest_response({"error": "bad landmarks"})


def test_parse_grpc_response_by_hand():
    from tensorflow_serving.apis import predict_pb2

    response = predict_pb2.PredictResponse()
    response.outputs["frontal_png_bytes"].CopyFrom(
        tf.make_tensor_proto(np.array([b"\x89PNG a", b"\x89PNG b"], dtype=object)))
    response.outputs["aligned_landmarks"].CopyFrom(
        tf.make_tensor_proto(np.arange(20, dtype=np.float32).reshape(2, 5, 2)))
    got = client.parse_grpc_response(response)
    assert len(got) == 2 and got[1]["frontal_png_bytes"] == b"\x89PNG b"
    np.testing.assert_array_equal(got[0]["aligned_landmarks"], np.arange(10).reshape(5, 2))
    assert client.parse_grpc_response(predict_pb2.PredictResponse()) == []


def test_save_outputs_by_kind(tmp_path):
    png = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes()
    image = np.arange(4 * 4 * 3, dtype=np.int64).reshape(4, 4, 3)  # uint8 values as ints (JSON)
    written = client.save_outputs({"aligned_png_bytes": png, "frontal": image,
                                   "frontal_float": image / 255.0}, str(tmp_path / "out"), "a")
    assert [os.path.basename(p) for p in written] == ["a_aligned.png", "a_frontal.png",
                                                      "a_frontal_float.npy"]
    assert open(written[0], "rb").read() == png  # encoded bytes are written as they came
    np.testing.assert_array_equal(cv2.imread(written[1])[:, :, ::-1], image.astype(np.uint8))
    np.testing.assert_allclose(np.load(written[2]), image / 255.0)
    json.dumps(client.rest_request("x", [{"v": np.float32(1.5), "b": b"\x00"}]))
    assert base64.b64decode(client.rest_request("x", [{"b": b"\x00\x01"}])["instances"][0][
        "b"]["b64"]) == b"\x00\x01"
