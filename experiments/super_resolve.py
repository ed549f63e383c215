"""FSRNet on face crops: the photo tool (`experiments.apply`) with --model=fsrnet and --aligned,
kept under its old name. Each image of --input (one or a folder) is a ready crop taking one
of three paths by --input_kind (lr: a 16x16 LR face; upsampled: a 128x128 image already
bicubic-upsampled from 16x16, fed as it is; hr: an HR face crop, reduced to 16x16 first;
auto decides per image: tpgan_tf/models/fsrnet/photos.py). Writes `<name>_sr.png` and
`<name>_sheet.png` per image, `sheet.png` of the first 12 and results.json.

    python -m experiments.super_resolve --input=faces16/ \\
        --saved_model=runs/demo/fsrnet/export/fsrnet --output_dir=runs/demo/fsrnet/super_resolved
    python -m experiments.super_resolve --input=helen_val_50_LR_8x --input_kind=upsampled \\
        --model_dir=runs/fsrnet_helen --output_dir=out

Every flag of experiments.apply; --noaligned finds the faces in whole photos instead and
pastes them back into the photo enlarged x8 (the same as `experiments.apply --model=fsrnet`).
"""
from __future__ import annotations

from absl import app, flags

from experiments import apply

FLAGS = flags.FLAGS


def define_flags() -> None:
    """experiments.apply's flags with --model=fsrnet and --aligned by default."""
    apply.define_flags()
    flags.adopt_module_key_flags(apply)  # apply's flags listed by --help too
    FLAGS.set_default("model", "fsrnet")
    FLAGS.set_default("aligned", True)


def main(argv):
    return apply.main(argv)


if __name__ == "__main__":
    define_flags()
    app.run(main)
