"""Frontalize photos with a trained TP-GAN (issue 5, point 5).

    python -m experiments.frontalize --input=photos/ --landmarks=photos/landmarks.csv \
        --saved_model=runs/demo/export/tpgan --output_dir=runs/demo/frontalized
    python -m experiments.frontalize --input=me.jpg --detect --model_dir=runs/demo/train \
        --output_dir=out

Input: one photo or a folder (searched recursively for .png/.jpg/.jpeg/.bmp). Landmarks: a CSV
of tpgan_tf.faces.landmarks' format (`path,x0,y0,...,x4,y4`, 0-based pixel coordinates, paths
relative to the input folder, or to the photo's folder for a single photo), or --detect (dlib's
detector, an optional extra: `pip install dlib-bin face-recognition-models`; the largest face
is used). Model: a SavedModel export (--saved_model, the `frontalize_image` signature) or a
training run (--model_dir, the same code in this process). Both align in-graph (spec 1.2).

Per photo, next to its relative path under --output_dir: `<name>_frontal.png` and
`<name>_sheet.png` (aligned input crop | frontal). A photo without landmarks, with no face
found, with landmarks outside it or that cannot be decoded is reported and skipped; a summary
line ends the run. Each photo is run as a batch of one, so its frontal does not depend on the
other photos in the folder (with the original's batch-statistics BN it would).
"""
from __future__ import annotations

import os
import sys

import numpy as np
from absl import app, flags, logging

FLAGS = flags.FLAGS
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
SHEET_GAP = 4  # grey pixels between the two halves of a sheet


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("input", None, "A photo or a folder of photos.")
    flags.DEFINE_string("landmarks", None, "Landmark CSV (path,x0,y0,...,x4,y4; paths relative "
                        "to the input folder).")
    flags.DEFINE_bool("detect", False, "Detect the landmarks with dlib (optional extra).")
    flags.DEFINE_string("saved_model", None, "SavedModel directory (<base>/<name> or a version).")
    flags.DEFINE_string("model_dir", None, "Training run directory (config.json + checkpoints).")
    flags.DEFINE_enum("bn_mode", None, ["batch_stats", "inference"],
                      "With --model_dir: override the run's BN mode.")
    flags.DEFINE_string("output_dir", None, "Where the frontals and sheets go.")


def find_photos(input_path: str) -> tuple[str, list[str]]:
    """(root, sorted photo paths relative to root with '/' separators) for a file or folder."""
    if os.path.isfile(input_path):
        return os.path.dirname(os.path.abspath(input_path)), [os.path.basename(input_path)]
    if not os.path.isdir(input_path):
        raise FileNotFoundError(f"{input_path}: no such photo or folder")
    found = []
    for folder, dirs, files in os.walk(input_path):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                rel = os.path.relpath(os.path.join(folder, name), input_path)
                found.append(rel.replace(os.sep, "/"))
    return os.path.abspath(input_path), found


class Model:
    """`frontalize_image` from a SavedModel or a checkpoint: (bytes, [5, 2]) -> (frontal PNG
    bytes, aligned PNG bytes)."""

    def __init__(self, saved_model: str | None = None, model_dir: str | None = None,
                 bn_mode: str | None = None):
        if bool(saved_model) == bool(model_dir):
            raise ValueError("give exactly one of --saved_model and --model_dir")
        if saved_model:
            import tensorflow as tf

            from tpgan_tf.serving.export import latest_version_dir

            self.source = latest_version_dir(saved_model)
            self._loaded = tf.saved_model.load(self.source)  # keeps the variables alive
            self._fn = self._loaded.signatures["frontalize_image"]
        else:
            from tpgan_tf.core.runner import load_trained

            overrides = [f"model.bn_mode={bn_mode}"] if bn_mode else []
            task, _, _ = load_trained(model_dir, overrides=overrides, task="tpgan")
            self.source = model_dir
            self._fn = task.frontalizer().traced("frontalize_image")

    @classmethod
    def from_function(cls, fn, source: str = "function") -> "Model":
        """Wraps an already loaded `frontalize_image` function (signature or tf.function)."""
        model = cls.__new__(cls)
        model._fn, model.source = fn, source
        return model

    def __call__(self, data: bytes, landmarks: np.ndarray) -> tuple[bytes, bytes]:
        import tensorflow as tf

        out = self._fn(image_bytes=tf.constant([data]),
                       landmarks=tf.constant(np.asarray(landmarks, np.float32)[None]))
        return out["frontal_png_bytes"].numpy()[0], out["aligned_png_bytes"].numpy()[0]


def _decode(data: bytes) -> np.ndarray | None:
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image[:, :, ::-1])


def make_sheet(aligned_png: bytes, frontal_png: bytes) -> np.ndarray:
    """RGB uint8 [128, 256 + gap, 3]: the aligned input crop | the frontal."""
    left, right = _decode(aligned_png), _decode(frontal_png)
    gap = np.full((left.shape[0], SHEET_GAP, 3), 128, np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def landmark_source(landmarks_csv: str | None, detect: bool):
    """A function (relative path, RGB image) -> ([5, 2] landmarks, None) or (None, reason)."""
    from tpgan_tf.faces.detection import detect_landmarks
    from tpgan_tf.faces.landmarks import read_landmark_csv

    if bool(landmarks_csv) == bool(detect):
        raise ValueError("give exactly one of --landmarks (a CSV) and --detect")
    if detect:
        try:
            from tpgan_tf.faces.detection import _dlib_models
            _dlib_models()
        except ImportError as err:
            raise ImportError(f"--detect needs the optional dlib extra: {err}") from None

        def from_detector(rel, image):
            faces = detect_landmarks(image)
            return (faces[0], None) if faces else (None, "no face found")
        return from_detector
    table = read_landmark_csv(landmarks_csv)

    def from_csv(rel, image):
        if rel not in table:
            return None, f"no landmarks in {landmarks_csv}"
        return table[rel], None
    return from_csv


def tf_error_reason(err) -> str:
    """The informative line of a TF op error (its assertion or decode message)."""
    noise = ("Graph execution error", "Detected at node", "<stack traces", "[[{{node")
    lines = [ln.strip() for ln in str(err.message).splitlines()]
    useful = [ln for ln in lines if ln and not ln.startswith(noise)]
    return (useful or lines or ["TensorFlow error"])[0][:300]


def frontalize_folder(input_path: str, output_dir: str, model, landmarks_of,
                      log=print) -> dict:
    """Runs every photo; returns {"done": [...], "skipped": {relative path: reason}}."""
    import cv2
    import tensorflow as tf

    from tpgan_tf.faces.landmarks import check_landmarks

    root, photos = find_photos(input_path)
    if not photos:
        raise FileNotFoundError(f"{input_path}: no photos ({', '.join(IMAGE_EXTENSIONS)})")
    done, skipped = [], {}
    for rel in photos:
        path = os.path.join(root, rel)
        with open(path, "rb") as f:
            data = f.read()
        image = _decode(data)
        if image is None:
            skipped[rel] = "not a readable image"
        else:
            points, reason = landmarks_of(rel, image)
            if points is not None:
                reason = check_landmarks(points, image.shape[1], image.shape[0])
            if reason is None:
                try:
                    frontal_png, aligned_png = model(data, points)
                except tf.errors.InvalidArgumentError as err:  # e.g. a format TF cannot read
                    reason = tf_error_reason(err)
            if reason is None:
                stem = os.path.join(output_dir, os.path.splitext(rel)[0])
                os.makedirs(os.path.dirname(stem), exist_ok=True)
                with open(f"{stem}_frontal.png", "wb") as f:
                    f.write(frontal_png)
                sheet = make_sheet(aligned_png, frontal_png)
                if not cv2.imwrite(f"{stem}_sheet.png", np.ascontiguousarray(sheet[:, :, ::-1])):
                    raise OSError(f"{stem}_sheet.png: could not write the sheet")
                done.append(rel)
                log(f"{rel} -> {stem}_frontal.png, {stem}_sheet.png")
                continue
            skipped[rel] = reason
        log(f"{rel}: skipped ({skipped[rel]})")
    log(f"frontalized {len(done)} of {len(photos)} photos; skipped {len(skipped)}; "
        f"output in {output_dir}")
    return {"done": done, "skipped": skipped}


def main(argv):
    del argv
    if not FLAGS["verbosity"].present:  # TF's INFO lines (one per captured variable) drown
        logging.set_verbosity(logging.WARNING)  # the output; --verbosity=0 brings them back
    for name in ("input", "output_dir"):
        if not getattr(FLAGS, name):
            raise app.UsageError(f"--{name} is required")
    try:
        landmarks_of = landmark_source(FLAGS.landmarks, FLAGS.detect)
        model = Model(FLAGS.saved_model, FLAGS.model_dir, FLAGS.bn_mode)
        result = frontalize_folder(FLAGS.input, FLAGS.output_dir, model, landmarks_of)
    except (ValueError, ImportError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if result["done"] else 1


if __name__ == "__main__":
    define_flags()
    app.run(main)
