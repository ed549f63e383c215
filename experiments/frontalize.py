"""Frontalize photos with a trained TP-GAN (issue 5, point 5; detection: issue 10).

    python -m experiments.frontalize --input=photos/ --detect \
        --saved_model=runs/demo/export/tpgan --output_dir=runs/demo/frontalized
    python -m experiments.frontalize --input=group.jpg --detect --all_faces \
        --model_dir=runs/demo/train --output_dir=out
    python -m experiments.frontalize --input=photos/ --landmarks=photos/landmarks.csv \
        --saved_model=runs/demo/export/tpgan --output_dir=out

Input: one photo or a folder (searched recursively for .png/.jpg/.jpeg/.bmp). Landmarks: either
--detect (MTCNN, tpgan_tf/faces/detection.py: the largest usable face, or every usable face
with --all_faces) or a CSV of tpgan_tf.faces.landmarks' format (`path,x0,y0,...,x4,y4`, 0-based
pixel coordinates of the photo as displayed, paths relative to the input folder, or to the
photo's folder for a single photo): the way to give points by hand, e.g. for near-profile faces
where detectors fail. Model: a SavedModel export (--saved_model, the `frontalize_image`
signature) or a training run (--model_dir, the same code in this process). Both align in-graph
(spec 1.2).

Per photo, next to its relative path under --output_dir: `<name>_frontal.png` and
`<name>_sheet.png` (aligned input crop | frontal); with --all_faces `<name>_face<k>_...`, k = 1
for the largest face. A photo that cannot be decoded, without landmarks, with no face found, a
face too small or detected with low confidence, or landmarks outside it is reported and
skipped; the run goes on, and ends with the list of skipped inputs and a summary line. Each
face is run as a batch of one, so its frontal does not depend on the other photos in the folder
(with the original's batch-statistics BN it would).

Photos whose EXIF orientation turns them (phone pictures) are read as displayed: detection and
CSV landmarks refer to the turned image, and the model gets it re-encoded as PNG (TensorFlow's
decoder ignores EXIF orientation, OpenCV's applies it).
"""
from __future__ import annotations

import os
import sys

import numpy as np
from absl import app, flags, logging

from experiments import common

FLAGS = flags.FLAGS
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
SHEET_GAP = 4  # grey pixels between the two halves of a sheet


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    from tpgan_tf.faces import detection

    flags.DEFINE_string("input", None, "A photo or a folder of photos.")
    flags.DEFINE_string("landmarks", None, "Landmark CSV (path,x0,y0,...,x4,y4; paths relative "
                        "to the input folder).")
    flags.DEFINE_bool("detect", False, "Detect the face and its 5 points with MTCNN.")
    flags.DEFINE_bool("all_faces", False, "With --detect: every usable face of a photo (numbered "
                      "outputs), not only the largest.")
    flags.DEFINE_float("min_confidence", detection.MIN_CONFIDENCE,
                       "With --detect: skip faces detected with a lower MTCNN confidence.")
    flags.DEFINE_float("min_eye_distance", detection.MIN_EYE_DISTANCE,
                       "With --detect: skip faces whose eyes are closer than this (pixels).")
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


class Model(common.SignatureModel):
    """`frontalize_image` from a SavedModel or a checkpoint: (bytes, [5, 2]) -> (frontal PNG
    bytes, aligned PNG bytes)."""

    SIGNATURE, TASK = "frontalize_image", "tpgan"

    def __init__(self, saved_model: str | None = None, model_dir: str | None = None,
                 bn_mode: str | None = None):
        super().__init__(saved_model, model_dir,
                         overrides=[f"model.bn_mode={bn_mode}"] if bn_mode else [])

    def traced(self, task):
        return task.frontalizer().traced("frontalize_image")

    def __call__(self, data: bytes, landmarks: np.ndarray) -> tuple[bytes, bytes]:
        import tensorflow as tf

        out = self._fn(image_bytes=tf.constant([data]),
                       landmarks=tf.constant(np.asarray(landmarks, np.float32)[None]))
        return out["frontal_png_bytes"].numpy()[0], out["aligned_png_bytes"].numpy()[0]


def _decode(data: bytes, flags_: int | None = None) -> np.ndarray | None:
    import cv2

    mode = cv2.IMREAD_COLOR if flags_ is None else flags_
    image = cv2.imdecode(np.frombuffer(data, np.uint8), mode)
    return None if image is None else np.ascontiguousarray(image[:, :, ::-1])


def photo_bytes_and_image(data: bytes) -> tuple[bytes, np.ndarray | None]:
    """(bytes for the model, RGB uint8 [H, W, 3] they decode to) of an encoded photo.

    The image is the photo as displayed (EXIF orientation applied). When that differs from the
    stored pixels (which is what TensorFlow's decoder gives), the bytes are the displayed
    image re-encoded as PNG, so that landmarks of the displayed image fit what the model
    decodes. (data, None) if the photo cannot be decoded.
    """
    import cv2

    image = _decode(data)
    if image is None:
        return data, None
    stored = _decode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if stored is None or stored.shape != image.shape or not np.array_equal(stored, image):
        ok, png = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))
        if not ok:
            raise OSError("could not re-encode a turned photo as PNG")
        data = png.tobytes()
    return data, image


def make_sheet(aligned_png: bytes, frontal_png: bytes) -> np.ndarray:
    """RGB uint8 [128, 256 + gap, 3]: the aligned input crop | the frontal."""
    left, right = _decode(aligned_png), _decode(frontal_png)
    gap = np.full((left.shape[0], SHEET_GAP, 3), 128, np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def _detector_source(all_faces: bool, min_confidence: float, min_eye_distance: float):
    """landmarks_of for --detect (see `landmark_source`)."""
    from tpgan_tf.faces import detection

    detection.detector()  # load it now: a missing package is an error before the first photo

    def from_detector(rel, image):
        faces = detection.detect(image)
        if not faces:
            return None, "no face found"
        verdicts = [(f, detection.rejection(f, min_confidence, min_eye_distance)) for f in faces]
        usable = [f for f, reason in verdicts if reason is None]
        if not usable:
            if len(faces) == 1:
                return None, verdicts[0][1]
            return None, f"none of {len(faces)} faces usable (largest: {verdicts[0][1]})"
        if all_faces:
            return [(f.landmarks if reason is None else None, reason)
                    for f, reason in verdicts], None
        return usable[0].landmarks, None
    return from_detector


def landmark_source(landmarks_csv: str | None, detect: bool, all_faces: bool = False,
                    min_confidence: float | None = None, min_eye_distance: float | None = None):
    """A function (relative path, RGB image) -> (landmarks, None) or (None, reason).

    landmarks: a [5, 2] array (one face), or with --all_faces a list of (points or None,
    reason or None) per detected face, largest first (numbered outputs).
    """
    from tpgan_tf.faces import detection
    from tpgan_tf.faces.landmarks import read_landmark_csv

    if bool(landmarks_csv) == bool(detect):
        raise ValueError("give exactly one of --landmarks (a CSV) and --detect")
    if all_faces and not detect:
        raise ValueError("--all_faces needs --detect (a CSV gives one face per photo)")
    min_confidence = detection.MIN_CONFIDENCE if min_confidence is None else min_confidence
    min_eye_distance = detection.MIN_EYE_DISTANCE if min_eye_distance is None else min_eye_distance
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"--min_confidence must be in [0, 1], got {min_confidence}")
    if not min_eye_distance >= 0.0:
        raise ValueError(f"--min_eye_distance must be >= 0 pixels, got {min_eye_distance}")
    if detect:
        return _detector_source(all_faces, min_confidence, min_eye_distance)
    if not os.path.isfile(landmarks_csv):
        raise FileNotFoundError(f"{landmarks_csv}: no such landmark CSV (--landmarks)")
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


def _faces_of(rel: str, image: np.ndarray | None, landmarks_of):
    """[(output suffix, skip-list key, points or None, reason or None)] of one photo."""
    if image is None:
        return [("", rel, None, "not a readable image")]
    points, reason = landmarks_of(rel, image)
    if points is None:
        return [("", rel, None, reason)]
    if isinstance(points, list):  # --all_faces: numbered, largest first
        return [(f"_face{k}", f"{rel} face {k}", p, r) for k, (p, r) in enumerate(points, 1)]
    return [("", rel, points, None)]


def _write_face(stem: str, frontal_png: bytes, aligned_png: bytes) -> list[str]:
    import cv2

    os.makedirs(os.path.dirname(stem), exist_ok=True)
    with open(f"{stem}_frontal.png", "wb") as f:
        f.write(frontal_png)
    sheet = make_sheet(aligned_png, frontal_png)
    if not cv2.imwrite(f"{stem}_sheet.png", np.ascontiguousarray(sheet[:, :, ::-1])):
        raise OSError(f"{stem}_sheet.png: could not write the sheet")
    return [f"{stem}_frontal.png", f"{stem}_sheet.png"]


def frontalize_folder(input_path: str, output_dir: str, model, landmarks_of,
                      log=print, progress=None) -> dict:
    """Runs every photo; returns {"done": [photos], "skipped": {input: reason}}.

    An input is a photo's relative path, or "<path> face <k>" for a face left out under
    --all_faces. progress: a stream for a tqdm progress bar over the photos (None: no bar);
    log lines are written around it.
    """
    import tensorflow as tf
    from tqdm import tqdm

    from tpgan_tf.faces.landmarks import check_landmarks

    root, photos = find_photos(input_path)
    if not photos:
        raise FileNotFoundError(f"{input_path}: no photos ({', '.join(IMAGE_EXTENSIONS)})")
    done, skipped, frontals = [], {}, 0
    bar = tqdm(total=len(photos), file=progress, disable=progress is None, unit="photo", leave=False)

    def say(line):
        with tqdm.external_write_mode(file=sys.stdout):
            log(line)

    for rel in photos:
        with open(os.path.join(root, rel), "rb") as f:
            data, image = photo_bytes_and_image(f.read())
        wrote = False
        for suffix, key, points, reason in _faces_of(rel, image, landmarks_of):
            if reason is None:
                reason = check_landmarks(points, image.shape[1], image.shape[0])
            if reason is None:
                try:
                    frontal_png, aligned_png = model(data, points)
                except tf.errors.InvalidArgumentError as err:  # e.g. a format TF cannot read
                    reason = tf_error_reason(err)
            if reason is not None:
                skipped[key] = reason
                say(f"{key}: skipped ({reason})")
                continue
            stem = os.path.join(output_dir, os.path.splitext(rel)[0] + suffix)
            paths = _write_face(stem, frontal_png, aligned_png)
            wrote, frontals = True, frontals + 1
            say(f"{rel}{suffix and ' ' + suffix[1:]} -> {', '.join(paths)}")
        if wrote:
            done.append(rel)
        bar.update()
    bar.refresh()  # show the final count even when the last photos came within tqdm's mininterval
    bar.close()
    if skipped:
        log(f"skipped {len(skipped)} input{'s' * (len(skipped) != 1)}:")
        for key, reason in skipped.items():
            log(f"  {key}: {reason}")
    photo_set = set(photos)
    faces_left_out = sum(1 for key in skipped if key not in photo_set)
    log(f"frontalized {len(done)} of {len(photos)} photos; skipped {len(photos) - len(done)}"
        + (f" ({faces_left_out} face{'s' * (faces_left_out != 1)} left out)"
           if faces_left_out else "")
        + f"; {frontals} frontal{'s' * (frontals != 1)}; output in {output_dir}")
    return {"done": done, "skipped": skipped}


def main(argv):
    del argv
    if not FLAGS["verbosity"].present:  # TF's INFO lines (one per captured variable) drown
        logging.set_verbosity(logging.WARNING)  # the output; --verbosity=0 brings them back
    try:
        for name in ("input", "output_dir"):
            if not getattr(FLAGS, name):
                raise ValueError(f"--{name} is required")
        landmarks_of = landmark_source(FLAGS.landmarks, FLAGS.detect, FLAGS.all_faces,
                                       FLAGS.min_confidence, FLAGS.min_eye_distance)
        model = Model(FLAGS.saved_model, FLAGS.model_dir, FLAGS.bn_mode)
        result = frontalize_folder(FLAGS.input, FLAGS.output_dir, model, landmarks_of,
                                   progress=sys.stderr)
    except (*common.USER_ERRORS, ImportError, OSError) as err:
        common.fail(err, 2)
    return 0 if result["done"] else 1


if __name__ == "__main__":
    define_flags()
    app.run(main)
