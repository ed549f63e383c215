"""Command line of the Multi-PIE layout writer: `python -m data_prep.synthetic --output_dir=...`."""
from __future__ import annotations

import os
from typing import Sequence

from data_prep.synthetic.constants import DEFAULT_ILLUMINATIONS, DEFAULT_IMAGE_SIZE
from data_prep.synthetic.layout import generate


def main(argv: Sequence[str]) -> None:
    from absl import flags

    f = flags.FLAGS
    if len(argv) > 1:
        raise SystemExit(f"error: unexpected arguments: {' '.join(argv[1:])}")
    try:
        illuminations = [int(i) for i in f.illuminations]
        summary = generate(
            f.output_dir, f.num_subjects, illuminations=illuminations, sessions=f.sessions,
            image_size=(f.image_width, f.image_height), seed=f.seed, workers=f.workers,
            cameras=f.cameras or None)
    except (ValueError, KeyError) as err:
        raise SystemExit(f"error: {err.args[0] if err.args else err}") from None
    except OSError as err:  # e.g. an output_dir that cannot be created (names the path)
        raise SystemExit(f"error: {err}") from None
    print(f"wrote {summary['images']} images ({summary['subjects']} subjects x "
          f"{summary['sessions']} sessions x {summary['cameras']} cameras x "
          f"{len(summary['illuminations'])} illuminations) to {summary['output_dir']} in "
          f"{summary['seconds']:.1f} s, {summary['images_per_second']:.1f} images/s")


def _define_flags() -> None:
    from absl import flags

    flags.DEFINE_string("output_dir", None, "Root of the raw Multi-PIE style output.")
    flags.DEFINE_integer("num_subjects", 20, "Number of identities (subjects 001..).")
    flags.DEFINE_list("illuminations", [f"{i:02d}" for i in DEFAULT_ILLUMINATIONS],
                      "Flash indices 00..19 to render (07 = frontal, 01 left .. 13 right).")
    flags.DEFINE_integer("sessions", 1, "Sessions per subject (session01..).")
    flags.DEFINE_integer("image_width", DEFAULT_IMAGE_SIZE[0], "Image width (raw: 640).")
    flags.DEFINE_integer("image_height", DEFAULT_IMAGE_SIZE[1], "Image height (raw: 480).")
    flags.DEFINE_integer("seed", 0, "Random seed; same seed -> identical files.")
    flags.DEFINE_integer("workers", os.cpu_count() or 1, "Worker processes.")
    flags.DEFINE_list("cameras", [], "Camera folders to render, e.g. 05_1,19_0 (default all 13).")
    flags.mark_flag_as_required("output_dir")
