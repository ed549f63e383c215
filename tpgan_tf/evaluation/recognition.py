"""The Multi-PIE recognition protocol shared by the frontalization models (tpgan spec 6.3 / 7.1,
drgan spec 5.1): gallery selection, probes, rank-1 per |yaw|.

  * Test split only (its subjects never appear in training).
  * Gallery: one real frontal image (camera 05_1) per test subject, chosen by
    `gallery_sort_key`: lowest session, then lowest recording, then illumination 07 (frontal
    flash, "frontal/neutral illumination") if that (session, recording) has it, else the
    lowest illumination index.
  * Probes: every other test image, all illuminations, both yaw signs pooled per |yaw|; the
    gallery image itself is not a probe (it would match itself).
  * Rank-1 by cosine similarity of whatever features a model provides (metrics.py).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

import numpy as np

from tpgan_tf.evaluation import metrics

FRONTAL_ILLUMINATION = 7  # flash 07: frontal light (tpgan spec 6.3 "frontal/neutral illumination")
TABLE_POSES = (90, 75, 60, 45, 30, 15)  # the column order of TP-GAN's Table 1 (tpgan spec 7.2)
ALL_POSES = (0, 15, 30, 45, 60, 75, 90)


@dataclasses.dataclass(frozen=True)
class FaceRecord:
    """One test image (a pair's profile, or an image record).

    frontal_path: the frontal (camera 05_1) image of the same subject, session, recording and
    illumination: a pair's ground truth, or the image itself when it is frontal."""

    subject: int
    session: int
    recording: int
    illumination: int
    yaw: int  # signed, degrees
    path: str = ""
    frontal_path: str = ""

    @property
    def frontal_key(self) -> tuple[int, int, int, int]:
        """(subject, session, recording, illumination): which frontal image belongs to it."""
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


def gallery_sort_key(record: FaceRecord) -> tuple:
    """Smaller = better gallery candidate: first session, first recording, then flash 07,
    then the lowest illumination (the path only breaks exact ties deterministically)."""
    return (record.session, record.recording, record.illumination != FRONTAL_ILLUMINATION,
            record.illumination, record.frontal_path)


def select_gallery(records: Iterable[FaceRecord]) -> dict[int, GalleryEntry]:
    """One gallery frontal per subject: the frontal of the record with the smallest
    `gallery_sort_key`. Returns {subject: GalleryEntry}, sorted by subject."""
    best: dict[int, FaceRecord] = {}
    for r in records:
        if r.subject not in best or gallery_sort_key(r) < gallery_sort_key(best[r.subject]):
            best[r.subject] = r
    return {s: GalleryEntry(b.subject, b.session, b.recording, b.illumination, b.frontal_path)
            for s, b in ((s, best[s]) for s in sorted(best))}


def is_gallery_image(record: FaceRecord, gallery: dict[int, GalleryEntry]) -> bool:
    """True for the frontal record that is its subject's gallery image itself."""
    entry = gallery.get(record.subject)
    return entry is not None and record.yaw == 0 and record.frontal_key == entry.frontal_key


def probe_mask(records: Sequence[FaceRecord], gallery: dict[int, GalleryEntry]) -> np.ndarray:
    """[N] bool: which records are probes (all but the gallery images themselves)."""
    return np.array([not is_gallery_image(r, gallery) for r in records], dtype=bool)


def rank1_by_pose(features: dict[str, np.ndarray], records: Sequence[FaceRecord],
                  gallery: dict[int, GalleryEntry], gallery_features: dict[str, np.ndarray]
                  ) -> dict:
    """Rank-1 of several feature sources on the same probes.

    features: {method: [N, D] probe features (all N records; the gallery images are masked
    out here)}; gallery_features: {method: [G, D]} in `gallery` (subject) order, or one array
    for every method under the key "*". Returns {"overall": {method: %}, "poses":
    {|yaw|: {"probes": n, "rank1_percent": {method: %}}}} (nan where a pose has no probe).
    """
    yaw = np.array([r.yaw for r in records])
    labels = np.array([r.subject for r in records])
    mask = probe_mask(records, gallery)
    gallery_labels = np.array(list(gallery))
    overall, by_pose = {}, {}
    for method, feats in features.items():
        g = gallery_features.get(method, gallery_features.get("*"))
        acc, ok = metrics.rank1_identification(feats[mask], labels[mask], g, gallery_labels)
        overall[method] = 100.0 * acc
        by_pose[method] = metrics.mean_by_abs_yaw(yaw[mask], ok)
    poses = {}
    for pose in sorted(set(np.abs(yaw).astype(int).tolist())):
        probes = int(np.sum(mask & (np.abs(yaw) == pose)))
        poses[pose] = {"probes": probes, "rank1_percent": {
            m: (100.0 * by_pose[m][pose]["mean"] if pose in by_pose[m] else float("nan"))
            for m in features}}
    return {"overall": overall, "poses": poses, "probes": int(mask.sum())}
