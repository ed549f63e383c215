"""Super-resolve face images x8 with a trained FSRNet (issue 12, part 6): the photo tool's
sibling of experiments/frontalize.py.

    python -m experiments.super_resolve --input=faces/ \\
        --saved_model=runs/demo/fsrnet/export/fsrnet --output_dir=runs/demo/fsrnet/super_resolved
    python -m experiments.super_resolve --input=face16.png --model_dir=runs/demo/fsrnet/train \\
        --output_dir=out

Input: one image or a folder (searched recursively for .png/.jpg/.jpeg/.bmp) of face crops.
  * 16 x 16 images are the LR faces themselves (what the model was trained on: a face crop
    like the training crops, reduced x8);
  * larger square images are taken as HR face crops and first REDUCED to 16 x 16 by the
    degradation of fsrnet spec 1 (antialiased bicubic, rounded to bytes), then super-resolved,
    so the output shows what x8 SR recovers from them (--larger=skip refuses them instead);
    non-square ones are centre-cropped to a square first (said in the log line);
  * smaller images are skipped.
The model: a SavedModel export (--saved_model, its `super_resolve` signature: the bicubic
upsampling runs inside the graph) or a training run (--model_dir, the same code in this
process). The model expects faces cropped like its training data (fsrnet spec 12: the
released models are crop-specific).

Per image, next to its relative path under --output_dir: `<name>_sr.png` (128 x 128) and
`<name>_sheet.png` (input | LR nearest | bicubic | FSRNet; the input column only for larger
inputs), and `sheet.png` of the first 12 images. Unreadable, too small or refused images are
reported and skipped; the run goes on and ends with the list of skipped inputs and a summary.
"""
from __future__ import annotations

import os
import sys

import numpy as np
from absl import app, flags, logging

from experiments import common
from experiments.frontalize import IMAGE_EXTENSIONS, find_photos

FLAGS = flags.FLAGS
LR_SIZE, SR_SIZE = 16, 128  # fsrnet spec 1
SHEET_FACES = 12


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("input", None, "A face image or a folder of them.")
    flags.DEFINE_string("saved_model", None, "FSRNet SavedModel (<base>/<name> or a version).")
    flags.DEFINE_string("model_dir", None, "FSRNet training run (config.json + checkpoints).")
    flags.DEFINE_string("output_dir", None, "Where the SR images and sheets go.")
    flags.DEFINE_enum("larger", "downscale", ["downscale", "skip"], "Images larger than 16x16: "
                      "reduce them to 16x16 first (spec 1 degradation) or skip them.")


class Model(common.SignatureModel):
    """`super_resolve` from a SavedModel or a checkpoint: uint8 [1, 16, 16, 3] -> uint8
    [1, 128, 128, 3]."""

    SIGNATURE, TASK = "super_resolve", "fsrnet"

    def traced(self, task):
        return task.super_resolver().traced("super_resolve")

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        return self._fn(lr=tf.constant(lr[None]))["sr"].numpy()[0]


def decode(data: bytes) -> np.ndarray | None:
    """RGB uint8 [H, W, 3] of encoded image bytes (EXIF orientation applied), or None."""
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image[:, :, ::-1])


def prepare(image: np.ndarray, larger: str) -> tuple[np.ndarray | None, str, np.ndarray | None]:
    """(LR uint8 [16, 16, 3] or None, note or skip reason, the square HR input or None)."""
    import tensorflow as tf

    from tpgan_tf.models.fsrnet.degradation import bicubic_downsample

    h, w = image.shape[:2]
    if (h, w) == (LR_SIZE, LR_SIZE):
        return image, "", None
    if min(h, w) < LR_SIZE:
        return None, f"{w}x{h} is smaller than {LR_SIZE}x{LR_SIZE}", None
    if larger == "skip":
        return None, f"{w}x{h} is larger than {LR_SIZE}x{LR_SIZE} (--larger=skip)", None
    note = ""
    if h != w:
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top:top + side, left:left + side]
        note = f"centre-cropped to {side}x{side}, "
    side = image.shape[0]
    # Spec 1: antialiased bicubic by the exact factor (resized to a multiple of 16 first when
    # the side is not one), then rounded to bytes as an LR file would be.
    hr = tf.constant(image[None], tf.float32) / 255.0
    if side % LR_SIZE:
        hr = tf.image.resize(hr, (LR_SIZE * max(1, side // LR_SIZE),) * 2, method="bicubic",
                             antialias=True)
    small = bicubic_downsample(hr, int(hr.shape[1]) // LR_SIZE)
    lr = np.clip(np.round(small.numpy()[0] * 255.0), 0, 255).astype(np.uint8)
    return lr, note + f"reduced {side}x{side} -> {LR_SIZE}x{LR_SIZE}", image


def bicubic(lr: np.ndarray) -> np.ndarray:
    """The network input of a 16 x 16 face as uint8 [128, 128, 3] (serving.SuperResolver's
    in-graph upsampling)."""
    import tensorflow as tf

    from tpgan_tf.models.fsrnet.degradation import bicubic_upsample

    x = tf.clip_by_value(bicubic_upsample(tf.constant(lr[None]) / 255, (SR_SIZE, SR_SIZE)), 0, 1)
    return np.clip(np.round(x.numpy()[0] * 255.0), 0, 255).astype(np.uint8)


def sheet_row(lr: np.ndarray, sr: np.ndarray, source: np.ndarray | None) -> list[np.ndarray]:
    """[input (resized to 128, if larger),] LR nearest, bicubic, SR: uint8 128 x 128 each."""
    import cv2

    row = [] if source is None else [cv2.resize(source, (SR_SIZE, SR_SIZE),
                                                interpolation=cv2.INTER_AREA)]
    return row + [np.repeat(np.repeat(lr, SR_SIZE // LR_SIZE, 0), SR_SIZE // LR_SIZE, 1),
                  bicubic(lr), sr]


def _write(path: str, image: np.ndarray) -> None:
    from tpgan_tf.evaluation.sheets import write_png

    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_png(path, image)


def super_resolve_folder(input_path: str, output_dir: str, model, larger: str = "downscale",
                         log=print, progress=None) -> dict:
    """Runs every image; returns {"done": [relative paths], "skipped": {path: reason}}."""
    from tqdm import tqdm

    from tpgan_tf.evaluation.sheets import picture_sheet

    root, images = find_photos(input_path)
    if not images:
        raise FileNotFoundError(f"{input_path}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    done, skipped, rows = [], {}, []
    bar = tqdm(images, file=progress, disable=progress is None, unit="face", leave=False)

    def say(line):
        with tqdm.external_write_mode(file=sys.stdout):
            log(line)

    for rel in bar:
        with open(os.path.join(root, rel), "rb") as f:
            image = decode(f.read())
        if image is None:
            skipped[rel] = "not a readable image"
            say(f"{rel}: skipped (not a readable image)")
            continue
        lr, note, source = prepare(image, larger)
        if lr is None:
            skipped[rel] = note
            say(f"{rel}: skipped ({note})")
            continue
        sr = model(lr)
        stem = os.path.join(output_dir, os.path.splitext(rel)[0])
        row = sheet_row(lr, sr, source)
        _write(f"{stem}_sr.png", sr)
        _write(f"{stem}_sheet.png", np.concatenate(row, axis=1))
        if len(rows) < SHEET_FACES:
            rows.append((rel, row))
        done.append(rel)
        say(f"{rel}{' (' + note + ')' if note else ''} -> {stem}_sr.png")
    bar.close()
    if rows:
        titles = ["LR 16x16", "bicubic", "FSRNet"]
        if any(len(row) == 4 for _, row in rows):  # some larger inputs: an input column
            titles.insert(0, "input")
            rows = [(rel, row if len(row) == 4 else [np.zeros_like(row[0])] + row)
                    for rel, row in rows]
        sheet = picture_sheet(rows, titles, " | ".join(titles) + " (x8)")
        _write(os.path.join(output_dir, "sheet.png"), sheet)
    if skipped:
        log(f"skipped {len(skipped)} input{'s' * (len(skipped) != 1)}:")
        for key, reason in skipped.items():
            log(f"  {key}: {reason}")
    log(f"super-resolved {len(done)} of {len(images)} images; skipped {len(skipped)}; "
        f"output in {output_dir}")
    return {"done": done, "skipped": skipped}


def main(argv):
    del argv
    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)
    try:
        for name in ("input", "output_dir"):
            if not getattr(FLAGS, name):
                raise ValueError(f"--{name} is required")
        if not os.path.exists(FLAGS.input):
            raise FileNotFoundError(f"{FLAGS.input}: no such image or folder")
        model = Model(FLAGS.saved_model, FLAGS.model_dir)
        result = super_resolve_folder(FLAGS.input, FLAGS.output_dir, model, FLAGS.larger,
                                      progress=sys.stderr)
    except (*common.USER_ERRORS, OSError) as err:
        common.fail(err, 2)
    return 0 if result["done"] else 1


if __name__ == "__main__":
    define_flags()
    app.run(main)
