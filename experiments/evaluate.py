"""Rank-1 per pose and image quality by the paper's protocol (spec 7.1; issue 5 point 4).

    python -m experiments.evaluate --data_dir=runs/demo/records --model_dir=runs/demo/train \\
        --lightcnn_weights=weights/lightcnn29.h5 --output_dir=runs/demo/eval

Reads `<data_dir>/test-*.tfrecord`, restores G from the newest checkpoint of `--model_dir`
(its config.json gives the model sizes), and writes into `--output_dir`:
  results.json        every number (rank-1 and L1 / PSNR / SSIM per |yaw|, counts, gallery)
  results.md          the paper's Table 1 layout (rank-1 %), counts, the quality table
  rank1_vs_yaw.png    the plot; sheets/yaw_XX.png: input | TP-GAN | ground truth per pose
  index.html          the results page (tables and pictures); its path is printed at the end
Without --model_dir, --config (a preset) and --override give a randomly initialised G (tests).
The protocol and its choices are described in tpgan_tf/evaluation.py.
"""
from __future__ import annotations

import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS

LIGHTCNN_HELP = (
    "Light-CNN-29 weights are required for the identity features (spec 4.4): either TP-GAN's "
    "DeepFace168.pickle (from the original TP-GAN repository) or a tpgan_tf .h5 made from the "
    "public LightCNN-29 v1 PyTorch checkpoint with `python -m experiments.convert_lightcnn "
    "--checkpoint=LightCNN_29Layers_checkpoint.pth.tar --output=weights/lightcnn29.h5` "
    "(see the README section 'Identity network (Light-CNN-29)').")


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("data_dir", None, "Folder of the TFRecord shards (reads <split>-*.tfrecord).")
    flags.DEFINE_string("split", "test", "Which shards to evaluate (spec 6.3: the test split).")
    flags.DEFINE_string("model_dir", None, "Training model_dir: config.json + checkpoints.")
    flags.DEFINE_string("config", None, "A config preset (paper/demo/tiny) instead of "
                        "<model_dir>/config.json; without --model_dir G is randomly initialised.")
    flags.DEFINE_multi_string("override", [], "Config overrides section.field=value, e.g. "
                              "model.bn_mode=inference.")
    flags.DEFINE_string("lightcnn_weights", None, LIGHTCNN_HELP)
    flags.DEFINE_float("lightcnn_width", None, "Light-CNN channel multiplier; default: the width "
                       "stored in the .h5, 1.0 for a pickle.")
    flags.DEFINE_string("output_dir", None, "Where the results go (default <model_dir>/eval).")
    flags.DEFINE_integer("batch_size", 16, "Pairs per batch (G normalises with batch statistics "
                         "in bn_mode=batch_stats, spec 2.1).")
    flags.DEFINE_integer("max_examples", 0, "If > 0, only the first N test pairs (quick looks).")
    flags.DEFINE_integer("z_seed", 2017, "Seed of the stateless z draws (spec 2.5 noise).")
    flags.DEFINE_integer("sheet_rows", 6, "Examples per picture sheet.")


def lightcnn_width_of(path: str, width: float | None = None) -> float:
    """The Light-CNN width to build: `width` if given, else the .h5's `width` attribute,
    else 1.0 (the pickle is always the full network)."""
    if width is not None:
        return float(width)
    if os.path.splitext(path)[1].lower() in (".h5", ".hdf5"):
        import h5py
        try:
            with h5py.File(path, "r") as f:
                return float(f.attrs.get("width", 1.0))
        except OSError as e:
            raise ValueError(f"{path}: not an HDF5 file: {e}") from e
    return 1.0


def load_lightcnn(path: str | None, width: float | None = None):
    """The frozen Light-CNN with the weights of `path`; errors say how to get weights."""
    if not path:
        raise ValueError(f"--lightcnn_weights is missing. {LIGHTCNN_HELP}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Light-CNN weight file {path} does not exist. {LIGHTCNN_HELP}")
    from tpgan_tf import lightcnn
    model = lightcnn.build_lightcnn(lightcnn_width_of(path, width))
    lightcnn.load_weights(model, path)
    return model


def resolve_config(model_dir: str | None, config: str | None, overrides=()):
    """The run's config: <model_dir>/config.json, or the preset `config`, plus overrides."""
    from tpgan_tf import config as cfg_lib
    if config:
        cfg = cfg_lib.get_config(config)
    elif model_dir:
        cfg = cfg_lib.load_config(model_dir)
    else:
        raise ValueError("give --model_dir (a training run) or --config (a preset, random G)")
    return cfg_lib.apply_overrides(cfg, overrides)


def run(data_dir: str, lightcnn_weights: str | None, output_dir: str | None = None, *,
        model_dir: str | None = None, config: str | None = None, overrides=(),
        split: str = "test", lightcnn_width: float | None = None, batch_size: int = 16,
        max_examples: int = 0, z_seed: int = 2017, sheet_rows: int = 6,
        show_progress: bool = True) -> tuple[dict, str]:
    """The whole evaluation; returns (results dict, path of the results page index.html)."""
    from tqdm import tqdm

    from tpgan_tf import evaluation

    if not data_dir:
        raise ValueError("--data_dir is required (the folder of the TFRecord shards)")
    output_dir = output_dir or (os.path.join(model_dir, "eval") if model_dir else None)
    if not output_dir:
        raise ValueError("--output_dir is required when there is no --model_dir")
    pattern = os.path.join(data_dir, f"{split}-*.tfrecord")
    from tpgan_tf.input_pipeline import list_shards
    list_shards(pattern)  # fail early, naming the pattern, before building any model
    lcnn = load_lightcnn(lightcnn_weights, lightcnn_width)
    cfg = resolve_config(model_dir, config, overrides)
    from tpgan_tf.inference import load_generator
    generator, _, checkpoint = load_generator(model_dir, cfg)

    bar = tqdm(desc="evaluating", unit="pair", disable=not show_progress, file=sys.stderr)
    done = [0]

    def progress(n):
        bar.update(n - done[0])
        done[0] = n

    data = evaluation.run_protocol(
        pattern, generator, lcnn, batch_size=batch_size, z_dim=cfg.model.z_dim,
        z_stddev=cfg.model.z_stddev, z_seed=z_seed, max_examples=max_examples,
        sheet_rows=sheet_rows, progress=progress)
    bar.close()
    results = evaluation.summarise(data)
    results["run"] = {
        "data": pattern, "model_dir": model_dir or "(none: randomly initialised G)",
        "checkpoint": checkpoint or "(none)", "config": cfg.name,
        "generator_width": cfg.model.width, "bn_mode": cfg.model.bn_mode,
        "lightcnn_weights": lightcnn_weights,
        "lightcnn_width": float(getattr(lcnn, "lightcnn_width", 1.0)),
        "batch_size": batch_size, "z_seed": z_seed, "max_examples": max_examples,
    }
    page = evaluation.write_report(output_dir, results, data.samples)
    return results, page


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        results, page = run(
            FLAGS.data_dir, FLAGS.lightcnn_weights, FLAGS.output_dir, model_dir=FLAGS.model_dir,
            config=FLAGS.config, overrides=FLAGS.override, split=FLAGS.split,
            lightcnn_width=FLAGS.lightcnn_width, batch_size=FLAGS.batch_size,
            max_examples=FLAGS.max_examples, z_seed=FLAGS.z_seed, sheet_rows=FLAGS.sheet_rows)
    except (ValueError, FileNotFoundError) as e:
        raise app.UsageError(str(e)) from None
    from tpgan_tf import evaluation
    print(evaluation.markdown_table(*evaluation.rank1_table(results, include_paper=False)))
    print(f"{results['probes']} probes, {results['subjects']} gallery subjects, "
          f"{results['seconds']} s")
    print(f"results page: {page}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
