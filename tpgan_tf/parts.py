"""The four facial parts of the local pathway: names, patch sizes and template positions.

One table shared by data preparation (patch cropping, spec 1.4), the generator (fusion,
spec 2.3) and the losses (part L1, spec 4.2), so the three cannot disagree.
"""
from __future__ import annotations

import dataclasses

IMAGE_SIZE = 128  # spec 1.1: every aligned face is 128 x 128


@dataclasses.dataclass(frozen=True)
class Part:
    """A facial part: patch size (h, w) and its fixed place on the 128 x 128 fusion canvas."""

    name: str
    height: int
    width: int
    # Spec 2.3: template centre (row, col), 1-based, from `partCombiner`.
    centre_row: int
    centre_col: int

    @property
    def top(self) -> int:
        """First canvas row (0-based) covered: pad_top = centre_row - h/2 - 1 (spec 2.3)."""
        return self.centre_row - self.height // 2 - 1

    @property
    def left(self) -> int:
        """First canvas column (0-based) covered: pad_left = centre_col - w/2 - 1 (spec 2.3)."""
        return self.centre_col - self.width // 2 - 1

    @property
    def paddings(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)) zero padding that places the patch on the canvas."""
        return ((self.top, IMAGE_SIZE - self.top - self.height),
                (self.left, IMAGE_SIZE - self.left - self.width))


# Spec 1.4 sizes and 2.3 template centres. Order matters: it is the order of the
# original's four part nets and of every per-part tensor in this project.
EYE_LEFT = Part("eye_left", 40, 40, 41, 44)
EYE_RIGHT = Part("eye_right", 40, 40, 41, 86)
NOSE = Part("nose", 32, 40, 65, 64)
MOUTH = Part("mouth", 32, 48, 89, 65)
PARTS = (EYE_LEFT, EYE_RIGHT, NOSE, MOUTH)
PART_NAMES = tuple(p.name for p in PARTS)
PART_BY_NAME = {p.name: p for p in PARTS}
