"""tpgan_tf/serving/requests.py (behind experiments/serving_client.py): the signature table it
sends matches the export, the
landmark arguments, the instances it builds from files, and the whole client end to end
against local stand-ins of TF Serving (127.0.0.1 only) that answer with the shared SavedModel
run in this process (tests/conftest.py `tiny_export`, `tiny_saved_model`, `client_files`)."""
from __future__ import annotations

import base64
import os
from concurrent import futures

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.serving import requests as sc
from tests import rest_stand_in
from tests.conftest import decode_png


TPGAN = sc.signatures_of("tpgan")


def test_client_table_matches_the_export(tiny_signature_defs):
    defs = tiny_signature_defs
    for name, inputs in TPGAN.items():
        assert set(inputs) == set(defs[name]["inputs"]), name
        for key, (dtype, shape) in inputs.items():
            assert defs[name]["inputs"][key] == (dtype, [-1, *shape]), (name, key)


def test_landmark_arguments(client_files, tmp_path):
    files = client_files
    np.testing.assert_array_equal(sc.parse_landmark_numbers("1,2 3, 4,5,6,7,8,9,10"),
                                  np.arange(1, 11, dtype=np.float32).reshape(5, 2))
    with pytest.raises(ValueError, match="10 numbers"):
        sc.parse_landmark_numbers("1,2,3")
    with pytest.raises(ValueError, match="10 numbers or a CSV"):
        sc.parse_landmark_numbers("missing.csv")
    got = sc.landmarks_for(files["csv"], files["photos"])  # paths relative to the CSV
    for g, p in zip(got, files["points"]):
        np.testing.assert_allclose(g, p, rtol=1e-6)
    elsewhere = tmp_path / "p1.png"  # found by its unique file name
    elsewhere.write_bytes(b"")
    np.testing.assert_allclose(sc.landmarks_for(files["csv"], [str(elsewhere)])[0],
                               files["points"][1], rtol=1e-6)
    with pytest.raises(ValueError, match="no landmarks for"):
        sc.landmarks_for(files["csv"], [files["aligned"]])
    with pytest.raises(ValueError, match="one --image"):
        sc.landmarks_for("1,2,3,4,5,6,7,8,9,10", files["photos"])
    with pytest.raises(ValueError, match="aligned 128x128"):
        sc.instance_inputs("serving_default", files["photos"][0], files["points"][0],
                           signatures=TPGAN)
    with pytest.raises(ValueError, match="finite"):
        sc.instance_inputs("frontalize_image", files["photos"][0], np.full((5, 2), np.nan),
                           signatures=TPGAN)


def test_instances_from_files(client_files):
    files = client_files
    points = sc.landmarks_for(files["csv"], files["photos"])
    for path, lm, want in zip(files["photos"], points, files["points"]):
        inst = sc.instance_inputs("frontalize_image", path, lm, signatures=TPGAN)
        assert set(inst) == {"image_bytes", "landmarks"}
        assert inst["image_bytes"] == open(path, "rb").read()
        assert inst["landmarks"].dtype == np.float32
        np.testing.assert_allclose(inst["landmarks"], want, rtol=1e-6)
    inst = sc.instance_inputs("serving_default", files["aligned"], files["aligned_points"],
                              signatures=TPGAN)
    np.testing.assert_array_equal(inst["image"], files["aligned_image"])
    with pytest.raises(ValueError, match="unknown signature 'nope'"):
        sc.instance_inputs("nope", files["aligned"], files["aligned_points"], signatures=TPGAN)


# ---------------------------------------------------------------- local stand-ins of TF Serving

def _run_signature(model, name: str, inputs: dict) -> dict:
    """Runs an exported signature of the loaded SavedModel `model`; numpy in, numpy out."""
    fn = model.signatures[name]
    return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


def _rest_inputs(body: dict, defs: dict) -> dict:
    """TF Serving's row format: one tensor per input, b64 objects decoded for strings."""
    sig = defs[body.get("signature_name", "serving_default")]["inputs"]
    out = {}
    for key, (dtype, _) in sig.items():
        values = [row[key] for row in body["instances"]]
        if dtype == "string":
            out[key] = np.array([base64.b64decode(v["b64"]) for v in values], dtype=object)
        else:
            out[key] = np.asarray(values, dtype=dtype)
    return out


def _rest_value(name: str, value):
    """TF Serving's JSON for one output value: b64 only for strings named *_bytes."""
    if isinstance(value, bytes):
        assert name.endswith("_bytes"), f"{name}: binary output without the _bytes suffix"
        return {"b64": base64.b64encode(value).decode("ascii")}
    return value.tolist()


def _start_rest_server(model, defs):
    def respond(path, body):
        assert path == "/v1/models/tpgan:predict", path
        try:
            name = body.get("signature_name", "serving_default")
            outputs = _run_signature(model, name, _rest_inputs(body, defs))
            batch = len(next(iter(outputs.values())))
            if len(outputs) == 1:
                ((key, value),) = outputs.items()
                preds = [_rest_value(key, value[i]) for i in range(batch)]
            else:
                preds = [{k: _rest_value(k, v[i]) for k, v in outputs.items()}
                         for i in range(batch)]
            return 200, {"predictions": preds}
        except tf.errors.InvalidArgumentError as err:
            return 400, {"error": err.message}

    return rest_stand_in.start(respond)


def _check_written(model, files, written, signature):
    """Compares the client's files with the signature run directly."""
    if signature == "frontalize_image":
        direct = _run_signature(model, "frontalize_image", {
            "image_bytes": np.array([open(p, "rb").read() for p in files["photos"]], object),
            "landmarks": np.stack(files["points"]).astype(np.float32)})
        for i, paths in enumerate(written):
            assert sorted(os.path.basename(p) for p in paths) == [
                f"p{i}_aligned.png", f"p{i}_aligned_landmarks.npy", f"p{i}_frontal.png"]
            frontal = [p for p in paths if p.endswith("_frontal.png")][0]
            assert open(frontal, "rb").read() == direct["frontal_png_bytes"][i]
    else:
        direct = _run_signature(model, "serving_default", {
            "image": files["aligned_image"][None],
            "landmarks": files["aligned_points"][None].astype(np.float32)})
        (paths,) = written
        np.testing.assert_array_equal(decode_png(open(paths[0], "rb").read()),
                                      direct["frontal"][0])


def _run_both_signatures(model, address, api, files, tmp_path):
    """The client against a running server: frontalize_image on the photos, serving_default on
    the aligned face; checks what it wrote."""
    written = sc.run(address, api, "tpgan", "frontalize_image", files["photos"], files["csv"],
                     str(tmp_path / "a"), timeout=120, model="tpgan")
    _check_written(model, files, written, "frontalize_image")
    numbers = ",".join(str(float(v)) for v in files["aligned_points"].ravel())
    written = sc.run(address, api, "tpgan", "serving_default", [files["aligned"]], numbers,
                     str(tmp_path / "b"), timeout=120, model="tpgan")
    _check_written(model, files, written, "serving_default")


def test_rest_end_to_end(client_files, tmp_path, tiny_signature_defs, tiny_saved_model):
    files, defs = client_files, tiny_signature_defs
    server = _start_rest_server(tiny_saved_model, defs)
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        _run_both_signatures(tiny_saved_model, address, "rest", files, tmp_path)
        bad = ",".join(str(float(v) + 300) for v in files["aligned_points"].ravel())
        with pytest.raises(RuntimeError, match="(?s)HTTP 400.*inside the 128 x 128"):
            sc.run(address, "rest", "tpgan", "serving_default", [files["aligned"]], bad,
                   str(tmp_path / "c"), timeout=120, model="tpgan")
    finally:
        server.shutdown()
        server.server_close()


def test_grpc_end_to_end(client_files, tmp_path, tiny_saved_model):
    files = client_files
    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 (the gRPC method name)
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            try:
                outputs = _run_signature(tiny_saved_model, request.model_spec.signature_name,
                                         inputs)
            except tf.errors.InvalidArgumentError as err:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, err.message)
            response = predict_pb2.PredictResponse()
            response.model_spec.CopyFrom(request.model_spec)
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        address = f"127.0.0.1:{port}"
        _run_both_signatures(tiny_saved_model, address, "grpc", files, tmp_path)
        with pytest.raises(RuntimeError, match="(?s)INVALID_ARGUMENT.*lies outside its image"):
            bad = ",".join("5000" for _ in range(10))
            sc.run(address, "grpc", "tpgan", "frontalize_image", files["photos"][:1], bad,
                   str(tmp_path / "c"), timeout=120, model="tpgan")
    finally:
        server.stop(grace=None)
