"""The paper's evaluation protocol (spec 7.1) on test TFRecords, and its results page.

Protocol (spec 6.3 / 7.1, with the choices the spec leaves open made explicit here):
  * Test split only (the `test-*.tfrecord` shards; their subjects never appear in training).
  * Gallery: one real frontal image (camera 05_1) per test subject: the frontal ground truth of
    the subject's first appearance. Rule (`gallery_sort_key`): lowest session, then lowest
    recording, then illumination 07 (frontal flash, "frontal/neutral illumination") if that
    (session, recording) has it, else the lowest illumination index.
  * Probes: every test pair's profile, all illuminations, both yaw signs pooled per |yaw|
    (15..90, plus 0 as a sanity row). The gallery image itself (the 0-degree pair whose profile
    is the gallery frontal) is not a probe: it would match itself.
  * Features: Light-CNN-29 256-d fc (spec 4.4) of the grayscale (mean of RGB) 128x128 image in
    [0, 1]; rank-1 by cosine similarity (metrics.rank1_identification).
  * Two probe rows: "Light-CNN (raw profiles)", the unmirrored profile as recorded (the paper's
    baseline runs Light-CNN on the raw images), and "TP-GAN (ours)", G's img128 clipped to
    [0, 1]. G is fed the pipeline's mirrored-to-positive-yaw input (spec 1.1), so its output
    for a negative yaw is a mirrored frontal; it is flipped back before matching against the
    (unmirrored) gallery.
  * Image quality per pose: mean L1, PSNR and SSIM (data range 1) of the frontal against the
    frontal ground truth, and of the trivial baseline (the profile itself against the ground
    truth). All comparisons are in the unmirrored frame (the metrics are flip-invariant).
  * Determinism: shards are read in sorted order, one after the other; z is drawn from a
    stateless generator seeded by (z_seed, batch index); the last partial batch is padded by
    repeating its examples so every G call sees a full batch (with bn_mode="batch_stats", the
    faithful default, G normalises with the statistics of the batch it is given, spec 2.1).
"""
from __future__ import annotations

import dataclasses
import html
import json
import math
import os
import time
from typing import Callable, Iterable, Sequence

import cv2
import numpy as np
import tensorflow as tf

from tpgan_tf import metrics
from tpgan_tf.generator import input_shapes
from tpgan_tf.image_ops import to_gray
from tpgan_tf.input_pipeline import list_shards, parse_pair, to_training_batch
from tpgan_tf.parts import IMAGE_SIZE, PART_NAMES

FRONTAL_ILLUMINATION = 7  # flash 07: frontal light (spec 6.3 "frontal/neutral illumination")
TABLE_POSES = (90, 75, 60, 45, 30, 15)  # Table 1 column order (spec 7.2)
ALL_POSES = (0, 15, 30, 45, 60, 75, 90)
METHOD_PROFILE = "profile"  # raw profiles through Light-CNN (the baseline row)
METHOD_TPGAN = "tpgan"  # our synthesised frontals
METHOD_LABELS = {METHOD_PROFILE: "Light-CNN (raw profiles)", METHOD_TPGAN: "TP-GAN (ours)"}
# Spec 7.2, Setting 2, rank-1 % at +-90..+-15: RECALLED, NOT VERIFIED against the PDF.
PAPER_SETTING2 = {
    "Light-CNN (raw profiles), paper": (5.51, 24.18, 62.09, 92.13, 97.38, 98.59),
    "TP-GAN, paper": (64.03, 84.10, 92.93, 98.58, 99.85, 99.78),
}
PAPER_NOTE = ("Paper rows: TP-GAN Table 1, Multi-PIE Setting 2, as recalled in spec 7.2 - "
              "recalled, not verified against the PDF; a different data set and identity "
              "network than ours, shown for reference only.")
_META_SPEC = {
    "session": tf.io.FixedLenFeature([], tf.int64),
    "recording": tf.io.FixedLenFeature([], tf.int64),
    "illumination": tf.io.FixedLenFeature([], tf.int64),
    "profile/path": tf.io.FixedLenFeature([], tf.string),
    "frontal/path": tf.io.FixedLenFeature([], tf.string),
}


# ============================================================================ protocol

@dataclasses.dataclass(frozen=True)
class PairRecord:
    """The identity of one test pair (profile + its frontal ground truth, spec 6.2)."""

    subject: int
    session: int
    recording: int
    illumination: int
    yaw: int  # signed, degrees
    profile_path: str = ""
    frontal_path: str = ""

    @property
    def frontal_key(self) -> tuple[int, int, int, int]:
        """(subject, session, recording, illumination): which frontal image is the GT."""
        return (self.subject, self.session, self.recording, self.illumination)


@dataclasses.dataclass(frozen=True)
class GalleryEntry:
    """The gallery frontal of one subject."""

    subject: int
    session: int
    recording: int
    illumination: int
    path: str = ""

    @property
    def frontal_key(self) -> tuple[int, int, int, int]:
        return (self.subject, self.session, self.recording, self.illumination)


def gallery_sort_key(record: PairRecord) -> tuple:
    """Smaller = better gallery candidate: first session, first recording, then flash 07,
    then the lowest illumination (the path only breaks exact ties deterministically)."""
    return (record.session, record.recording, record.illumination != FRONTAL_ILLUMINATION,
            record.illumination, record.frontal_path)


def _entry(record: PairRecord) -> GalleryEntry:
    return GalleryEntry(record.subject, record.session, record.recording, record.illumination,
                        record.frontal_path)


def select_gallery(records: Iterable[PairRecord]) -> dict[int, GalleryEntry]:
    """One gallery frontal per subject: the frontal GT of the record with the smallest
    `gallery_sort_key`. Returns {subject: GalleryEntry}, sorted by subject."""
    best: dict[int, PairRecord] = {}
    for r in records:
        if r.subject not in best or gallery_sort_key(r) < gallery_sort_key(best[r.subject]):
            best[r.subject] = r
    return {s: _entry(best[s]) for s in sorted(best)}


def is_gallery_image(record: PairRecord, gallery: dict[int, GalleryEntry]) -> bool:
    """True for the 0-degree pair whose profile is the subject's gallery frontal itself."""
    entry = gallery.get(record.subject)
    return entry is not None and record.yaw == 0 and record.frontal_key == entry.frontal_key


def probe_mask(records: Sequence[PairRecord], gallery: dict[int, GalleryEntry]) -> np.ndarray:
    """[N] bool: which records are probes (all but the gallery images themselves)."""
    return np.array([not is_gallery_image(r, gallery) for r in records], dtype=bool)


# ============================================================================ data

def _parse_with_metadata(serialized: tf.Tensor) -> dict:
    """parse_pair (mirrored to positive yaw, spec 1.1) plus the fields the protocol needs."""
    out = parse_pair(serialized, mirror_to_one_side=True)
    meta = tf.io.parse_single_example(serialized, _META_SPEC)
    out["session"] = tf.cast(meta["session"], tf.int32)
    out["recording"] = tf.cast(meta["recording"], tf.int32)
    out["illumination"] = tf.cast(meta["illumination"], tf.int32)
    out["profile_path"] = meta["profile/path"]
    out["frontal_path"] = meta["frontal/path"]
    return out


def eval_dataset(file_pattern: str, batch_size: int, max_examples: int = 0) -> tf.data.Dataset:
    """Test batches in a fixed order: the sorted shards read one after the other.

    Each batch is the training dict of input_pipeline (image / patches / frontal in [0, 1),
    mirrored to positive yaw; label; signed yaw) plus session, recording, illumination,
    profile_path and frontal_path. The last batch may be smaller. max_examples > 0 keeps the
    first max_examples pairs only.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    ds = tf.data.TFRecordDataset(list_shards(file_pattern))
    if max_examples > 0:
        ds = ds.take(max_examples)
    ds = ds.map(_parse_with_metadata, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size).map(to_training_batch, num_parallel_calls=tf.data.AUTOTUNE,
                                  deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# ============================================================================ evaluation loop

@dataclasses.dataclass
class EvalData:
    """Everything the evaluation pass collects (N test pairs, G gallery subjects)."""

    records: list[PairRecord]
    features: dict[str, np.ndarray]  # method -> [N, D] Light-CNN features of the probes
    quality: dict[str, dict[str, np.ndarray]]  # metric -> method -> [N]
    gallery: dict[int, GalleryEntry]
    gallery_features: np.ndarray  # [G, D], rows in gallery (subject) order
    samples: dict[int, list[dict]]  # |yaw| -> [{"input", "output", "target": uint8, caption}]
    seconds: float = 0.0


class _SampleKeeper:
    """A few (input, output, ground truth) triples per |yaw| for the picture sheets: the first
    examples in data order, one per subject first, then repeats if there are too few subjects."""

    def __init__(self, per_pose: int):
        self.per_pose = per_pose
        self.first: dict[int, list[dict]] = {}
        self.spare: dict[int, list[dict]] = {}

    def offer(self, record: PairRecord, images: Callable[[], dict]) -> None:
        pose = abs(record.yaw)
        first = self.first.setdefault(pose, [])
        if len(first) >= self.per_pose:
            return
        spare = self.spare.setdefault(pose, [])
        seen = {s["record"].subject for s in first}
        if record.subject not in seen:
            first.append({"record": record, **images()})
        elif len(spare) < self.per_pose:
            spare.append({"record": record, **images()})

    def result(self) -> dict[int, list[dict]]:
        return {p: (self.first[p] + self.spare.get(p, []))[:self.per_pose]
                for p in sorted(self.first)}


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """[H, W, 3] float in [0, 1] -> uint8 (x 256 floored, the inverse of the pipeline's / 256)."""
    return np.clip(np.floor(image * 256.0), 0, 255).astype(np.uint8)


def make_step(generator, lightcnn, batch_size: int, z_dim: int) -> Callable:
    """The batched tf.function of the loop (fixed shapes: traced once).

    step(inputs, frontal [B,128,128,3], yaw [B], z [B, z_dim]) -> dict of
        output, profile, target [B,128,128,3]  G's img128 clipped to [0, 1], the profile and
                                               the GT, all flipped back for negative yaws
        feat_profile, feat_output [B, D]       Light-CNN features of profile / output
    """
    image_spec = tf.TensorSpec([batch_size, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32)
    shapes = input_shapes(batch_size, z_dim)
    input_spec = {k: tf.TensorSpec(shapes[k], tf.float32) for k in ("image", *PART_NAMES)}

    @tf.function(input_signature=[input_spec, image_spec, tf.TensorSpec([batch_size], tf.int32),
                                  tf.TensorSpec([batch_size, z_dim], tf.float32)])
    def step(inputs, frontal, yaw, z):
        out = generator({**inputs, "z": z}, training=False)["img128"]
        # Brief / spec 1.1: tanh head, targets in [0, 1): clip rather than rescale.
        out = tf.clip_by_value(out, 0.0, 1.0)
        flip = (yaw < 0)[:, None, None, None]

        def unmirror(x):
            return tf.where(flip, tf.reverse(x, axis=[2]), x)

        out, profile, target = unmirror(out), unmirror(inputs["image"]), unmirror(frontal)
        _, feats = lightcnn(to_gray(tf.concat([profile, out], axis=0)), training=False)
        feat_profile, feat_output = tf.split(feats, 2, axis=0)
        return {"output": out, "profile": profile, "target": target,
                "feat_profile": feat_profile, "feat_output": feat_output}

    return step


def lightcnn_features(lightcnn, images: np.ndarray, batch_size: int) -> np.ndarray:
    """[N, 128, 128, 3] RGB in [0, 1] -> [N, D] Light-CNN features of their gray (mean of RGB)."""

    @tf.function(input_signature=[tf.TensorSpec([batch_size, IMAGE_SIZE, IMAGE_SIZE, 3],
                                                tf.float32)])
    def features(x):
        return lightcnn(to_gray(x), training=False)[1]

    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start:start + batch_size]
        n = len(chunk)
        padded = np.concatenate([chunk, np.zeros((batch_size - n, *chunk.shape[1:]),
                                                 chunk.dtype)]) if n < batch_size else chunk
        out.append(features(tf.constant(padded, tf.float32)).numpy()[:n])
    return np.concatenate(out) if out else np.zeros([0, 0], np.float32)


def _pad_to(batch: dict, keys: Iterable[str], size: int) -> dict:
    """Repeats the examples of a partial batch cyclically up to `size` (keeps BN batch
    statistics meaningful for the last batch, and the tf.function shapes fixed)."""
    n = int(batch["yaw"].shape[0])
    index = tf.range(size) % n
    return {k: tf.gather(batch[k], index) for k in keys}


def _records_of(batch: dict) -> list[PairRecord]:
    cols = {k: batch[k].numpy() for k in ("label", "session", "recording", "illumination",
                                          "yaw", "profile_path", "frontal_path")}
    return [PairRecord(int(cols["label"][i]), int(cols["session"][i]), int(cols["recording"][i]),
                       int(cols["illumination"][i]), int(cols["yaw"][i]),
                       cols["profile_path"][i].decode(), cols["frontal_path"][i].decode())
            for i in range(len(cols["label"]))]


def run_protocol(file_pattern: str, generator, lightcnn, *, batch_size: int = 16,
                 z_dim: int = 100, z_stddev: float = 0.02, z_seed: int = 2017,
                 max_examples: int = 0, sheet_rows: int = 6,
                 progress: Callable[[int], None] | None = None) -> EvalData:
    """One pass over the test shards: G + Light-CNN per batch, quality metrics per pair, and
    the gallery frontals (chosen online with `gallery_sort_key`, so no second pass).

    generator: the TP-GAN Generator (dict in -> dict with img128); lightcnn: the model of
    lightcnn.build_lightcnn (gray -> (pool4, feature)). progress(n) is called with the number of
    pairs done after each batch.
    """
    start = time.time()
    step = make_step(generator, lightcnn, batch_size, z_dim)
    keys = ("image", *PART_NAMES, "frontal", "yaw")
    records: list[PairRecord] = []
    feats = {METHOD_PROFILE: [], METHOD_TPGAN: []}
    quality = {m: {METHOD_PROFILE: [], METHOD_TPGAN: []} for m in ("l1", "psnr", "ssim")}
    best: dict[int, tuple[tuple, np.ndarray]] = {}  # subject -> (sort key, unmirrored frontal)
    keeper = _SampleKeeper(sheet_rows)
    for index, batch in enumerate(eval_dataset(file_pattern, batch_size, max_examples)):
        batch_records = _records_of(batch)
        n = len(batch_records)
        padded = _pad_to(batch, keys, batch_size)
        z = tf.random.stateless_normal([batch_size, z_dim], seed=[z_seed, index],
                                       stddev=z_stddev)
        out = step({k: padded[k] for k in ("image", *PART_NAMES)}, padded["frontal"],
                   padded["yaw"], z)
        out = {k: v.numpy()[:n] for k, v in out.items()}
        feats[METHOD_PROFILE].append(out["feat_profile"])
        feats[METHOD_TPGAN].append(out["feat_output"])
        for method, image in ((METHOD_PROFILE, out["profile"]), (METHOD_TPGAN, out["output"])):
            quality["l1"][method].append(metrics.l1_per_image(image, out["target"]))
            quality["psnr"][method].append(metrics.psnr(image, out["target"], 1.0))
            quality["ssim"][method].append(metrics.ssim(image, out["target"], 1.0))
        for i, r in enumerate(batch_records):
            key = gallery_sort_key(r)
            if r.subject not in best or key < best[r.subject][0]:
                best[r.subject] = (key, out["target"][i].copy())
            keeper.offer(r, lambda i=i: {name: _to_uint8(out[src][i]) for name, src in (
                ("input", "profile"), ("output", "output"), ("target", "target"))})
        records.extend(batch_records)
        if progress is not None:
            progress(len(records))
    if not records:
        raise ValueError(f"{file_pattern}: the shards hold no test pairs")
    gallery = select_gallery(records)
    # The online choice and select_gallery use the same key: they must agree.
    assert sorted(gallery) == sorted(best)
    gallery_images = np.stack([best[s][1] for s in gallery])
    return EvalData(
        records=records,
        features={m: np.concatenate(v) for m, v in feats.items()},
        quality={q: {m: np.concatenate(v) for m, v in d.items()} for q, d in quality.items()},
        gallery=gallery,
        gallery_features=lightcnn_features(lightcnn, gallery_images, batch_size),
        samples=keeper.result(),
        seconds=time.time() - start)


def summarise(data: EvalData) -> dict:
    """EvalData -> the results dict written to results.json (all numbers, counts per pose).

    results["poses"][str(|yaw|)] = {pairs, probes, gallery_images_excluded,
        rank1_percent: {profile, tpgan}, l1 / psnr / ssim: {profile, tpgan}}
    rank-1 is over the probes; the quality metrics are over every pair of that pose.
    """
    records = data.records
    yaw = np.array([r.yaw for r in records])
    labels = np.array([r.subject for r in records])
    mask = probe_mask(records, data.gallery)
    gallery_labels = np.array(list(data.gallery))
    correct = {}
    overall = {}
    for method, feats in data.features.items():
        acc, ok = metrics.rank1_identification(feats[mask], labels[mask], data.gallery_features,
                                               gallery_labels)
        correct[method] = metrics.mean_by_abs_yaw(yaw[mask], ok)
        overall[method] = 100.0 * acc
    poses = {}
    for pose, group in metrics.mean_by_abs_yaw(yaw, np.ones(len(yaw))).items():
        at_pose = np.abs(yaw) == pose
        entry = {"pairs": group["count"], "probes": int(np.sum(mask & at_pose)),
                 "gallery_images_excluded": int(np.sum(~mask & at_pose)),
                 "rank1_percent": {m: (100.0 * correct[m][pose]["mean"]
                                       if pose in correct[m] else float("nan"))
                                   for m in data.features}}
        for q, by_method in data.quality.items():
            entry[q] = {m: metrics.mean_by_abs_yaw(yaw, v)[pose]["mean"]
                        for m, v in by_method.items()}
        poses[str(pose)] = entry
    return {
        "protocol": {
            "split": "test",
            "gallery_rule": "one frontal (camera 05_1) per test subject: lowest session, then "
                            "recording, then illumination 07 if present, else the lowest "
                            "illumination",
            "probes": "every test pair's profile, both yaw signs pooled per |yaw|, all "
                      "illuminations; the gallery image itself is excluded",
            "features": "Light-CNN-29 256-d fc of gray (mean of RGB) 128x128 in [0, 1], "
                        "cosine similarity, rank-1; ties go to the lower subject id",
            "baseline": "Light-CNN on the raw (unmirrored) profile",
            "ours": "TP-GAN img128 clipped to [0, 1], flipped back for negative yaws",
            "quality": "mean per-image L1, PSNR (dB, data range 1) and SSIM (Gaussian 11x11, "
                       "sigma 1.5, per RGB channel averaged) against the frontal GT",
        },
        "subjects": len(data.gallery),
        "pairs": len(records),
        "probes": int(mask.sum()),
        "gallery": [dataclasses.asdict(e) for e in data.gallery.values()],
        "rank1_percent_all_probes": overall,
        "poses": poses,
        "seconds": round(data.seconds, 2),
    }


# ============================================================================ report

def _jsonable(obj):
    """Non-finite floats -> "inf" / "-inf" / None, so results.json is strict JSON."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_json(results: dict, path: str) -> None:
    with open(path, "w") as f:
        json.dump(_jsonable(results), f, indent=1, sort_keys=True, allow_nan=False)
        f.write("\n")


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{value:.{digits}f}"


def _pose_value(results: dict, pose: int, *path: str):
    entry = results["poses"].get(str(pose))
    for p in path:
        if entry is None:
            return None
        entry = entry.get(p)
    return entry


def _pose_label(pose: int) -> str:
    """0 -> "0°", 15 -> "±15°" (no "|": it would split a Markdown table cell)."""
    return f"±{pose}°" if pose else "0°"


def rank1_table(results: dict, include_paper: bool = True) -> tuple[list[str], list[list[str]]]:
    """(header, rows) in the layout of the paper's Table 1: one row per method, columns
    +-90 ... +-15, rank-1 %; a pose absent from the data shows "–"."""
    header = ["Method"] + [_pose_label(p) for p in TABLE_POSES]
    rows = [[label] + [_fmt(_pose_value(results, p, "rank1_percent", method))
                       for p in TABLE_POSES] for method, label in METHOD_LABELS.items()]
    if include_paper:
        rows += [[f"{name} (recalled, unverified)"] + [_fmt(v) for v in values]
                 for name, values in PAPER_SETTING2.items()]
    return header, rows


def sanity_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the 0-degree sanity row and the per-pose probe counts."""
    poses = [p for p in ALL_POSES if str(p) in results["poses"]]
    header = ["Pose"] + [_pose_label(p) for p in poses]
    rows = [["pairs"] + [str(_pose_value(results, p, "pairs")) for p in poses],
            ["probes"] + [str(_pose_value(results, p, "probes")) for p in poses]]
    rows += [[f"rank-1 % {label}"] + [_fmt(_pose_value(results, p, "rank1_percent", m))
                                      for p in poses] for m, label in METHOD_LABELS.items()]
    return header, rows


def quality_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows): per |yaw| the mean L1 / PSNR / SSIM of our frontal and of the profile."""
    header = ["Pose", "pairs", "L1 TP-GAN", "L1 profile", "PSNR TP-GAN (dB)",
              "PSNR profile (dB)", "SSIM TP-GAN", "SSIM profile"]
    rows = []
    for p in ALL_POSES:
        if str(p) not in results["poses"]:
            continue
        row = [_pose_label(p), str(_pose_value(results, p, "pairs"))]
        for q, digits in (("l1", 4), ("psnr", 2), ("ssim", 4)):
            row += [_fmt(_pose_value(results, p, q, m), digits)
                    for m in (METHOD_TPGAN, METHOD_PROFILE)]
        rows.append(row)
    return header, rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def results_markdown(results: dict) -> str:
    """results.md: Table 1 layout (rank-1 %), the sanity/count table, the quality table."""
    info = results.get("run", {})
    parts = ["# TP-GAN evaluation (spec 7.1 protocol)", "",
             f"{results['subjects']} test subjects (gallery: one frontal each), "
             f"{results['probes']} probes out of {results['pairs']} test pairs."]
    if info:
        parts += [""] + [f"- {k}: `{v}`" for k, v in info.items()]
    parts += ["", "## Rank-1 identification (%), Table 1 layout", "",
              markdown_table(*rank1_table(results)), "", PAPER_NOTE, "",
              "## Counts and the 0° sanity row", "", markdown_table(*sanity_table(results)), "",
              "## Image quality against the frontal ground truth", "",
              markdown_table(*quality_table(results)), "",
              "L1: mean absolute error per pixel in [0, 1]; PSNR: data range 1 (∞ = identical); "
              "SSIM: Gaussian 11x11, sigma 1.5, per RGB channel averaged. \"profile\" is the "
              "trivial baseline: the input profile itself against the ground truth.", ""]
    return "\n".join(parts)


# ---------------------------------------------------------------------------- pictures

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_METHOD_COLOURS = {METHOD_PROFILE: (200, 110, 30), METHOD_TPGAN: (40, 40, 210)}  # BGR
_PAPER_COLOURS = ((235, 180, 130), (150, 150, 245))


def _text(img, text, org, scale=0.45, colour=(20, 20, 20), thickness=1):
    cv2.putText(img, text, org, _FONT, scale, colour, thickness, cv2.LINE_AA)


def _write_png(path: str, image_bgr: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", image_bgr)
    if not ok:
        raise RuntimeError(f"{path}: PNG encoding failed")
    with open(path, "wb") as f:
        f.write(data.tobytes())


def plot_rank1_vs_yaw(results: dict, path: str, width: int = 960, height: int = 480) -> None:
    """rank1_vs_yaw.png: rank-1 % against |yaw| for both methods (solid) and the paper's
    recalled Setting-2 rows (light, dashed). Drawn with OpenCV (no matplotlib dependency)."""
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, 330, 40, 60
    x0, x1, y0, y1 = left, width - right, height - bottom, top

    def xy(pose, value):
        return (int(round(x0 + (x1 - x0) * pose / 90.0)),
                int(round(y0 + (y1 - y0) * value / 100.0)))

    for v in range(0, 101, 20):
        _, y = xy(0, v)
        cv2.line(img, (x0, y), (x1, y), (225, 225, 225), 1)
        _text(img, f"{v}", (x0 - 36, y + 5))
    for p in ALL_POSES:
        x, _ = xy(p, 0)
        cv2.line(img, (x, y0), (x, y1), (235, 235, 235), 1)
        _text(img, f"{p}", (x - 8, y0 + 20))
    cv2.rectangle(img, (x0, y1), (x1, y0), (60, 60, 60), 1)
    _text(img, "|yaw| (degrees)", ((x0 + x1) // 2 - 55, height - 15), 0.5)
    _text(img, "rank-1 (%)", (10, top - 15), 0.5)
    _text(img, "Rank-1 identification vs pose", (x0 + 120, top - 15), 0.55)

    legend = []
    for (name, values), colour in zip(PAPER_SETTING2.items(), _PAPER_COLOURS):
        pts = [xy(p, v) for p, v in zip(TABLE_POSES, values)]
        for a, b in zip(pts, pts[1:]):  # dashed: draw every other tenth of each segment
            for t in range(0, 10, 2):
                pa = (a[0] + (b[0] - a[0]) * t // 10, a[1] + (b[1] - a[1]) * t // 10)
                pb = (a[0] + (b[0] - a[0]) * (t + 1) // 10, a[1] + (b[1] - a[1]) * (t + 1) // 10)
                cv2.line(img, pa, pb, colour, 2, cv2.LINE_AA)
        for pt in pts:
            cv2.circle(img, pt, 4, colour, 1, cv2.LINE_AA)
        legend.append((f"{name} (recalled)", colour, False))
    for method, label in METHOD_LABELS.items():
        colour = _METHOD_COLOURS[method]
        pts = [xy(p, _pose_value(results, p, "rank1_percent", method)) for p in ALL_POSES
               if _pose_value(results, p, "rank1_percent", method) is not None
               and not math.isnan(_pose_value(results, p, "rank1_percent", method))]
        for a, b in zip(pts, pts[1:]):
            cv2.line(img, a, b, colour, 2, cv2.LINE_AA)
        for pt in pts:
            cv2.circle(img, pt, 5, colour, -1, cv2.LINE_AA)
        legend.append((label, colour, True))
    for i, (label, colour, filled) in enumerate(legend):
        y = top + 20 + 26 * i
        cv2.line(img, (x1 + 15, y), (x1 + 40, y), colour, 2, cv2.LINE_AA)
        cv2.circle(img, (x1 + 27, y), 4, colour, -1 if filled else 1, cv2.LINE_AA)
        _text(img, label[:40], (x1 + 48, y + 5), 0.4)
    _write_png(path, img)


def picture_sheet(samples: Sequence[dict], path: str, title: str) -> None:
    """A sheet of rows input | output | ground truth (128 px each, RGB uint8 in `samples`),
    a caption above each row (subject, signed yaw, illumination) and column titles."""
    pad, caption, header = 6, 18, 40
    size = IMAGE_SIZE
    width = 3 * size + 4 * pad
    height = header + len(samples) * (caption + size + pad) + pad
    sheet = np.full((height, width, 3), 255, np.uint8)
    _text(sheet, title, (pad, 16), 0.5)
    for c, name in enumerate(("input", "TP-GAN", "ground truth")):
        _text(sheet, name, (pad + c * (size + pad) + 30, header - 6), 0.45)
    for r, s in enumerate(samples):
        y = header + r * (caption + size + pad)
        rec = s["record"]
        _text(sheet, f"subject {rec.subject} yaw {rec.yaw:+d} illum {rec.illumination:02d}",
              (pad, y + caption - 5), 0.4, (90, 90, 90))
        for c, key in enumerate(("input", "output", "target")):
            x = pad + c * (size + pad)
            sheet[y + caption:y + caption + size, x:x + size] = s[key][:, :, ::-1]  # RGB->BGR
    _write_png(path, sheet)


def sheet_name(pose: int) -> str:
    return f"sheets/yaw_{pose:02d}.png"


def results_html(results: dict, sheets: dict[int, str]) -> str:
    """index.html: the tables, the plot and the picture sheets."""
    info = results.get("run", {})
    items = "".join(f"<li>{html.escape(str(k))}: <code>{html.escape(str(v))}</code></li>"
                    for k, v in info.items())
    sheet_html = "".join(
        f"<figure><img src='{html.escape(rel)}' alt='yaw {p}'><figcaption>|yaw| = {p}°"
        f"</figcaption></figure>" for p, rel in sorted(sheets.items()))
    protocol = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>"
                       for k, v in results["protocol"].items())
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>TP-GAN evaluation</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: 4px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }}
.note {{ color: #555; font-size: 90%; }}
</style></head><body>
<h1>TP-GAN evaluation (spec 7.1 protocol)</h1>
<p>{results['subjects']} test subjects (gallery: one frontal each), {results['probes']} probes
out of {results['pairs']} test pairs.</p>
<ul>{items}</ul>
<h2>Rank-1 identification (%), Table 1 layout</h2>
{html_table(*rank1_table(results))}
<p class="note">{html.escape(PAPER_NOTE)}</p>
<img src="rank1_vs_yaw.png" alt="rank-1 against yaw">
<h2>Counts and the 0° sanity row</h2>
{html_table(*sanity_table(results))}
<h2>Image quality against the frontal ground truth</h2>
{html_table(*quality_table(results))}
<p class="note">L1: mean absolute error per pixel in [0, 1]; PSNR: data range 1 (∞ = identical);
SSIM: Gaussian 11x11, sigma 1.5, per RGB channel averaged. "profile": the input profile itself
against the ground truth (trivial baseline).</p>
<h2>Pictures: input | TP-GAN | ground truth</h2>
{sheet_html}
<h2>Protocol</h2>
<ul>{protocol}</ul>
<p>All numbers: <a href="results.json">results.json</a>; tables: <a href="results.md">results.md</a>.</p>
</body></html>
"""


def write_report(output_dir: str, results: dict, samples: dict[int, list[dict]]) -> str:
    """Writes results.json, results.md, rank1_vs_yaw.png, sheets/yaw_XX.png and index.html
    into output_dir; returns the path of index.html (the results page)."""
    os.makedirs(os.path.join(output_dir, "sheets"), exist_ok=True)
    write_json(results, os.path.join(output_dir, "results.json"))
    with open(os.path.join(output_dir, "results.md"), "w") as f:
        f.write(results_markdown(results))
    plot_rank1_vs_yaw(results, os.path.join(output_dir, "rank1_vs_yaw.png"))
    sheets = {}
    for pose, rows in samples.items():
        rel = sheet_name(pose)
        picture_sheet(rows, os.path.join(output_dir, rel),
                      f"|yaw| = {pose} deg: input | TP-GAN | ground truth")
        sheets[pose] = rel
    page = os.path.join(output_dir, "index.html")
    with open(page, "w") as f:
        f.write(results_html(results, sheets))
    return page
