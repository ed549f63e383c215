"""Client for a TP-GAN model served by TF Serving, over REST (JSON) or gRPC (issue 5, point 3).

    # a photo, landmarks in its pixel coordinates (x0,y0,...,x4,y4: left eye, right eye,
    # nose tip, left mouth corner, right mouth corner; or a landmark CSV of our format)
    python -m experiments.serving_client --server=localhost:8501 --api=rest \
        --signature=frontalize_image --image=photo.jpg --landmarks=281,201,330,199,318,236,290,262,327,261 \
        --output=out/
    # an aligned 128x128 face and its crop landmarks, gRPC (port 8500)
    python -m experiments.serving_client --server=localhost:8500 --api=grpc \
        --signature=serving_default --image=aligned.png --landmarks=aligned.csv --output=out/
    # a raw photo, its 5 points detected here (MTCNN, the largest usable face) and sent along
    python -m experiments.serving_client --server=localhost:8501 --api=rest \
        --signature=frontalize_image --image=photo.jpg --detect --output=out/

Writes `<output>/<image stem>_frontal.png` (and `_aligned.png` for frontalize_image, or
`_frontal_float.npy` for frontal_float) and prints one line per image.

Requests (built by `rest_request` / `grpc_request`, checked against the exported signatures by
tests/serving/test_client.py):
  REST  POST http://<server>/v1/models/<model_name>[/versions/<v>]:predict with
        {"signature_name": ..., "instances": [{"image_bytes": {"b64": ...}, "landmarks": [[x, y]
        x 5]}, ...]} (or "image": 128 x 128 x 3 nested ints for the aligned signatures).
        TF Serving answers {"predictions": [...]}: one object per instance when the signature
        has several outputs, the bare value when it has one; string outputs whose names end in
        `_bytes` come back as {"b64": ...}.
  gRPC  tensorflow_serving.apis.predict_pb2.PredictRequest (pip install tensorflow-serving-api;
        imported only for --api=grpc) sent to PredictionService/Predict.
"""
from __future__ import annotations

import base64
import json
import os
import sys
import urllib.error
import urllib.request

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS

# What each exported signature takes: input name -> (dtype, shape of one instance).
# Must match the TP-GAN export (tests check it against an export).
SIGNATURES = {
    "serving_default": {"image": ("uint8", (128, 128, 3)), "landmarks": ("float32", (5, 2))},
    "frontal_float": {"image": ("uint8", (128, 128, 3)), "landmarks": ("float32", (5, 2))},
    "frontalize_image": {"image_bytes": ("string", ()), "landmarks": ("float32", (5, 2))},
}


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("server", "localhost:8501", "host:port of TF Serving (REST: 8501, "
                        "gRPC: 8500 by default).")
    flags.DEFINE_enum("api", "rest", ["rest", "grpc"], "Which TF Serving API to call.")
    flags.DEFINE_string("model_name", "tpgan", "Model name on the server.")
    flags.DEFINE_integer("model_version", None, "Model version; default: the server's latest.")
    flags.DEFINE_enum("signature", "frontalize_image", sorted(SIGNATURES), "Signature to call.")
    flags.DEFINE_multi_string("image", None, "Image file(s); all are sent in one request.")
    flags.DEFINE_string("landmarks", None, "10 numbers x0,y0,...,x4,y4 (one image) or a "
                        "landmark CSV (path,x0,y0,...,x4,y4; paths relative to the CSV).")
    flags.DEFINE_bool("detect", False, "Detect each photo's face and 5 points here (MTCNN) "
                      "instead of --landmarks; frontalize_image only.")
    flags.DEFINE_float("min_confidence", None, "With --detect: lowest MTCNN confidence accepted "
                       "(default: tpgan_tf.faces.detection.MIN_CONFIDENCE).")
    flags.DEFINE_float("min_eye_distance", None, "With --detect: smallest eye distance accepted, "
                       "pixels (default: tpgan_tf.faces.detection.MIN_EYE_DISTANCE).")
    flags.DEFINE_string("output", ".", "Directory for the results.")
    flags.DEFINE_float("timeout", 60.0, "Request timeout in seconds.")


# ---------------------------------------------------------------- inputs

def parse_landmark_numbers(text: str) -> np.ndarray:
    """"x0,y0,...,x4,y4" (commas and/or spaces) -> float32 [5, 2]; ValueError otherwise."""
    fields = text.replace(",", " ").split()
    try:
        values = [float(v) for v in fields]
    except ValueError:
        raise ValueError(f"--landmarks: expected 10 numbers or a CSV file, got {text!r}") from None
    if len(values) != 10:
        raise ValueError(f"--landmarks: expected 10 numbers (x0,y0,...,x4,y4), got {len(values)}")
    return np.asarray(values, np.float32).reshape(5, 2)


def landmarks_for(spec: str, image_paths: list[str]) -> list[np.ndarray]:
    """[5, 2] float32 landmarks for each image, from `--landmarks`.

    spec: 10 numbers (only with one image) or a CSV of tpgan_tf.faces.landmarks' format whose
    paths are relative to the CSV's directory (an image is also found by its file name when
    that is unique in the CSV). ValueError names the CSV and the image that has no row.
    """
    if not os.path.isfile(spec):
        if len(image_paths) != 1:
            raise ValueError("--landmarks as numbers works with one --image; use a CSV for more")
        return [parse_landmark_numbers(spec)]
    from tpgan_tf.faces.landmarks import read_landmark_csv

    table = read_landmark_csv(spec)
    root = os.path.dirname(os.path.abspath(spec))
    by_name: dict[str, list[str]] = {}
    for key in table:
        by_name.setdefault(key.rsplit("/", 1)[-1], []).append(key)
    out = []
    for path in image_paths:
        rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
        if rel in table:
            out.append(table[rel].astype(np.float32))
        elif len(by_name.get(os.path.basename(path), [])) == 1:
            out.append(table[by_name[os.path.basename(path)][0]].astype(np.float32))
        else:
            raise ValueError(f"{spec}: no landmarks for {path} (looked for {rel!r})")
    return out


def read_image_rgb(path: str) -> np.ndarray:
    """uint8 [H, W, 3] RGB of an image file; ValueError names the file if it cannot be read."""
    import cv2

    data = np.fromfile(path, np.uint8) if os.path.isfile(path) else None
    if data is None:
        raise FileNotFoundError(f"{path}: no such image file")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return np.ascontiguousarray(image[:, :, ::-1])


def instance_inputs(signature: str, image_path: str, landmarks: np.ndarray) -> dict:
    """One request instance {input name: value}: bytes for `image_bytes`, numpy arrays else.

    The aligned signatures need a 128 x 128 image (ValueError naming the file otherwise).
    """
    if signature not in SIGNATURES:
        raise ValueError(f"unknown signature {signature!r}; one of {sorted(SIGNATURES)}")
    points = np.asarray(landmarks, np.float32)
    if points.shape != (5, 2) or not np.all(np.isfinite(points)):
        raise ValueError(f"{image_path}: landmarks must be 5 finite (x, y) pairs, got "
                         f"{points.tolist()}")
    if "image_bytes" in SIGNATURES[signature]:
        if not os.path.isfile(image_path):
            raise FileNotFoundError(f"{image_path}: no such image file")
        with open(image_path, "rb") as f:
            return {"image_bytes": f.read(), "landmarks": points}
    image = read_image_rgb(image_path)
    if image.shape != (128, 128, 3):
        raise ValueError(f"{image_path}: signature {signature} needs an aligned 128x128 face, "
                         f"got {image.shape[1]}x{image.shape[0]}; use frontalize_image for photos")
    return {"image": image, "landmarks": points}


def detected_instances(image_paths: list[str], min_confidence: float | None = None,
                       min_eye_distance: float | None = None) -> list[dict]:
    """`frontalize_image` instances {"image_bytes", "landmarks" float32 [5, 2]} of raw photos:
    the largest usable face detected here (the rules of `frontalize --detect`). The bytes are
    the file's, or PNG if its EXIF orientation turns it (see frontalize.photo_bytes_and_image).
    FileNotFoundError / ValueError name a photo that is missing, unreadable or faceless."""
    from experiments.frontalize import landmark_source, photo_bytes_and_image

    landmarks_of = landmark_source(None, True, min_confidence=min_confidence,
                                   min_eye_distance=min_eye_distance)
    out = []
    for path in image_paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such image file")
        with open(path, "rb") as f:
            data, image = photo_bytes_and_image(f.read())
        if image is None:
            raise ValueError(f"{path}: not a readable image")
        points, reason = landmarks_of(path, image)
        if points is None:
            raise ValueError(f"{path}: --detect found no usable face ({reason}); give its "
                             f"landmarks with --landmarks instead")
        out.append({"image_bytes": data, "landmarks": np.asarray(points, np.float32)})
    return out


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
                 version: int | None = None):
    """A tensorflow_serving PredictRequest with one batched tensor per signature input."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, (dtype, shape) in SIGNATURES[signature].items():
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
    """Writes one instance's outputs; returns the paths written."""
    import cv2

    os.makedirs(output_dir, exist_ok=True)
    written = []
    for name, value in result.items():
        if isinstance(value, bytes):  # PNG bytes of frontalize_image
            path = os.path.join(output_dir, f"{stem}_{name.split('_png')[0]}.png")
            with open(path, "wb") as f:
                f.write(value)
        elif name in ("frontal", "output") and np.asarray(value).shape == (128, 128, 3):
            path = os.path.join(output_dir, f"{stem}_frontal.png")
            image = np.asarray(value).astype(np.uint8)
            if not cv2.imwrite(path, np.ascontiguousarray(image[:, :, ::-1])):
                raise OSError(f"{path}: could not write the image")
        else:
            path = os.path.join(output_dir, f"{stem}_{name}.npy")
            np.save(path, np.asarray(value))
        written.append(path)
    return written


def request_instances(signature: str, image_paths: list[str], landmarks_spec: str | None,
                      detect: bool = False, min_confidence: float | None = None,
                      min_eye_distance: float | None = None) -> list[dict]:
    """The request instances of the images, landmarks from `landmarks_spec` or detected."""
    if bool(landmarks_spec) == bool(detect):
        raise ValueError("give exactly one of --landmarks (10 numbers or a CSV) and --detect")
    if detect:
        if "image_bytes" not in SIGNATURES.get(signature, {}):
            raise ValueError(f"--detect needs --signature=frontalize_image (raw photos), got "
                             f"{signature!r}")
        return detected_instances(image_paths, min_confidence, min_eye_distance)
    points = landmarks_for(landmarks_spec, image_paths)
    return [instance_inputs(signature, p, lm) for p, lm in zip(image_paths, points)]


def run(server: str, api: str, model_name: str, signature: str, image_paths: list[str],
        landmarks_spec: str | None, output_dir: str, version: int | None = None,
        timeout: float = 60.0, *, detect: bool = False, min_confidence: float | None = None,
        min_eye_distance: float | None = None, on_request=None) -> list[list[str]]:
    """One request for all images; returns the written paths per image.

    landmarks_spec: see `landmarks_for`; or None with detect=True (landmarks detected here).
    on_request: called with the instances before they are sent (the CLI prints the points).
    """
    instances = request_instances(signature, image_paths, landmarks_spec, detect,
                                  min_confidence, min_eye_distance)
    if on_request is not None:
        on_request(instances)
    if api == "rest":
        body = rest_predict(server, model_name, rest_request(signature, instances), version,
                            timeout)
        single = {"serving_default": ["frontal"], "frontal_float": ["frontal_float"]}
        results = parse_rest_response(body, single.get(signature))
    else:
        results = parse_grpc_response(grpc_predict(
            server, grpc_request(model_name, signature, instances, version), timeout))
    if len(results) != len(image_paths):
        raise RuntimeError(f"sent {len(image_paths)} images, got {len(results)} results")
    written = []
    for path, result in zip(image_paths, results):
        stem = os.path.splitext(os.path.basename(path))[0]
        written.append(save_outputs(result, output_dir, stem))
    return written


def _print_detected(image_paths: list[str]):
    """on_request callback of --detect: one line per photo with the points sent."""
    def show(instances):
        for path, inst in zip(image_paths, instances):
            numbers = ",".join(f"{v:.2f}" for v in np.asarray(inst["landmarks"]).ravel())
            print(f"{path}: detected landmarks {numbers}")
    return show


def main(argv):
    del argv
    try:
        if not FLAGS.image:
            raise ValueError("--image is required")
        if not FLAGS.landmarks and not FLAGS.detect:
            raise ValueError("--landmarks (10 numbers or a CSV) or --detect is required")
        written = run(FLAGS.server, FLAGS.api, FLAGS.model_name, FLAGS.signature, FLAGS.image,
                      FLAGS.landmarks, FLAGS.output, FLAGS.model_version, FLAGS.timeout,
                      detect=FLAGS.detect, min_confidence=FLAGS.min_confidence,
                      min_eye_distance=FLAGS.min_eye_distance,
                      on_request=_print_detected(FLAGS.image) if FLAGS.detect else None)
    except (ValueError, FileNotFoundError, RuntimeError, ImportError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for image, paths in zip(FLAGS.image, written):
        print(f"{image} -> {', '.join(paths)}")
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main)
