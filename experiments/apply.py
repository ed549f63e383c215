"""Every model on your own photos (tpgan_tf/photos): detect each face, align it as the model's
training crops were made, run the model, write its pictures (and paste them back where the
model asks for it), one results.json per run.

    python -m experiments.apply --model=tpgan --input=photos/ \\
        --saved_model=runs/demo/tpgan/export/tpgan --output_dir=out/tpgan
    python -m experiments.apply --model=drgan --input=photos/ --all_faces --compare \\
        --saved_model=runs/demo/drgan/export/drgan --output_dir=out/drgan
    python -m experiments.apply --model=fsrnet --input=group_photo.jpg --all_faces \\
        --model_dir=runs/demo/fsrnet/train --output_dir=out/fsrnet
    python -m experiments.apply --model=fsrnet --aligned --input=faces16/ \\
        --saved_model=runs/demo/fsrnet/export/fsrnet --output_dir=out/sr

Faces: MTCNN by default (the largest usable face; every face with --all_faces; small faces
are looked for on an enlarged copy), or a landmark CSV (--landmarks; path,x0,y0,...,x4,y4 in
0-based pixels of the photo as displayed, paths relative to the input folder). --aligned: the
inputs are ready crops in the model's own crop format, used as they are, with the points of
a CSV or else the model's template points (TP-GAN and DR-GAN: 128x128 crops of the
tpgan spec 1.2 rule; FSRNet: its 16x16 LR faces, or 128x128 crops by --input_kind). What each
model writes: its README.
"""
from __future__ import annotations

import sys

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


# Flags of one model's applier (its PhotoApplier.OPTIONS): passed only when given, so that
# another model's applier can refuse them.
MODEL_OPTIONS = ("compare", "threshold", "fuse", "input_kind")


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("model", None, "tpgan, drgan or fsrnet: checked against the export "
                        "or run (optional; they name their model).")
    flags.DEFINE_string("input", None, "A photo or a folder of photos (searched recursively).")
    flags.DEFINE_string("saved_model", None, "Export directory (<base>/<name> or a version).")
    flags.DEFINE_string("model_dir", None, "Training run directory (config.json + checkpoints).")
    flags.DEFINE_multi_string("override", [], "Config overrides for --model_dir "
                              "(e.g. model.bn_mode=inference).")
    flags.DEFINE_string("output_dir", None, "Where the pictures and results.json go.")
    flags.DEFINE_string("landmarks", None, "Landmark CSV instead of detection.")
    flags.DEFINE_bool("aligned", False, "The inputs are ready crops in the model's crop "
                      "format: no detection.")
    flags.DEFINE_bool("all_faces", False, "Every usable face of a photo (numbered outputs), "
                      "not only the largest.")
    common.define_detection_flags()
    flags.adopt_module_key_flags(common)  # listed by --help, which shows the script's own
    flags.DEFINE_bool("compare", False, "DR-GAN: cosine similarity of the identity features "
                      "of every face found (compare.csv).")
    flags.DEFINE_float("threshold", None, "DR-GAN with --compare: say same / different "
                       "person at this cosine similarity.")
    flags.DEFINE_bool("fuse", False, "DR-GAN: the faces of each folder are one person: one "
                      "frontal and feature from all of them (fuse_and_frontalize, weighted by "
                      "a multi-image model's confidences).")
    flags.DEFINE_enum("input_kind", "auto", ["auto", "lr", "upsampled", "hr"],
                      "FSRNet with --aligned: lr = 16x16 LR faces; upsampled = 128x128 images "
                      "already bicubic-upsampled from 16x16 (fed as they are); hr = HR face "
                      "crops, reduced to 16x16 first; auto decides per image.")


def run(input_path: str, output_dir: str, *, saved_model=None, model_dir=None, model=None,
        overrides=(), landmarks=None, aligned=False, all_faces=False, min_confidence=None,
        min_eye_distance=None, options=None, log=print, progress=sys.stderr) -> dict:
    """Opens the model, chooses the face source and runs the tool (tpgan_tf/photos/tool.py)."""
    from tpgan_tf.photos import tool
    from tpgan_tf.photos.applier import ModelSource, applier_for
    from tpgan_tf.photos.faces import FaceSource

    # The face source first: its checks of the user's flags and files take no model.
    mode = "csv" if landmarks else "aligned" if aligned else "detect"
    faces = FaceSource(mode, landmarks, all_faces, min_confidence, min_eye_distance)
    source = ModelSource(saved_model, model_dir, overrides, model)
    applier = applier_for(source, options)
    applier.aligned = aligned
    if min_eye_distance is None and applier.min_eye_distance is not None:
        faces.min_eye_distance = applier.min_eye_distance  # the model's smaller default
    if aligned:
        faces.aligned_points = applier.aligned_points()
        if faces.aligned_points is None:
            raise ValueError(f"model {source.model!r} takes no ready crops (--aligned)")
    return tool.run(applier, faces, input_path, output_dir, log=log, progress=progress)


def main(argv):
    del argv
    try:
        for name in ("input", "output_dir"):
            if not getattr(FLAGS, name):
                raise ValueError(f"--{name} is required")
        result = run(FLAGS.input, FLAGS.output_dir, saved_model=FLAGS.saved_model,
                     model_dir=FLAGS.model_dir, model=FLAGS.model, overrides=FLAGS.override,
                     landmarks=FLAGS.landmarks, aligned=FLAGS.aligned,
                     all_faces=FLAGS.all_faces, min_confidence=FLAGS.min_confidence,
                     min_eye_distance=FLAGS.min_eye_distance,
                     options={name: FLAGS[name].value for name in MODEL_OPTIONS
                              if FLAGS[name].present})
    except (*common.USER_ERRORS, ImportError, OSError) as err:
        common.fail(err, 2)
    return 0 if result["done"] else 1


if __name__ == "__main__":
    define_flags()
    app.run(main)
