"""Requests for a served model, built from files: the instances of any signature a model
declares (its serving module's SIGNATURE_INPUTS) from images, landmarks (numbers, a CSV, or
detected here with the photo tool's face finder) and other inputs, and one request / response
round trip over REST or gRPC (client.py) with the outputs written to files.

How each input of the signature is filled: `image_bytes` (string) = the file's bytes; a uint8
image [H, W, C] = the decoded image (its size must fit); a uint8 stack [n, H, W, C] = all
images as ONE instance; `landmarks` = the given or detected points; any other input = an
`extra` {name: text} value.
"""
from __future__ import annotations

import os

import numpy as np

from tpgan_tf.serving.client import (grpc_predict, parse_grpc_response, parse_rest_response,
                                     rest_predict, rest_request, save_outputs)
from tpgan_tf.serving.client import grpc_request as _grpc_request


def signatures_of(model: str) -> dict:
    """{signature: {input: (dtype, shape of one instance)}} the model's export declares."""
    from tpgan_tf.core.registry import get_model

    serving = get_model(model).task.serving
    table = serving.SIGNATURE_INPUTS if serving else {}
    if not table:
        raise ValueError(f"model {model!r} declares no serving signatures")
    return dict(table)


def grpc_request(model_name: str, signature: str, instances: list[dict],
                 version: int | None, signatures: dict):
    """tpgan_tf.serving.client.grpc_request with the inputs of `signature` of the table
    `signatures` (signatures_of)."""
    return _grpc_request(model_name, signature, instances, signatures[signature], version)


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


def _parse_input(text: str, dtype: str, shape) -> object:
    """One --input value as the input's dtype (scalars, or comma-separated numbers)."""
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"--input: expected numbers, got {text!r}") from None
    array = np.asarray(values, dtype=dtype)
    if tuple(shape) == ():
        if array.size != 1:
            raise ValueError(f"--input: expected one number, got {text!r}")
        return array.reshape(())
    return array.reshape(shape)


def instance_inputs(signature: str, image_path: str | list[str],
                    landmarks: np.ndarray | None = None, extra: dict | None = None, *,
                    signatures: dict) -> dict:
    """One request instance {input name: value} of `signature` (see the module doc): bytes for
    `image_bytes`, numpy arrays else. image_path: one file, or a list for a stacked input.
    extra: {input name: text} from --input. ValueError names the file or input at fault."""
    table = signatures
    if signature not in table:
        raise ValueError(f"unknown signature {signature!r}; one of {sorted(table)}")
    paths = [image_path] if isinstance(image_path, str) else list(image_path)
    extra = dict(extra or {})
    out = {}
    for name, (dtype, shape) in table[signature].items():
        if name == "landmarks":
            points = np.asarray(landmarks, np.float32) if landmarks is not None else None
            if points is None or points.shape != tuple(shape) or not np.all(np.isfinite(points)):
                raise ValueError(f"{paths[0]}: landmarks must be 5 finite (x, y) pairs, got "
                                 f"{None if points is None else points.tolist()}")
            out[name] = points
        elif dtype == "string":
            if not os.path.isfile(paths[0]):
                raise FileNotFoundError(f"{paths[0]}: no such image file")
            with open(paths[0], "rb") as f:
                out[name] = f.read()
        elif dtype == "uint8" and len(shape) in (3, 4):
            images = [read_image_rgb(p) for p in paths]
            want = tuple(shape[-3:])
            for p, im in zip(paths, images):
                if im.shape[:2] != want[:2]:
                    kind = "an aligned" if "landmarks" in table[signature] else "a"
                    raise ValueError(f"{p}: signature {signature} needs {kind} {want[1]}x"
                                     f"{want[0]} face, got {im.shape[1]}x{im.shape[0]}"
                                     + ("; use frontalize_image for photos"
                                        if "frontalize_image" in table else ""))
            if len(shape) == 3:
                out[name] = images[0]
            else:
                if len(images) != shape[0]:
                    raise ValueError(f"signature {signature} takes {shape[0]} images per "
                                     f"instance ({name}), got {len(images)} --image files")
                out[name] = np.stack(images)
        elif name in extra:
            out[name] = _parse_input(extra.pop(name), dtype, shape)
        else:
            raise ValueError(f"signature {signature} needs input {name!r} ({dtype}, shape "
                             f"{list(shape)}): give --input={name}=VALUE")
    if extra:
        raise ValueError(f"--input: signature {signature} has no inputs {sorted(extra)}")
    return out


def detected_instances(image_paths: list[str], min_confidence: float | None = None,
                       min_eye_distance: float | None = None) -> list[dict]:
    """`frontalize_image` instances {"image_bytes", "landmarks" float32 [5, 2]} of raw photos:
    the largest usable face found by the photo tool's face finder (tpgan_tf/photos/faces.py).
    The bytes are the file's, or PNG if its EXIF orientation turns it
    (tpgan_tf/photos/files.py). FileNotFoundError / ValueError name a photo that is missing,
    unreadable or faceless."""
    from tpgan_tf.photos.faces import FaceSource
    from tpgan_tf.photos.files import read_photo

    faces = FaceSource("detect", min_confidence=min_confidence,
                       min_eye_distance=min_eye_distance)
    out = []
    for path in image_paths:
        data, image = read_photo(path)
        if image is None:
            raise ValueError(f"{path}: not a readable image")
        face = faces.faces(path, image)[0]
        if face.reason is not None:
            raise ValueError(f"{path}: --detect found no usable face ({face.reason}); give its "
                             f"landmarks with --landmarks instead")
        out.append({"image_bytes": data, "landmarks": np.asarray(face.landmarks, np.float32)})
    return out


def _stacked(signature: str, table: dict) -> bool:
    """True when one instance of `signature` takes several images (a uint8 [n, H, W, C])."""
    return any(d == "uint8" and len(sh) == 4 for d, sh in table[signature].values())


def request_instances(signature: str, image_paths: list[str], landmarks_spec: str | None,
                      detect: bool = False, min_confidence: float | None = None,
                      min_eye_distance: float | None = None, extra: dict | None = None, *,
                      signatures: dict) -> list[dict]:
    """The request instances of the images: one per image (all images in one instance for a
    stacked input); landmarks from `landmarks_spec` or detected, when the signature has them."""
    table = signatures
    if signature not in table:
        raise ValueError(f"unknown signature {signature!r}; one of {sorted(table)}")
    if "landmarks" not in table[signature]:
        if landmarks_spec or detect:
            raise ValueError(f"signature {signature} takes no landmarks")
        groups = [image_paths] if _stacked(signature, table) else image_paths
        return [instance_inputs(signature, g, None, extra, signatures=table) for g in groups]
    if bool(landmarks_spec) == bool(detect):
        raise ValueError("give exactly one of --landmarks (10 numbers or a CSV) and --detect")
    if detect:
        if "image_bytes" not in table[signature]:
            raise ValueError(f"--detect needs --signature=frontalize_image (raw photos), got "
                             f"{signature!r}")
        return detected_instances(image_paths, min_confidence, min_eye_distance)
    points = landmarks_for(landmarks_spec, image_paths)
    return [instance_inputs(signature, p, lm, extra, signatures=table)
            for p, lm in zip(image_paths, points)]


def run(server: str, api: str, model_name: str, signature: str, image_paths: list[str],
        landmarks_spec: str | None, output_dir: str, version: int | None = None,
        timeout: float = 60.0, *, detect: bool = False, min_confidence: float | None = None,
        min_eye_distance: float | None = None, on_request=None, model: str,
        extra: dict | None = None) -> list[list[str]]:
    """One request for all images; returns the written paths per instance.

    landmarks_spec: see `landmarks_for`; or None with detect=True (landmarks detected here).
    on_request: called with the instances before they are sent (the CLI prints the points).
    model: whose signatures (its serving module's SIGNATURE_INPUTS / SIGNATURE_OUTPUTS).
    """
    from tpgan_tf.core.registry import get_model

    table = signatures_of(model)
    instances = request_instances(signature, image_paths, landmarks_spec, detect,
                                  min_confidence, min_eye_distance, extra,
                                  signatures=table)
    if on_request is not None:
        on_request(instances)
    if api == "rest":
        body = rest_predict(server, model_name, rest_request(signature, instances), version,
                            timeout)
        results = parse_rest_response(
            body, get_model(model).task.serving.SIGNATURE_OUTPUTS.get(signature))
    else:
        results = parse_grpc_response(grpc_predict(
            server, grpc_request(model_name, signature, instances, version, table), timeout))
    if len(results) != len(instances):
        raise RuntimeError(f"sent {len(instances)} instances, got {len(results)} results")
    names = [image_paths[0]] if len(instances) == 1 and len(image_paths) > 1 else image_paths
    written = []
    for path, result in zip(names, results):
        stem = os.path.splitext(os.path.basename(path))[0]
        written.append(save_outputs(result, output_dir, stem))
    return written


