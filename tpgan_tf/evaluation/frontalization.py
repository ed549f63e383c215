"""The frontalization protocol of tpgan spec 7.1 for any model that synthesises frontal faces
from Multi-PIE pairs (TP-GAN, DR-GAN's frontal synthesis): rank-1 per |yaw| with the frozen
Light-CNN, and image quality against the frontal ground truth.

A model's evaluation feeds batches to a `FrontalizationRun`: for every test pair its record,
the raw profile, the model's frontal and the ground-truth frontal, all RGB float in [0, 1],
128 x 128, UNmirrored (the frame the camera saw). The run extracts the Light-CNN 256-d
features (tpgan spec 4.4: gray = mean of RGB, 128 x 128 in [0, 1]) of the profile (the
"Light-CNN (raw profiles)" baseline row) and of the frontal, the per-pair L1 / PSNR / SSIM
(data range 1) and the mean colour error of the face region (faces.alignment.face_region:
does the frontal keep the subject's skin tone?) of both against the ground truth, the gallery
frontals (recognition.py) and a
few pictures per pose; `summarise` turns it into results.json's dict.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Sequence

import numpy as np
import tensorflow as tf

from tpgan_tf.evaluation import metrics, recognition, report
from tpgan_tf.evaluation.recognition import ALL_POSES, TABLE_POSES, FaceRecord
from tpgan_tf.faces.alignment import face_region
from tpgan_tf.faces.image_ops import to_gray

METHOD_PROFILE = "profile"  # raw profiles through Light-CNN (the baseline row)
PROFILE_LABEL = "Light-CNN (raw profiles)"
QUALITY = ("l1", "psnr", "ssim", "colour")
FACE_ROWS, FACE_COLS = face_region()
# The face region in words (0-based, inclusive), for the protocol text and the report's note.
FACE_REGION_TEXT = (f"rows {FACE_ROWS.start}-{FACE_ROWS.stop - 1}, columns "
                    f"{FACE_COLS.start}-{FACE_COLS.stop - 1} of the crop")


class SampleKeeper:
    """A few examples per group (|yaw|) for the picture sheets: the first examples in data
    order, one per subject first, then repeats if there are too few subjects."""

    def __init__(self, per_group: int):
        self.per_group = per_group
        self.first: dict[int, list[dict]] = {}
        self.spare: dict[int, list[dict]] = {}

    def offer(self, group: int, subject: int, make) -> None:
        """make() -> the sample dict; called only when the sample is kept."""
        first = self.first.setdefault(group, [])
        if len(first) >= self.per_group:
            return
        spare = self.spare.setdefault(group, [])
        if subject not in {s["subject"] for s in first}:
            first.append({"subject": subject, **make()})
        elif len(spare) < self.per_group:
            spare.append({"subject": subject, **make()})

    def result(self) -> dict[int, list[dict]]:
        return {g: (self.first[g] + self.spare.get(g, []))[:self.per_group]
                for g in sorted(self.first)}


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8 (x 256 floored, the inverse of uint8 / 256)."""
    return np.clip(np.floor(image * 256.0), 0, 255).astype(np.uint8)


def lightcnn_feature_fn(lightcnn, batch_size: int):
    """A traced function RGB [batch_size, 128, 128, 3] in [0, 1] -> Light-CNN features."""
    @tf.function(input_signature=[tf.TensorSpec([batch_size, 128, 128, 3], tf.float32)])
    def features(x):
        return lightcnn(to_gray(x), training=False)[1]
    return features


def features_of(fn, images: np.ndarray, batch_size: int) -> np.ndarray:
    """[N, 128, 128, 3] -> [N, D] with `fn` of fixed batch size (the last chunk zero-padded)."""
    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start:start + batch_size]
        n = len(chunk)
        if n < batch_size:
            chunk = np.concatenate([chunk, np.zeros((batch_size - n, *chunk.shape[1:]),
                                                    chunk.dtype)])
        out.append(fn(tf.constant(chunk, tf.float32)).numpy()[:n])
    return np.concatenate(out) if out else np.zeros([0, 0], np.float32)


@dataclasses.dataclass
class EvalData:
    """Everything a run collects (N test pairs, G gallery subjects)."""

    records: list[FaceRecord]
    features: dict[str, np.ndarray]  # method -> [N, D] Light-CNN features of the probes
    quality: dict[str, dict[str, np.ndarray]]  # metric -> method -> [N]
    gallery: dict[int, recognition.GalleryEntry]
    gallery_features: np.ndarray  # [G, D], rows in gallery (subject) order
    samples: dict[int, list[dict]]  # |yaw| -> [{"input", "output", "target": uint8, ...}]
    seconds: float = 0.0


class FrontalizationRun:
    """Accumulates test batches of one model (method name `method`, e.g. "tpgan").

    lightcnn None: image quality only (no features, no rank-1)."""

    def __init__(self, lightcnn, method: str, batch_size: int, sheet_rows: int = 6):
        self.method = method
        self.batch_size = batch_size
        self._features = (lightcnn_feature_fn(lightcnn, batch_size) if lightcnn is not None
                          else None)
        self.records: list[FaceRecord] = []
        self.feats = {METHOD_PROFILE: [], method: []}
        self.quality = {q: {METHOD_PROFILE: [], method: []} for q in QUALITY}
        self.best: dict[int, tuple[tuple, np.ndarray]] = {}  # subject -> (key, frontal GT)
        self.keeper = SampleKeeper(sheet_rows)
        self.start = time.time()

    def add(self, records: Sequence[FaceRecord], profile: np.ndarray, output: np.ndarray,
            target: np.ndarray) -> None:
        """One batch: n records and their [n, 128, 128, 3] images in [0, 1], unmirrored."""
        n = len(records)
        if not (len(profile) == len(output) == len(target) == n):
            raise ValueError("records and images of a batch differ in length")
        output = np.clip(output, 0.0, 1.0)  # tanh heads, targets in [0, 1): clip, not rescale
        if self._features is not None:
            feats = features_of(self._features, np.concatenate([profile, output]),
                                self.batch_size)
            self.feats[METHOD_PROFILE].append(feats[:n])
            self.feats[self.method].append(feats[n:])
        for method, image in ((METHOD_PROFILE, profile), (self.method, output)):
            self.quality["l1"][method].append(metrics.l1_per_image(image, target))
            self.quality["psnr"][method].append(metrics.psnr(image, target, 1.0))
            self.quality["ssim"][method].append(metrics.ssim(image, target, 1.0))
            self.quality["colour"][method].append(
                metrics.region_colour_error(image, target, FACE_ROWS, FACE_COLS))
        for i, r in enumerate(records):
            key = recognition.gallery_sort_key(r)
            if r.subject not in self.best or key < self.best[r.subject][0]:
                self.best[r.subject] = (key, target[i].copy())
            self.keeper.offer(abs(r.yaw), r.subject, lambda i=i, r=r: {
                "record": r, "input": to_uint8(profile[i]), "output": to_uint8(output[i]),
                "target": to_uint8(target[i])})
        self.records.extend(records)

    def finish(self) -> EvalData:
        if not self.records:
            raise ValueError("the test shards hold no pairs")
        gallery = recognition.select_gallery(self.records)
        # The online choice and select_gallery use the same key: they must agree.
        assert sorted(gallery) == sorted(self.best)
        gallery_images = np.stack([self.best[s][1] for s in gallery])
        have = self._features is not None
        return EvalData(
            records=self.records,
            features={m: np.concatenate(v) for m, v in self.feats.items()} if have else {},
            quality={q: {m: np.concatenate(v) for m, v in d.items()}
                     for q, d in self.quality.items()},
            gallery=gallery,
            gallery_features=(features_of(self._features, gallery_images, self.batch_size)
                              if have else np.zeros([0, 0], np.float32)),
            samples=self.keeper.result(), seconds=time.time() - self.start)


def summarise(data: EvalData, method: str, method_label: str) -> dict:
    """EvalData -> the results dict written to results.json.

    results["poses"][str(|yaw|)] = {pairs, probes, gallery_images_excluded,
        rank1_percent: {profile, <method>}, l1 / psnr / ssim / colour: {profile, <method>}}
    rank-1 is over the probes; the quality metrics are over every pair of that pose.
    """
    records = data.records
    yaw = np.array([r.yaw for r in records])
    ranks = recognition.rank1_by_pose(data.features, records, data.gallery,
                                      {"*": data.gallery_features})
    poses = {}
    for pose, group in metrics.mean_by_abs_yaw(yaw, np.ones(len(yaw))).items():
        at_pose = ranks["poses"][pose]
        entry = {"pairs": group["count"], "probes": at_pose["probes"],
                 "gallery_images_excluded": group["count"] - at_pose["probes"],
                 "rank1_percent": at_pose["rank1_percent"]}
        for q, by_method in data.quality.items():
            entry[q] = {m: metrics.mean_by_abs_yaw(yaw, v)[pose]["mean"]
                        for m, v in by_method.items()}
        poses[str(pose)] = entry
    return {
        "kind": "frontalization", "method": method, "method_label": method_label,
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
            "ours": f"{method_label}: the frontal synthesis clipped to [0, 1], unmirrored",
            "quality": "mean per-image L1, PSNR (dB, data range 1), SSIM (Gaussian 11x11, "
                       "sigma 1.5, per RGB channel averaged) and face colour error (mean over "
                       f"RGB of |mean colour of the face region - the GT's|, {FACE_REGION_TEXT}) "
                       "against the frontal GT",
        },
        "subjects": len(data.gallery), "pairs": len(records), "probes": ranks["probes"],
        "gallery": [dataclasses.asdict(e) for e in data.gallery.values()],
        "rank1_percent_all_probes": ranks["overall"],
        "poses": poses, "seconds": round(data.seconds, 2),
    }


def pose_value(results: dict, pose: int, *path: str):
    entry = results["poses"].get(str(pose))
    for p in path:
        if entry is None:
            return None
        entry = entry.get(p)
    return entry


def rank1_rows(results: dict, include_profile: bool = True) -> list[list[str]]:
    """Rows of the rank-1 table (Table 1 layout, TABLE_POSES) for one results dict."""
    methods = ([(METHOD_PROFILE, PROFILE_LABEL)] if include_profile else []) + [
        (results["method"], results["method_label"])]
    return [[label] + [report.fmt(pose_value(results, p, "rank1_percent", m))
                       for p in TABLE_POSES] for m, label in methods]


def rank1_table(results: Sequence[dict], paper_rows: dict[str, Sequence[float]] | None = None
                ) -> tuple[list[str], list[list[str]]]:
    """(header, rows) in the layout of TP-GAN's Table 1 for one or several models evaluated
    on the same records (the profile baseline once), then the papers' rows, marked
    recalled."""
    header = ["Method"] + [report.pose_label(p) for p in TABLE_POSES]
    rows = []
    for i, r in enumerate(results):
        rows += rank1_rows(r, include_profile=i == 0)
    for name, values in (paper_rows or {}).items():
        rows.append([f"{name} (recalled, unverified)"] + [report.fmt(v) for v in values])
    return header, rows


def sanity_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the 0-degree sanity row and the per-pose probe counts."""
    poses = [p for p in ALL_POSES if str(p) in results["poses"]]
    header = ["Pose"] + [report.pose_label(p) for p in poses]
    rows = [["pairs"] + [str(pose_value(results, p, "pairs")) for p in poses],
            ["probes"] + [str(pose_value(results, p, "probes")) for p in poses]]
    for m, label in ((METHOD_PROFILE, PROFILE_LABEL), (results["method"],
                                                       results["method_label"])):
        rows.append([f"rank-1 % {label}"] + [report.fmt(pose_value(results, p, "rank1_percent",
                                                                    m)) for p in poses])
    return header, rows


def quality_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows): per |yaw| the mean L1 / PSNR / SSIM / face colour error of the frontal
    and the profile."""
    m, label = results["method"], results["method_label"]
    header = ["Pose", "pairs", f"L1 {label}", "L1 profile", f"PSNR {label} (dB)",
              "PSNR profile (dB)", f"SSIM {label}", "SSIM profile", f"face colour {label}",
              "face colour profile"]
    rows = []
    for p in ALL_POSES:
        if str(p) not in results["poses"]:
            continue
        row = [report.pose_label(p), str(pose_value(results, p, "pairs"))]
        for q, digits in (("l1", 4), ("psnr", 2), ("ssim", 4), ("colour", 4)):
            row += [report.fmt(pose_value(results, p, q, k), digits) for k in (m, METHOD_PROFILE)]
        rows.append(row)
    return header, rows


def rank1_series(results: dict, include_profile: bool = True) -> list:
    """plots.Series of rank-1 against |yaw| for a results dict."""
    from tpgan_tf.evaluation.plots import Series
    methods = ([(METHOD_PROFILE, PROFILE_LABEL)] if include_profile else []) + [
        (results["method"], results["method_label"])]
    poses = [p for p in ALL_POSES if str(p) in results["poses"]]
    return [Series(label, poses, [pose_value(results, p, "rank1_percent", m) for p in poses])
            for m, label in methods]


def headlines(results: dict, prefix: str = "") -> list:
    """The learning-curve numbers (evaluator.Headline) of a frontalization results dict (or
    any dict with its "method" and "poses"): rank-1 % of the frontals at every |yaw| > 0 and
    their PSNR and face colour error over every pair with |yaw| > 0 (the mean of the per-pair
    values; the colour error only where the results have it), each next to the raw profile's.
    prefix: put before the panel names (e.g. "frontal ")."""
    from tpgan_tf.evaluation.evaluator import Headline

    method = results["method"]
    poses = sorted(int(p) for p in results["poses"] if int(p) > 0)
    out = [Headline(f"{prefix}rank-1 (%)", report.pose_label(p),
                    pose_value(results, p, "rank1_percent", method),
                    pose_value(results, p, "rank1_percent", METHOD_PROFILE), "raw profile")
           for p in poses]
    pairs = [pose_value(results, p, "pairs") for p in poses]

    def pooled(q, m):  # per-pose means weighted by their pairs = the mean over the pairs
        values = [pose_value(results, p, q, m) for p in poses]
        if not poses or any(v is None for v in values):
            return None
        return float(sum(v * n for v, n in zip(values, pairs)) / sum(pairs))

    out.append(Headline(f"{prefix}PSNR (dB)", "yaw ≠ 0°", pooled("psnr", method),
                        pooled("psnr", METHOD_PROFILE), "raw profile"))
    if pooled("colour", METHOD_PROFILE) is not None:
        out.append(Headline(f"{prefix}face colour error", "yaw ≠ 0°", pooled("colour", method),
                            pooled("colour", METHOD_PROFILE), "raw profile",
                            higher_is_better=False))
    return out
