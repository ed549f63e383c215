"""Super-resolve face images x8 with a trained FSRNet (issue 12, part 6): the photo tool's
sibling of experiments/frontalize.py.

    python -m experiments.super_resolve --input=faces/ \\
        --saved_model=runs/demo/fsrnet/export/fsrnet --output_dir=runs/demo/fsrnet/super_resolved
    python -m experiments.super_resolve --input=helen_val_50_LR_8x --input_kind=upsampled \\
        --model_dir=runs/fsrnet_helen --output_dir=out

Input: one image or a folder (searched recursively for .png/.jpg/.jpeg/.bmp) of face crops,
each taking one of three paths (s = the model's LR side, 16; S = 8 s = 128; --input_kind):
  lr         an s x s LR face (what the model was trained on: a face crop like the training
             crops, reduced x8): upsampled inside the model (`super_resolve` signature);
  upsampled  an S x S image that is ALREADY a bicubic upsampling of an s x s face, the format
             of the FSRNet release's LR test files (fsrnet spec 1): fed to the network as it
             is (`super_resolve_upsampled`), never reduced and blurred a second time;
  hr         an HR face crop of any size >= s: centre-cropped to a square if it is not one,
             REDUCED to s x s by the spec 1 degradation (antialiased bicubic, rounded to
             bytes), then as lr, so the output shows what x8 SR recovers from it.
--input_kind=auto (default) picks per image: s x s is lr; a square S x S image is upsampled
when its upsampling PSNR, the PSNR between the image and its least-squares projection onto
bicubic upsamplings of s x s images, is >= 38 dB (calibrated on synthetic faces: HR faces
<= 34.8 dB, upsampled files >= 43 dB even as JPEG q75; the release's Helen and CelebA LR test
files measure 40.9 .. 49.4 dB, their HR files <= 30.5 dB; tpgan_tf/models/fsrnet/input_kinds.py);
any other image of side >= s is hr, with a log line saying so. --input_kind=lr / upsampled /
hr force one path and skip images of the wrong size. Smaller images are skipped.
The model: a SavedModel export (--saved_model, its `super_resolve` and
`super_resolve_upsampled` signatures: the bicubic upsampling runs inside the graph) or a
training run (--model_dir, the same code in this process). The model expects faces cropped
like its training data (fsrnet spec 12: the released models are crop-specific).

Per image, next to its relative path under --output_dir: `<name>_sr.png` (S x S) and
`<name>_sheet.png` (input | LR nearest | bicubic | FSRNet; the input column for hr inputs,
the LR column for lr and hr inputs; an upsampled file is its own bicubic column), and
`sheet.png` of the first 12 images. Unreadable, too small or refused images are reported and
skipped; the run goes on and ends with the list of skipped inputs and a summary saying how
many images took each path.
"""
from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np
from absl import app, flags, logging

from experiments import common
from tpgan_tf.models.fsrnet.input_kinds import KINDS, UPSAMPLED_PSNR_DB, auto_kind
from tpgan_tf.photos.files import IMAGE_EXTENSIONS, find_photos

FLAGS = flags.FLAGS
LR_SIZE, SR_SIZE = 16, 128  # fsrnet spec 1 (the defaults; a model says its own)
SHEET_FACES = 12
COLUMNS = ("input", "lr", "bicubic", "sr")
PATHS = ("lr", "upsampled", "hr")


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("input", None, "A face image or a folder of them.")
    flags.DEFINE_string("saved_model", None, "FSRNet SavedModel (<base>/<name> or a version).")
    flags.DEFINE_string("model_dir", None, "FSRNet training run (config.json + checkpoints).")
    flags.DEFINE_string("output_dir", None, "Where the SR images and sheets go.")
    flags.DEFINE_enum(
        "input_kind", "auto", list(KINDS),
        "lr: 16x16 LR faces; upsampled: 128x128 images already bicubic-upsampled from 16x16 "
        "(the FSRNet release's LR files), fed as they are; hr: HR face crops, reduced to 16x16 "
        "first; auto: 16x16 is lr, a 128x128 image whose upsampling PSNR (against its "
        "projection onto bicubic upsamplings of 16x16 images) is >= "
        f"{UPSAMPLED_PSNR_DB:g} dB is upsampled, anything else hr.")


class Model(common.SignatureModel):
    """FSRNet's `super_resolve` (uint8 [1, s, s, 3] -> uint8 [1, S, S, 3]) and
    `super_resolve_upsampled` (uint8 [1, S, S, 3] -> the same) from a SavedModel or a
    checkpoint. lr_size / sr_size: s and S of the model."""

    SIGNATURE, TASK = "super_resolve", "fsrnet"
    UPSAMPLED = "super_resolve_upsampled"

    def __init__(self, saved_model: str | None = None, model_dir: str | None = None):
        super().__init__(saved_model, model_dir)
        if saved_model:
            if self.UPSAMPLED not in self._loaded.signatures:
                raise ValueError(f"{self.source}: no {self.UPSAMPLED} signature (exports of "
                                 "this project have one: re-export the run)")
            upsampled = self._loaded.signatures[self.UPSAMPLED]
            self._set(self._fn, upsampled, _input_side(self._fn, "lr"),
                      _input_side(upsampled, "image"))

    def traced(self, task):
        resolver = task.super_resolver()
        self._set(resolver.traced("super_resolve"), resolver.traced(self.UPSAMPLED),
                  resolver.small, resolver.size)
        return self._fn

    def _set(self, fn, upsampled_fn, lr_size: int, sr_size: int) -> None:
        self._fn, self._upsampled_fn = fn, upsampled_fn
        self.lr_size, self.sr_size = int(lr_size), int(sr_size)

    @classmethod
    def from_resolver(cls, resolver, source: str = "SuperResolver") -> "Model":
        """Wraps a serving.SuperResolver's traced endpoints (in-process, tests)."""
        model = cls.from_function(None, source)
        model._set(resolver.traced("super_resolve"), resolver.traced(cls.UPSAMPLED),
                   resolver.small, resolver.size)
        return model

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        return self._fn(lr=tf.constant(lr[None]))["sr"].numpy()[0]

    def upsampled(self, image: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        return self._upsampled_fn(image=tf.constant(image[None]))["sr"].numpy()[0]


def _input_side(signature, name: str) -> int:
    """The spatial side of a SavedModel signature's input `name` ([None, side, side, 3])."""
    return int(signature.structured_input_signature[1][name].shape[1])


def decode(data: bytes) -> np.ndarray | None:
    """RGB uint8 [H, W, 3] of encoded image bytes (EXIF orientation applied), or None."""
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image[:, :, ::-1])


@dataclasses.dataclass
class Prepared:
    """How one image reaches the model: path "lr" (image = the s x s face), "upsampled"
    (image = the S x S network input) or "hr" (image = the s x s face made from `source`,
    the square HR crop); None = skipped, with the reason in `note`."""

    path: str | None
    image: np.ndarray | None = None
    note: str = ""
    source: np.ndarray | None = None


def reduce_hr(image: np.ndarray, lr_size: int = LR_SIZE) -> tuple[np.ndarray, np.ndarray, str]:
    """(LR uint8 [s, s, 3], the square crop, note) of an HR face crop: centre-cropped to a
    square, then the spec 1 degradation (antialiased bicubic by the exact factor, resized to a
    multiple of s first when the side is not one), rounded to bytes as an LR file would be."""
    import tensorflow as tf

    from tpgan_tf.models.fsrnet.degradation import bicubic_downsample

    h, w = image.shape[:2]
    note = ""
    if h != w:
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top:top + side, left:left + side]
        note = f"centre-cropped to {side}x{side}, "
    side = image.shape[0]
    hr = tf.constant(image[None], tf.float32) / 255.0
    if side % lr_size:
        hr = tf.image.resize(hr, (lr_size * max(1, side // lr_size),) * 2, method="bicubic",
                             antialias=True)
    small = bicubic_downsample(hr, int(hr.shape[1]) // lr_size)
    lr = np.clip(np.round(small.numpy()[0] * 255.0), 0, 255).astype(np.uint8)
    return lr, image, note + f"reduced {side}x{side} -> {lr_size}x{lr_size}"


def prepare(image: np.ndarray, input_kind: str = "auto", lr_size: int = LR_SIZE,
            sr_size: int = SR_SIZE) -> Prepared:
    """The path of one RGB uint8 image [H, W, 3] by --input_kind (module doc)."""
    if input_kind not in KINDS:
        raise ValueError(f"--input_kind must be one of {KINDS}, got {input_kind!r}")
    h, w = image.shape[:2]
    if min(h, w) < lr_size:
        return Prepared(None, note=f"{w}x{h} is smaller than {lr_size}x{lr_size}")
    if input_kind == "auto":
        path, psnr = auto_kind(image, lr_size, sr_size)
        measured = "" if psnr is None else f"upsampling PSNR {psnr:.1f} dB"
    else:
        path, measured = input_kind, ""
        wanted = {"lr": lr_size, "upsampled": sr_size}.get(path)
        if wanted and (h, w) != (wanted, wanted):
            return Prepared(None, note=f"{w}x{h}; --input_kind={path} needs {wanted}x{wanted}")
    if path == "lr":
        return Prepared("lr", image, "LR face")
    if path == "upsampled":
        why = f" ({measured} >= {UPSAMPLED_PSNR_DB:g})" if measured else ""
        return Prepared("upsampled", image, f"already bicubic-upsampled{why}: fed as it is")
    lr, square, reduced = reduce_hr(image, lr_size)
    why = ""
    if measured:
        why = (f" ({measured} < {UPSAMPLED_PSNR_DB:g}: more detail than an upsampled LR file;"
               " pass --input_kind=upsampled if it is one)")
    return Prepared("hr", lr, f"HR face{why}, {reduced}", square)


def bicubic(lr: np.ndarray, sr_size: int = SR_SIZE) -> np.ndarray:
    """The network input of an s x s face as uint8 [S, S, 3] (serving.SuperResolver's
    in-graph upsampling)."""
    import tensorflow as tf

    from tpgan_tf.models.fsrnet.degradation import bicubic_upsample

    x = tf.clip_by_value(bicubic_upsample(tf.constant(lr[None]) / 255, (sr_size, sr_size)), 0, 1)
    return np.clip(np.round(x.numpy()[0] * 255.0), 0, 255).astype(np.uint8)


def sheet_row(prepared: Prepared, sr: np.ndarray) -> dict[str, np.ndarray]:
    """{column: uint8 S x S picture} of COLUMNS present for this image: input (hr inputs,
    resized to S), lr (nearest), bicubic (the network input), sr."""
    import cv2

    size = sr.shape[0]
    if prepared.path == "upsampled":
        return {"bicubic": prepared.image, "sr": sr}
    factor = size // prepared.image.shape[0]
    row = {"lr": np.repeat(np.repeat(prepared.image, factor, 0), factor, 1),
           "bicubic": bicubic(prepared.image, size), "sr": sr}
    if prepared.source is not None:
        row["input"] = cv2.resize(prepared.source, (size, size), interpolation=cv2.INTER_AREA)
    return row


COLUMN_TITLES = {"input": "input", "lr": "LR {s}x{s}", "bicubic": "bicubic", "sr": "FSRNet"}


def _title(column: str, lr_size: int) -> str:
    return COLUMN_TITLES[column].format(s=lr_size)


def _write(path: str, image: np.ndarray) -> None:
    from tpgan_tf.evaluation.sheets import write_png

    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_png(path, image)


def super_resolve_folder(input_path: str, output_dir: str, model, input_kind: str = "auto",
                         log=print, progress=None) -> dict:
    """Runs every image; returns {"done": [relative paths], "paths": {relative path: "lr" |
    "upsampled" | "hr"}, "skipped": {path: reason}}."""
    from tqdm import tqdm

    from tpgan_tf.evaluation.sheets import picture_sheet

    lr_size = getattr(model, "lr_size", LR_SIZE)
    sr_size = getattr(model, "sr_size", SR_SIZE)
    root, images = find_photos(input_path)
    if not images:
        raise FileNotFoundError(f"{input_path}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    done, paths, skipped, rows = [], {}, {}, []
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
        prepared = prepare(image, input_kind, lr_size, sr_size)
        if prepared.path is None:
            skipped[rel] = prepared.note
            say(f"{rel}: skipped ({prepared.note})")
            continue
        sr = model.upsampled(prepared.image) if prepared.path == "upsampled" else model(
            prepared.image)
        stem = os.path.join(output_dir, os.path.splitext(rel)[0])
        row = sheet_row(prepared, sr)
        _write(f"{stem}_sr.png", sr)
        _write(f"{stem}_sheet.png", np.concatenate([row[c] for c in COLUMNS if c in row], 1))
        if len(rows) < SHEET_FACES:
            rows.append((rel, row))
        done.append(rel)
        paths[rel] = prepared.path
        say(f"{rel} [{prepared.path}: {prepared.note}] -> {stem}_sr.png")
    bar.close()
    if rows:
        shown = [c for c in COLUMNS if any(c in row for _, row in rows)]
        titles = [_title(c, lr_size) for c in shown]
        blank = np.full((sr_size, sr_size, 3), 255, np.uint8)  # no such column: background
        sheet = picture_sheet([(rel, [row.get(c, blank) for c in shown]) for rel, row in rows],
                              titles, " | ".join(titles) + " (x8)")
        _write(os.path.join(output_dir, "sheet.png"), sheet)
    if skipped:
        log(f"skipped {len(skipped)} input{'s' * (len(skipped) != 1)}:")
        for key, reason in skipped.items():
            log(f"  {key}: {reason}")
    counts = {p: sum(1 for v in paths.values() if v == p) for p in PATHS}
    log(f"super-resolved {len(done)} of {len(images)} images ({counts['lr']} LR {lr_size}x"
        f"{lr_size}, {counts['upsampled']} already upsampled {sr_size}x{sr_size} fed as they "
        f"are, {counts['hr']} HR reduced to {lr_size}x{lr_size} first); skipped "
        f"{len(skipped)}; output in {output_dir}")
    return {"done": done, "paths": paths, "skipped": skipped}


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
        result = super_resolve_folder(FLAGS.input, FLAGS.output_dir, model, FLAGS.input_kind,
                                      progress=sys.stderr)
    except (*common.USER_ERRORS, OSError) as err:
        common.fail(err, 2)
    return 0 if result["done"] else 1


if __name__ == "__main__":
    define_flags()
    app.run(main)
