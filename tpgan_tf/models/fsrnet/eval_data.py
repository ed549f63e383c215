"""Test data of the FSRNet evaluation (fsrnet spec 9): batches of (HR, network input) from face
records or from two folders of image files.

Every batch is a dict of numpy arrays (b <= batch size):
    names      [b] str
    hr         [b, S, S, 3] float32 in [0, 1] (uint8 / 255)
    x          [b, S, S, 3] float32 in [0, 1]: the network input, i.e. the bicubic LR at S
    lr         [b, s, s, 3] float32, the small face, or None when the LR files were given
               already upsampled
    landmarks  [b, N, 2] float32 ground truth, or None (folders have none)

Folders (config `eval.hr_dir`, `eval.lr_dir`): pairs are matched by file stem (18241.jpg in
both; the extensions may differ); HR files must be S x S; LR files either S x S
(bicubic-upsampled, as the official test files: used as x unchanged) or s x s (16 x 16:
upsampled here as the training input, serving.SuperResolver.upsample). JPEG files are
decoded with the accurate integer IDCT (libjpeg's default, used by the authors' Torch7
scripts), others by tf.io.decode_image. Files without a partner, unreadable files and files
of another size are skipped and listed.
"""
from __future__ import annotations

import os
from typing import Iterator

import numpy as np
import tensorflow as tf

from tpgan_tf.models.fsrnet import degradation

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_JPEG_MAGIC = b"\xff\xd8"


def decode_rgb(data: bytes) -> np.ndarray:
    """Encoded image bytes -> uint8 RGB [H, W, 3]; JPEG with the accurate integer IDCT.
    Raises tf.errors.InvalidArgumentError for data that is not an image."""
    if data[:2] == _JPEG_MAGIC:
        image = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")
    else:
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return image.numpy()


def read_rgb(path: str) -> tuple[np.ndarray | None, str | None]:
    """(uint8 RGB image, None) or (None, reason)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        return None, f"cannot read file ({err.strerror})"
    if not data:
        return None, "empty file (0 bytes)"
    try:
        return decode_rgb(data), None
    except (tf.errors.InvalidArgumentError, ValueError):
        return None, "unreadable image (corrupt, truncated or not an image)"


def _images_by_stem(folder: str, flag: str) -> dict[str, str]:
    if not folder or not os.path.isdir(folder):
        raise FileNotFoundError(f"{flag}={folder!r}: not a folder")
    out = {}
    for name in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS:
            if stem in out:
                raise ValueError(f"{flag}: two images named {stem!r} ({os.path.basename(out[stem])}"
                                 f", {name}); pairs are matched by file stem")
            out[stem] = os.path.join(folder, name)
    if not out:
        raise FileNotFoundError(f"{flag}={folder!r}: no image files ({', '.join(IMAGE_EXTENSIONS)})")
    return out


def folder_pairs(hr_dir: str, lr_dir: str) -> tuple[list[tuple[str, str, str]], list[dict]]:
    """([(stem, hr path, lr path)] sorted by stem, skipped) of two folders (module doc)."""
    hr, lr = _images_by_stem(hr_dir, "eval.hr_dir"), _images_by_stem(lr_dir, "eval.lr_dir")
    skipped = [{"path": hr[s], "reason": "no LR file of this name in eval.lr_dir"}
               for s in sorted(set(hr) - set(lr))]
    skipped += [{"path": lr[s], "reason": "no HR file of this name in eval.hr_dir"}
                for s in sorted(set(lr) - set(hr))]
    pairs = [(s, hr[s], lr[s]) for s in sorted(set(hr) & set(lr))]
    if not pairs:
        raise ValueError(f"eval.hr_dir={hr_dir} and eval.lr_dir={lr_dir} share no file names")
    return pairs, skipped


def _load_pair(hr_path: str, lr_path: str, size: int, small: int):
    """(hr uint8, lr uint8, None) or (None, None, reason)."""
    hr, reason = read_rgb(hr_path)
    if hr is None:
        return None, None, f"HR: {reason}"
    if hr.shape[:2] != (size, size):
        return None, None, f"HR is {hr.shape[1]}x{hr.shape[0]}, expected {size}x{size}"
    lr, reason = read_rgb(lr_path)
    if lr is None:
        return None, None, f"LR {lr_path}: {reason}"
    if lr.shape[:2] not in ((size, size), (small, small)):
        return None, None, (f"LR {lr_path} is {lr.shape[1]}x{lr.shape[0]}, expected "
                            f"{size}x{size} (bicubic-upsampled) or {small}x{small}")
    return hr, lr, None


def folder_batches(pairs, batch_size: int, size: int, small: int, skipped: list,
                   max_examples: int = 0) -> Iterator[dict]:
    """Batches (module doc) of folder pairs; bad pairs are appended to `skipped`. A batch holds
    pairs of one LR kind (upsampled or small), so `lr` is all-or-nothing per batch."""
    chunk = {True: [], False: []}  # is the LR file small?
    done = 0
    for stem, hr_path, lr_path in pairs:
        if max_examples and done >= max_examples:
            break
        hr, lr, reason = _load_pair(hr_path, lr_path, size, small)
        if hr is None:
            skipped.append({"path": hr_path, "reason": reason})
            continue
        done += 1
        key = lr.shape[0] == small
        chunk[key].append((stem, hr, lr))
        if len(chunk[key]) == batch_size:
            yield _folder_batch(chunk[key], size, key)
            chunk[key] = []
    for key, rest in chunk.items():
        if rest:
            yield _folder_batch(rest, size, key)


def _folder_batch(rows, size: int, small_lr: bool) -> dict:
    hr = np.stack([r[1] for r in rows]).astype(np.float32) / 255.0
    lr = np.stack([r[2] for r in rows]).astype(np.float32) / 255.0
    if small_lr:
        x = tf.clip_by_value(degradation.bicubic_upsample(lr, (size, size)), 0.0, 1.0).numpy()
    else:
        x, lr = lr, None
    return {"names": [r[0] for r in rows], "hr": hr, "x": x, "lr": lr, "landmarks": None}


# The FSRNet release's test folders (fsrnet spec 0, 8), recognised by their names.
RELEASE_FOLDERS = {
    "helen_val_50_hr": "the FSRNet release's 50 Helen test faces (ids 18241-18633, spec 8.1)",
    "celeba_val_1000_hr": "the FSRNet release's CelebA validation set: the last 1,000 CelebA "
                          "images (201,600-202,599), NOT the paper's 18,001-18,100 (spec 8.2)",
}


def describe_folders(hr_dir: str) -> str:
    """What the test set of an eval.hr_dir is: the release's folders by name, else the folder."""
    base = os.path.basename(os.path.normpath(hr_dir))
    return RELEASE_FOLDERS.get(base.lower(), f"image pairs of {base}/")


def describe_records(data_dir: str, split: str = "test") -> str:
    """What the `split` of face records is; for the test split from their manifest.json (source
    and split settings of data_prep/build_face_records.py); the folder when there is none."""
    import json

    base = os.path.basename(os.path.normpath(data_dir))
    try:
        with open(os.path.join(data_dir, "manifest.json")) as f:
            settings = json.load(f).get("settings", {})
    except (OSError, ValueError):
        settings = {}
    source = settings.get("source")
    if split != "test" or not source:
        return f"the {split} split of the {source or 'face'} records of {base}/"
    if source == "celeba":
        return {"paper": "CelebA images 18,001-18,100 (the paper's split, spec 8.2), our crop",
                "release": "CelebA's last 1,000 images (the release's split, NOT the paper's "
                           "18,001-18,100; spec 8.2), our crop"}.get(
            settings.get("celeba_split"), "CelebA face records")
    if source == "helen":
        return {"fsrnet": "Helen's last 50 annotation files (the release's 50 test faces, "
                          "spec 8.1), our tight crop",
                "helen": "Helen's own 330 test images (testnames.txt), our tight crop"}.get(
            settings.get("helen_split"), "Helen face records")
    if source == "synthetic":
        return "held-out identities of the built-in synthetic faces"
    return f"face records of {base}/"


def records_landmarks(file_pattern: str) -> tuple[int, str]:
    """(landmark count, scheme) of the first record of the shards matching the pattern."""
    from tpgan_tf.data.face_records import read_metadata
    from tpgan_tf.data.pipeline import list_shards

    for serialized in tf.data.TFRecordDataset(list_shards(file_pattern)).take(1):
        meta = read_metadata(serialized.numpy())
        return len(meta["landmarks"]), meta["landmark_scheme"]
    raise ValueError(f"{file_pattern}: the shards hold no records")


def record_batches(file_pattern: str, cfg, batch_size: int, max_examples: int = 0
                   ) -> Iterator[dict]:
    """Batches (module doc) of test face records, through the training input's own
    degradation (inputs.eval_dataset)."""
    from tpgan_tf.models.fsrnet.inputs import eval_dataset

    for batch in eval_dataset(file_pattern, cfg, batch_size, max_examples):
        yield {"names": [n.decode() for n in batch["name"].numpy()],
               "hr": batch["hr"].numpy(), "x": batch["x"].numpy(), "lr": batch["lr"].numpy(),
               "landmarks": batch["landmarks"].numpy()}
