"""FSRNet on photos (the photo tool, tpgan_tf/photos): small faces super-resolved x8 and
pasted back into the photo.

Per face found (MTCNN; a photo where none is found is searched again enlarged 2x and 4x,
for faces of 6-20 px; or a landmark CSV):
the face is cropped as the model's training crops were (crop_rule.py: the similarity that
maps its five points onto the export's template, image_size x image_size), reduced to the
LR input by the spec 1 degradation (antialiased bicubic by the scale, rounded to bytes) and
super-resolved (`super_resolve`: the bicubic upsampling runs in the graph). Written per face:
`lr` (the s x s model input: `--aligned` takes it back), `sr` (S x S) and `sheet` (LR
nearest | bicubic | FSRNet); per photo `x8`: the whole photo enlarged by the model's scale
(bicubic, the kernel of the model's own upsampling) with every face's SR pasted back through
the inverse of its crop transform and a feathered mask (tpgan_tf/photos/paste.py): outside
the faces it is the bicubic enlargement exactly. Photos whose enlargement would exceed
MAX_PASTE_PIXELS get the per-face outputs only. After the run: `sheet.png` of the first
SHEET_FACES faces.

`--aligned`: the inputs are ready crops, each taking one of three paths (--input_kind;
s = the LR side, S = image_size):
  lr         an s x s LR face (the model's own input format, e.g. a `lr` output above);
  upsampled  an S x S image that is ALREADY a bicubic upsampling of an s x s face (the FSRNet
             release's LR test files, fsrnet spec 1): the network input as it is, never
             reduced and blurred a second time (`super_resolve_upsampled`);
  hr         an HR face crop of any size >= s: centre-cropped to a square, reduced to s x s
             by the spec 1 degradation, then as lr.
auto (default) picks per image: s x s is lr; a square S x S image is upsampled when its
upsampling PSNR is >= input_kinds.UPSAMPLED_PSNR_DB, else hr; any other size is hr. Images
of the wrong size for a forced kind, or smaller than s, are skipped. Written: `sr` and
`sheet` (input | LR nearest | bicubic | FSRNet, the columns the path has).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from tpgan_tf.models.fsrnet.crop_rule import (TEMPLATE, crop_face, matrix_scale,
                                              similarity_matrix)
from tpgan_tf.models.fsrnet.input_kinds import KINDS, UPSAMPLED_PSNR_DB, auto_kind
from tpgan_tf.photos.applier import PhotoApplier, SkipFace

MAX_PASTE_PIXELS = 64_000_000  # an 8000 x 8000 enlargement (a 1000 x 1000 photo at x8)
# Faces shrunk by more than 1 / SHRUNK into the LR input are reported. With the synthetic
# template a face's MTCNN box is ~8 px wide in the 16 x 16 input (the astronaut test photo:
# a 20 px box is shrunk 2.4x), so this flags boxes over ~35 px.
SHRUNK = 0.25
SHEET_FACES = 12
COLUMN_TITLES = {"input": "input", "lr": "LR {s}x{s}", "bicubic": "bicubic", "sr": "FSRNet"}
COLUMNS = tuple(COLUMN_TITLES)
PATHS = ("lr", "upsampled", "hr")


@dataclasses.dataclass
class Prepared:
    """How one ready crop reaches the model: path "lr" (image = the s x s face), "upsampled"
    (image = the S x S network input) or "hr" (image = the s x s face made from `source`,
    the square HR crop); None = skipped, with the reason in `note`."""

    path: str | None
    image: np.ndarray | None = None
    note: str = ""
    source: np.ndarray | None = None


def reduce_face(square: np.ndarray, lr_size: int) -> np.ndarray:
    """uint8 [s, s, 3] of a square uint8 face [n, n, 3] by the spec 1 degradation:
    antialiased bicubic by the exact factor (resized to a multiple of s first when n is not
    one), rounded to bytes as an LR file would be."""
    import tensorflow as tf

    from tpgan_tf.models.fsrnet.degradation import bicubic_downsample

    side = square.shape[0]
    hr = tf.constant(square[None], tf.float32) / 255.0
    if side % lr_size:
        hr = tf.image.resize(hr, (lr_size * max(1, side // lr_size),) * 2, method="bicubic",
                             antialias=True)
    small = bicubic_downsample(hr, int(hr.shape[1]) // lr_size)
    return np.clip(np.round(small.numpy()[0] * 255.0), 0, 255).astype(np.uint8)


def reduce_hr(image: np.ndarray, lr_size: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(LR uint8 [s, s, 3], the square crop, note) of an HR face crop of any shape:
    centre-cropped to a square, then `reduce_face`."""
    h, w = image.shape[:2]
    note = ""
    if h != w:
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top:top + side, left:left + side]
        note = f"centre-cropped to {side}x{side}, "
    side = image.shape[0]
    return (reduce_face(image, lr_size), image,
            note + f"reduced {side}x{side} -> {lr_size}x{lr_size}")


def prepare(image: np.ndarray, input_kind: str, lr_size: int, sr_size: int) -> Prepared:
    """The path of one ready crop (RGB uint8 [H, W, 3]) by input_kind (module doc)."""
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


def bicubic(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 [h, w, 3] -> uint8 [size[0], size[1], 3] by the model's own upsampling (the
    serving graph's: tf.image.resize bicubic, Keys a = -0.5), clipped and rounded."""
    from tpgan_tf.models.fsrnet.degradation import bicubic_upsample

    x = bicubic_upsample(np.asarray(images, np.float32)[None] / 255.0, size)
    return np.clip(np.round(x.numpy()[0] * 255.0), 0, 255).astype(np.uint8)


def sheet_row(prepared: Prepared, sr: np.ndarray) -> dict[str, np.ndarray]:
    """{column: uint8 S x S picture} of the COLUMNS this face has: input (hr crops, resized
    to S), lr (nearest), bicubic (the network input), sr."""
    import cv2

    size = sr.shape[0]
    if prepared.path == "upsampled":
        return {"bicubic": prepared.image, "sr": sr}
    factor = size // prepared.image.shape[0]
    row = {"lr": np.repeat(np.repeat(prepared.image, factor, 0), factor, 1),
           "bicubic": bicubic(prepared.image, (size, size)), "sr": sr}
    if prepared.source is not None:
        row["input"] = cv2.resize(prepared.source, (size, size), interpolation=cv2.INTER_AREA)
    return row


class FsrnetPhotos(PhotoApplier):
    """Small faces super-resolved and pasted back (module doc)."""

    OPTIONS = ("input_kind",)

    def __init__(self, model, options=None):
        super().__init__(model, options)
        self.input_kind = self.options.get("input_kind") or "auto"
        if self.input_kind not in KINDS:
            raise ValueError(f"--input_kind must be one of {KINDS}, got {self.input_kind!r}")
        info = self.info
        self.size, self.lr_size = int(info["image_size"]), int(info["lr_size"])
        self.scale = int(info["scale"])
        template = (info.get("alignment") or {}).get("template_landmarks")
        self.template = None if template is None else np.asarray(template, np.float64)
        self._faces = []  # (path, note, sheet row, LR pixels per photo pixel) per face done
        self._not_pasted = []  # photos too large to enlarge

    @property
    def min_eye_distance(self) -> float:
        """Half the template's eye distance at the LR size (2.1 px with TEMPLATE): smaller
        faces would be enlarged more than 2x into the model's input (mostly interpolation)."""
        template = np.asarray(TEMPLATE) if self.template is None else self.template
        return float(np.hypot(*(template[1] - template[0]))) / self.scale / 2.0

    def aligned_points(self) -> np.ndarray:
        """The template in the LR crop's pixels (recorded only: a ready crop is used whole;
        crop_rule.TEMPLATE for a model without one)."""
        template = np.asarray(TEMPLATE) if self.template is None else self.template
        return (template + 0.5) / self.scale - 0.5

    def crop_matrix(self, landmarks) -> np.ndarray:
        """The 2x3 photo -> crop (image_size) map of a face's five points."""
        if self.template is None:
            raise ValueError(
                f"{self.model.source}: the model's export_info has no crop template (the "
                "mean five points of its training crops; priors.crop_template), so faces "
                "cannot be cropped as it was trained: measure it with `python -m "
                "tpgan_tf.models.fsrnet.crop_rule --records=DIR`, export again with "
                "--override=priors.crop_template=..., or give --aligned crops")
        return similarity_matrix(landmarks, self.template)

    def _run(self, prepared: Prepared) -> np.ndarray:
        if prepared.path == "upsampled":
            return self.model("super_resolve_upsampled", image=prepared.image[None])["sr"][0]
        return self.model("super_resolve", lr=prepared.image[None])["sr"][0]

    def face_outputs(self, photo, photo_bytes, landmarks):
        if self.aligned:
            prepared = prepare(photo, self.input_kind, self.lr_size, self.size)
            if prepared.path is None:
                raise SkipFace(prepared.note)
            sr = self._run(prepared)
            return {"sr": sr, "sheet": self._keep(prepared, sr, None)}
        matrix = self.crop_matrix(landmarks)
        lr = reduce_face(crop_face(photo, matrix, self.size), self.lr_size)
        prepared = Prepared("lr", lr, "")
        sr = self._run(prepared)
        return {"lr": lr, "sr": sr,
                "sheet": self._keep(prepared, sr, matrix_scale(matrix) / self.scale)}

    def _keep(self, prepared: Prepared, sr: np.ndarray, lr_scale: float | None) -> np.ndarray:
        """The face's sheet; keeps what finish() needs (its sheet row: the first faces)."""
        row = sheet_row(prepared, sr)
        kept = row if len(self._faces) < SHEET_FACES else None
        self._faces.append((prepared.path, prepared.note, kept, lr_scale))
        return np.concatenate([row[c] for c in COLUMNS if c in row], 1)

    def photo_outputs(self, photo, faces):
        """`x8`: the photo enlarged by the scale with every face's SR pasted back."""
        from tpgan_tf.photos.paste import enlarged_matrix, paste_face

        if self.aligned:
            return {}
        height, width = photo.shape[:2]
        if height * width * self.scale ** 2 > MAX_PASTE_PIXELS:
            self._not_pasted.append(f"{width}x{height}")
            return {}
        canvas = bicubic(photo, (height * self.scale, width * self.scale))
        for face, outputs in faces:
            canvas = paste_face(canvas, outputs["sr"],
                                enlarged_matrix(self.crop_matrix(face.landmarks), self.scale))
        return {f"x{self.scale}": canvas}

    def finish(self, records, output_dir, log):
        """sheet.png of the first faces; the paths --aligned crops took; notes on faces the
        crop shrank and photos too large to paste. Returns {"fsrnet": per-face notes}."""
        import os

        from tpgan_tf.evaluation.sheets import picture_sheet, write_png
        from tpgan_tf.photos.records import faces_done, run_faces

        done = faces_done(records)
        faces, not_pasted = run_faces(self._faces, len(done)), self._not_pasted
        self._faces, self._not_pasted = [], []
        named = [(name, face) for (name, _), face in zip(done, faces)]
        notes = {}
        for name, (path, note, _, lr_scale) in named:
            if self.aligned:
                notes[name] = {"path": path, "note": note}
                log(f"{name} [{path}: {note}]")
            else:
                notes[name] = {"lr_pixels_per_photo_pixel": round(lr_scale, 4)}
        extra = {"fsrnet": notes}
        rows = [(name, f[2]) for name, f in named if f[2] is not None][:SHEET_FACES]
        if rows:
            shown = [c for c in COLUMNS if any(c in row for _, row in rows)]
            titles = [COLUMN_TITLES[c].format(s=self.lr_size) for c in shown]
            blank = np.full((self.size, self.size, 3), 255, np.uint8)
            sheet = picture_sheet([(name, [row.get(c, blank) for c in shown])
                                   for name, row in rows],
                                  titles, " | ".join(titles) + f" (x{self.scale})")
            write_png(os.path.join(output_dir, "sheet.png"), sheet)
            extra["sheet"] = "sheet.png"
        if self.aligned:
            counts = {p: sum(1 for _, f in named if f[0] == p) for p in PATHS}
            s, big = self.lr_size, self.size
            log(f"fsrnet --aligned: {counts['lr']} LR {s}x{s}, {counts['upsampled']} already "
                f"upsampled {big}x{big} fed as they are, {counts['hr']} HR reduced to "
                f"{s}x{s} first")
        shrunk = [name for name, f in named if f[3] is not None and f[3] < SHRUNK]
        if shrunk:
            log(f"{len(shrunk)} face{'s' * (len(shrunk) != 1)} shrunk more than "
                f"{1 / SHRUNK:g}x into the model's {self.lr_size}x{self.lr_size} input "
                f"(FSRNet is for small faces; its bicubic x{self.scale} may be sharper): "
                f"{', '.join(shrunk)}")
        if not_pasted:
            log(f"{len(not_pasted)} photo{'s' * (len(not_pasted) != 1)} too large "
                f"to enlarge x{self.scale} (over {MAX_PASTE_PIXELS / 1e6:g} MP): faces only")
        return extra
