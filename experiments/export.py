"""Exports a trained TP-GAN generator as a SavedModel for TF Serving (issue 5, point 1).

    python -m experiments.export --model_dir=runs/demo/train --export_base=runs/demo/export
    python -m experiments.export --config=tiny --export_base=/tmp/export      # random weights

writes `<export_base>/<model_name>/<version>/` (TF Serving's layout; version = next integer
unless --version is given) with the signatures `serving_default`, `frontalize_image` and
`frontal_float` (see tpgan_tf/export.py), then prints the path. Serve it with
    docker run -p 8501:8501 -p 8500:8500 \
        -v "$PWD/<export_base>/tpgan:/models/tpgan" -e MODEL_NAME=tpgan tensorflow/serving
--measure_bn_effect renders 10 synthetic faces and records in the export's
assets.extra/tpgan_export.json how much one face's frontal changes between a batch of one and
a batch of 10 (the effect of the BN mode on single requests).
"""
from __future__ import annotations

import json

from absl import app, flags, logging

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("model_dir", None, "Training run directory (config.json + checkpoints).")
    flags.DEFINE_string("config", None, "Config preset (paper, demo, tiny) for a randomly "
                        "initialised G, for demos and tests; ignored with --model_dir.")
    flags.DEFINE_string("export_base", None, "Base directory of the export.")
    flags.DEFINE_string("model_name", "tpgan", "Model name (directory under export_base).")
    flags.DEFINE_integer("version", None, "Version directory; default: the next integer.")
    flags.DEFINE_enum("bn_mode", None, ["batch_stats", "inference"],
                      "Override the run's model.bn_mode: batch_stats (the original: statistics "
                      "of each request batch) or inference (moving averages).")
    flags.DEFINE_enum("output_range", "minmax", ["minmax", "clip"],
                      "uint8 conversion: minmax (the original's per-image rescale) or clip "
                      "(clip(x * 256, 0, 255)).")
    flags.DEFINE_bool("measure_bn_effect", False, "Measure the batch-of-one BN effect on 10 "
                      "synthetic faces and store it in the export's metadata.")


def synthetic_faces(count: int, seed: int = 5) -> tuple:
    """`count` aligned synthetic faces at mixed yaws: (uint8 [N,128,128,3], float32 [N,5,2])."""
    import numpy as np

    from data_prep.alignment import align_face
    from data_prep.synthetic import identity_for, render_view

    yaws = (-60, -45, -30, -15, 0, 15, 30, 45, 60, 75)
    images, points = [], []
    for i in range(count):
        raw, landmarks = render_view(identity_for(seed, i + 1), yaws[i % len(yaws)])
        face = align_face(raw, landmarks)
        images.append(face.image)
        points.append(face.landmarks)
    return np.stack(images), np.stack(points).astype(np.float32)


def run(model_dir, config, export_base, model_name="tpgan", version=None, bn_mode=None,
        output_range="minmax", measure_bn_effect=False) -> str:
    """Loads G (checkpoint or random init) and exports it; returns the version directory."""
    from tpgan_tf.export import bn_batch_effect, export_for_serving
    from tpgan_tf.inference import Frontalizer, load_generator

    if not model_dir and not config:
        raise app.UsageError("give --model_dir (a training run) or --config (random weights)")
    generator, cfg, _ = load_generator(model_dir, None if model_dir else config, bn_mode)
    frontalizer = Frontalizer(generator, output_range=output_range)
    info = {"source": model_dir or f"random init ({cfg.name})"}
    if measure_bn_effect:
        images, points = synthetic_faces(10)
        info["bn_batch_effect"] = bn_batch_effect(frontalizer, images, points)
    path = export_for_serving(frontalizer, export_base, model_name, version, config=cfg,
                              info=info)
    if measure_bn_effect:
        print(json.dumps({"bn_batch_effect": info["bn_batch_effect"]}))
    return path


def main(argv):
    del argv
    if not FLAGS["verbosity"].present:  # TF's INFO lines (one per captured variable) drown
        logging.set_verbosity(logging.WARNING)  # the output; --verbosity=0 brings them back
    if not FLAGS.export_base:
        raise app.UsageError("--export_base is required")
    path = run(FLAGS.model_dir, FLAGS.config, FLAGS.export_base, FLAGS.model_name,
               FLAGS.version, FLAGS.bn_mode, FLAGS.output_range, FLAGS.measure_bn_effect)
    print(f"exported {path}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
