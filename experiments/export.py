"""Exports a trained model as a SavedModel for TF Serving (tpgan_tf/serving/export.py).

    python -m experiments.export --model_dir=runs/demo/tpgan/train --export_base=runs/demo/tpgan/export
    python -m experiments.export --model=tpgan --config=tiny --export_base=/tmp/export  # random

writes `<export_base>/<model_name>/<version>/` (TF Serving's layout; model_name = the model,
version = the next integer unless --version is given) with the model's signatures (its
serving.py), then prints the path. Serve it with
    docker run -p 8501:8501 -p 8500:8500 \\
        -v "$PWD/<export_base>/tpgan:/models/tpgan" -e MODEL_NAME=tpgan tensorflow/serving
The config is the run's config.json plus --override (export options are its `export`
section, e.g. --override=export.output_range=clip for TP-GAN); --model with --config instead
of --model_dir exports randomly initialised weights of that preset.
"""
from __future__ import annotations

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    common.define_model_flags()
    flags.adopt_module_key_flags(common)  # --model, --config, ... listed by --help too
    flags.DEFINE_string("model_dir", None, "Training run directory (config.json + checkpoints) "
                        "or a checkpoint prefix in it.")
    flags.DEFINE_string("export_base", None, "Base directory of the export.")
    flags.DEFINE_string("model_name", None, "Directory under export_base (default: the model).")
    flags.DEFINE_integer("version", None, "Version directory; default: the next integer.")


def run(model_dir=None, preset=None, export_base=None, model=None, overrides=(),
        model_name=None, version=None) -> str:
    """Loads the run (or random weights of a preset) and exports it; returns the version
    directory."""
    from tpgan_tf.core.runner import load_trained
    from tpgan_tf.serving.export import export_task

    if not model_dir and not preset:
        raise ValueError("give --model_dir (a training run) or --model and --config (random "
                         "weights)")
    task, cfg, ckpt = load_trained(model_dir, preset, overrides, model)
    info = {"source": ckpt or f"random init ({cfg.name})"}
    return export_task(task, export_base, model_name, version, info)


def main(argv):
    del argv
    if not FLAGS.export_base:
        raise app.UsageError("--export_base is required")
    try:
        path = run(FLAGS.model_dir, FLAGS.config, FLAGS.export_base, FLAGS.model,
                   common.overrides(), FLAGS.model_name, FLAGS.version)
    except common.USER_ERRORS as e:
        common.fail(e)
    print(f"exported {path}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
