"""TF Serving client transport for any exported model: REST (JSON row format) and gRPC
(tensorflow-serving-api) requests from request instances ({input name: value}), their
responses, and writing the outputs. experiments/serving_client.py builds the instances from
files and flags.

  REST  POST http://<server>/v1/models/<model_name>[/versions/<v>]:predict with
        {"signature_name": ..., "instances": [{<input>: value, ...}, ...]}; bytes inputs go as
        {"b64": ...}. TF Serving answers {"predictions": [...]}: one object per instance when
        the signature has several outputs, the bare value when it has one; string outputs
        whose names end in `_bytes` come back as {"b64": ...}.
  gRPC  tensorflow_serving.apis.predict_pb2.PredictRequest (imported only for gRPC) sent to
        PredictionService/Predict.
"""
from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request

import numpy as np


# ---------------------------------------------------------------- REST

def rest_request(signature: str, instances: list[dict]) -> dict:
    """The JSON body of a TF Serving REST predict call (row format, one object per image)."""
    rows = []
    for inst in instances:
        row = {}
        for name, value in inst.items():
            if isinstance(value, bytes):
                row[name] = {"b64": base64.b64encode(value).decode("ascii")}
            else:
                row[name] = np.asarray(value).tolist()
        rows.append(row)
    return {"signature_name": signature, "instances": rows}


def rest_url(server: str, model_name: str, version: int | None = None) -> str:
    """http://<server>/v1/models/<model_name>[/versions/<version>]:predict"""
    base = server if "://" in server else f"http://{server}"
    path = f"/v1/models/{model_name}" + (f"/versions/{version}" if version is not None else "")
    return f"{base.rstrip('/')}{path}:predict"


def _from_json_value(value):
    """A prediction value: {"b64": ...} -> bytes, nested lists -> numpy array."""
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    return np.asarray(value)


def parse_rest_response(body: dict, output_names: list[str] | None = None) -> list[dict]:
    """{"predictions": [...]} -> one {output name: value} dict per instance.

    A signature with a single output answers with bare values; they are keyed by the single
    name in `output_names` (default "output"). {"error": ...} raises RuntimeError.
    """
    if "error" in body:
        raise RuntimeError(f"server error: {body['error']}")
    if "predictions" not in body:
        raise RuntimeError(f"unexpected response without 'predictions': {str(body)[:200]}")
    out = []
    for pred in body["predictions"]:
        if isinstance(pred, dict) and set(pred) != {"b64"}:
            out.append({k: _from_json_value(v) for k, v in pred.items()})
        else:
            name = output_names[0] if output_names and len(output_names) == 1 else "output"
            out.append({name: _from_json_value(pred)})
    return out


def rest_predict(server: str, model_name: str, body: dict, version: int | None = None,
                 timeout: float = 60.0) -> dict:
    """POSTs `body` and returns the decoded JSON; HTTP errors raise RuntimeError with the
    server's message."""
    request = urllib.request.Request(rest_url(server, model_name, version),
                                     data=json.dumps(body).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")
        raise RuntimeError(f"{request.full_url}: HTTP {err.code}: {detail[:500]}") from None
    except (urllib.error.URLError, OSError) as err:
        raise RuntimeError(f"{request.full_url}: cannot reach the server: {err}") from None


# ---------------------------------------------------------------- gRPC

def grpc_request(model_name: str, signature: str, instances: list[dict],
                 signature_inputs: dict, version: int | None = None):
    """A tensorflow_serving PredictRequest with one batched tensor per input of
    signature_inputs ({input: (dtype name, shape of one instance)})."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, (dtype, shape) in signature_inputs.items():
        values = [inst[name] for inst in instances]
        if dtype == "string":
            proto = tf.make_tensor_proto(values, dtype=tf.string, shape=[len(values)])
        else:
            batch = np.stack([np.asarray(v, dtype) for v in values])
            proto = tf.make_tensor_proto(batch, dtype=getattr(tf, dtype),
                                         shape=[len(values), *shape])
        request.inputs[name].CopyFrom(proto)
    return request


def parse_grpc_response(response) -> list[dict]:
    """PredictResponse -> one {output name: value} dict per instance (bytes for strings)."""
    import tensorflow as tf

    arrays = {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
    batch = len(next(iter(arrays.values()))) if arrays else 0
    return [{name: (a[i] if a.dtype != object else bytes(a[i])) for name, a in arrays.items()}
            for i in range(batch)]


def grpc_predict(server: str, request, timeout: float = 60.0):
    """Sends a PredictRequest over an insecure channel; returns the PredictResponse.
    Errors of the server (bad request, unknown model...) raise RuntimeError with its message."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(server, options=[
            ("grpc.max_receive_message_length", 256 << 20),
            ("grpc.max_send_message_length", 256 << 20)]) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            return stub.Predict(request, timeout)
        except grpc.RpcError as err:
            raise RuntimeError(f"{server}: gRPC {err.code().name}: {err.details()}") from None


# ---------------------------------------------------------------- outputs

def save_outputs(result: dict, output_dir: str, stem: str) -> list[str]:
    """Writes one instance's outputs; returns the paths written: encoded image bytes
    (`*_png_bytes` outputs) as `<stem>_<name without _png_bytes>.png`, uint8 images
    ([H, W, 3] or [H, W, 1]) as `<stem>_<name>.png`, anything else as `<stem>_<name>.npy`."""
    import cv2

    os.makedirs(output_dir, exist_ok=True)
    written = []
    for name, value in result.items():
        array = None if isinstance(value, bytes) else np.asarray(value)
        if isinstance(value, bytes):  # PNG bytes of e.g. frontalize_image
            path = os.path.join(output_dir, f"{stem}_{name.split('_png')[0]}.png")
            with open(path, "wb") as f:
                f.write(value)
        elif (array.dtype.kind in "ui" and array.ndim == 3 and array.shape[-1] in (1, 3)
              and array.min() >= 0 and array.max() <= 255):
            path = os.path.join(output_dir, f"{stem}_{name}.png")
            image = array.astype(np.uint8)
            if not cv2.imwrite(path, np.ascontiguousarray(image[:, :, ::-1])):
                raise OSError(f"{path}: could not write the image")
        else:
            path = os.path.join(output_dir, f"{stem}_{name}.npy")
            np.save(path, np.asarray(value))
        written.append(path)
    return written
