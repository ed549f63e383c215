"""TP-GAN on photos: the photo tool (`experiments.apply`) with --model=tpgan, kept under its
old name. Writes `<name>_frontal.png` and `<name>_sheet.png` (aligned input crop | frontal)
per photo, and results.json.

    python -m experiments.frontalize --input=photos/ --saved_model=runs/demo/tpgan/export/tpgan \\
        --output_dir=runs/demo/frontalized                      # faces found by MTCNN
    python -m experiments.frontalize --input=photos/ --landmarks=photos/landmarks.csv \\
        --saved_model=runs/demo/tpgan/export/tpgan --output_dir=out   # points given by hand

Every flag of experiments.apply; --detect (the default: MTCNN) is accepted for the old
command lines, and --bn_mode=batch_stats|inference overrides a run's BN mode (--model_dir).
"""
from __future__ import annotations

from absl import app, flags

from experiments import apply

FLAGS = flags.FLAGS


def define_flags() -> None:
    """experiments.apply's flags, --model fixed to tpgan, plus the two old ones."""
    apply.define_flags()
    flags.adopt_module_key_flags(apply)  # apply's flags listed by --help too
    FLAGS.set_default("model", "tpgan")
    flags.DEFINE_bool("detect", False, "Accepted for old command lines: faces are detected "
                      "unless --landmarks or --aligned is given.")
    flags.DEFINE_enum("bn_mode", None, ["batch_stats", "inference"],
                      "With --model_dir: override the run's BN mode.")


def main(argv):
    if FLAGS.detect and FLAGS.landmarks:
        apply.common.fail(ValueError("give at most one of --detect and --landmarks"), 2)
    if FLAGS.bn_mode:
        FLAGS.override = [*FLAGS.override, f"model.bn_mode={FLAGS.bn_mode}"]
    return apply.main(argv)


if __name__ == "__main__":
    define_flags()
    app.run(main)
