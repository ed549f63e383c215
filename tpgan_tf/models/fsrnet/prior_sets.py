"""What the FSRNet prior head predicts (fsrnet spec 5): parsing label sets, label remaps,
landmark schemes and the named prior sets (K = landmarks + parsing classes). No TensorFlow.

Label sets. Helen's parsing ground truth (Smith et al. 2013) has 11 labels, in this order:
0 background, 1 face skin, 2 left brow, 3 right brow, 4 left eye, 5 right eye, 6 nose,
7 upper lip, 8 inner mouth, 9 lower lip, 10 hair. The official Helen model predicts 3
"global" maps (tyshiwo #6); which three is [UNV]; here (spec 5 recollection) background /
face / hair with
    global3 = {background: {0}, face: {1..9} (skin, brows, eyes, nose, lips, mouth), hair: {10}}.
The CelebA parsing of the paper comes from GFC, whose parser was trained on Helen's 11
labels [INF], so the CelebA sets use helen11 too.
The folder source's maps are drawn from five points (data_prep/drawn_parsing.py: skin, brows,
eyes, nose, lips; never hair or the inner mouth), predicted as the 6 parts they can place:
    parts6 = {background: {0, 10}, skin: {1}, brows: {2, 3}, eyes: {4, 5}, nose: {6},
              mouth: {7, 8, 9}}
(left and right merged: the landmarks say which side is which; hair is background, as it is
never drawn).
"""
from __future__ import annotations

import dataclasses

HELEN11 = ("background", "face_skin", "left_brow", "right_brow", "left_eye", "right_eye",
           "nose", "upper_lip", "inner_mouth", "lower_lip", "hair")
GLOBAL3 = ("background", "face", "hair")
PARTS6 = ("background", "skin", "brows", "eyes", "nose", "mouth")
PARSING_SETS = {"helen11": HELEN11, "global3": GLOBAL3, "parts6": PARTS6}
# REMAPS[(source set, target set)][source label] = target label.
REMAPS = {
    ("helen11", "global3"): (0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2),
    ("helen11", "parts6"): (0, 1, 2, 2, 3, 3, 4, 5, 5, 5, 0),
}

# Landmark schemes: number of points (the evaluation's NME table is in
# tpgan_tf/evaluation/sr_metrics.py).
LANDMARK_COUNTS = {"helen194": 194, "ibug68": 68, "celeba5": 5}

# Horizontal flips (train.flip): MIRRORS[scheme][i] = the point that becomes point i of the
# mirrored face (its left/right partner; points on the midline map to themselves).
# iBUG 68: jaw 0-16 reversed, brows 17-21 <-> 26-22, nose bridge 27-30 kept, nostrils
# 31-35 reversed, eyes 36-41 <-> 45-42 and 47-46 (corner to corner, upper lid to upper lid),
# outer lips 48-54 reversed and 55-59 reversed, inner lips 60-64 reversed and 65-67 reversed
# (checked against the synthetic head's own face coordinates: u -> -u exactly).
_IBUG68_MIRROR = (tuple(range(16, -1, -1)) + tuple(range(26, 16, -1)) + (27, 28, 29, 30)
                  + (35, 34, 33, 32, 31) + (45, 44, 43, 42, 47, 46) + (39, 38, 37, 36, 41, 40)
                  + tuple(range(54, 47, -1)) + (59, 58, 57, 56, 55) + (64, 63, 62, 61, 60)
                  + (67, 66, 65))
LANDMARK_MIRRORS = {
    "ibug68": _IBUG68_MIRROR,
    "celeba5": (1, 0, 2, 4, 3),  # left eye, right eye, nose, left mouth, right mouth
    # helen194: Helen's contour order (where each closed contour starts, which way it runs)
    # was not available here, so its left/right pairs are not defined (train.flip refuses it).
}
# LABEL_MIRRORS[label set][label] = the label of the mirrored pixel (left/right parts swap).
LABEL_MIRRORS = {"helen11": (0, 1, 3, 2, 5, 4, 6, 7, 8, 9, 10), "global3": (0, 1, 2),
                 "parts6": (0, 1, 2, 3, 4, 5)}


@dataclasses.dataclass(frozen=True)
class PriorSet:
    """What the prior head predicts: num_landmarks heatmaps (of `landmark_scheme`), then one
    map per class of `parsing_set`, made from label maps of `label_map_set`."""

    num_landmarks: int
    landmark_scheme: str
    parsing_set: str
    label_map_set: str = "helen11"

    @property
    def num_parsing(self) -> int:
        return len(PARSING_SETS[self.parsing_set])

    @property
    def num_priors(self) -> int:
        return self.num_landmarks + self.num_parsing


PRIOR_SETS = {
    # The official Helen model: 194 landmarks + 3 global parsing maps = 197 (tyshiwo #6).
    "helen": PriorSet(194, "helen194", "global3"),
    # Helen with its 11 local labels (194 + 11), spec 5 "keep K configurable".
    "helen_local": PriorSet(194, "helen194", "helen11"),
    # CelebA style: 68 points ([LI], from a landmark detector) + 11 GFC labels ([LI]).
    "celeba68": PriorSet(68, "ibug68", "helen11"),
    # CelebA's own 5 points + 11 labels (spec 5: the paper's CelebA count is [UNV]).
    "celeba5": PriorSet(5, "celeba5", "helen11"),
    # The built-in synthetic faces (data_prep/synthetic/faces.py): the renderer's 68 iBUG
    # points and Helen-11 label maps, predicted as the 3 global maps like the official Helen
    # model.
    "synthetic": PriorSet(68, "ibug68", "global3"),
    # The folder source (data_prep/folder.py): MTCNN's five points (in CelebA's order) and
    # the six parts drawn from them, K = 11.
    "folder": PriorSet(5, "celeba5", "parts6"),
}


def label_remap(source: str, target: str) -> tuple[int, ...] | None:
    """The label table from set `source` to set `target` (None when they are the same);
    ValueError when no remap is defined."""
    for name in (source, target):
        if name not in PARSING_SETS:
            raise ValueError(f"unknown parsing label set {name!r}; choose one of {sorted(PARSING_SETS)}")
    if source == target:
        return None
    if (source, target) not in REMAPS:
        raise ValueError(f"no label remap from {source!r} to {target!r}; defined: {sorted(REMAPS)}")
    return REMAPS[(source, target)]
