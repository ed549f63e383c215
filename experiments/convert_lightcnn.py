"""Converts the public PyTorch LightCNN-29 v1 checkpoint to our Light-CNN .h5 (spec 4.4 substitute).

    python -m experiments.convert_lightcnn --checkpoint=LightCNN_29Layers_checkpoint.pth.tar \\
        --output=lightcnn29.h5

The public file (AlfredXiangWu/LightCNN, research-only licence) is a dict
{'epoch', 'state_dict', ...} whose state_dict keys carry DataParallel's `module.` prefix; a bare
state_dict is accepted too. These are not the weights TP-GAN used (`DeepFace168.pickle`), but the
topology is the same. Needs torch (optional extra 'convert').
"""
from __future__ import annotations

import os

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("checkpoint", None, "PyTorch LightCNN-29 v1 checkpoint (.pth / .pth.tar).")
    flags.DEFINE_string("output", "lightcnn29.h5", "Where to write the tpgan_tf Light-CNN .h5.")


def _import_torch():
    try:
        import torch  # noqa: PLC0415  (optional dependency, imported only when converting)
    except ImportError as e:
        raise ImportError("converting a PyTorch Light-CNN checkpoint needs torch: "
                          "pip install torch (optional extra 'convert')") from e
    return torch


def _read_state_dict(checkpoint_path: str) -> dict:
    """The state_dict inside a checkpoint file ({'state_dict': ...} or a bare state_dict)."""
    torch = _import_torch()
    if not os.path.isfile(checkpoint_path):
        raise FileNotFoundError(f"Light-CNN checkpoint {checkpoint_path} does not exist")
    try:
        # weights_only=False: the public file also pickles plain Python values (epoch, prec1...).
        data = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a corrupt or non-torch file
        raise ValueError(f"{checkpoint_path}: cannot read as a PyTorch checkpoint: {e}") from e
    if isinstance(data, dict) and "state_dict" in data:
        data = data["state_dict"]
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{checkpoint_path}: expected a state_dict or a dict with key "
                         f"'state_dict', got {type(data).__name__}")
    return data


def convert(checkpoint_path, output_path, width: float = 1.0) -> str:
    """Reads the PyTorch checkpoint, writes our .h5 at `output_path`, returns a one-line summary.

    Raises ValueError naming the checkpoint and the key/layer when something is missing or has
    the wrong shape (the public checkpoint matches width 1.0).
    """
    from tpgan_tf import lightcnn  # noqa: PLC0415  (keeps `--help` fast)

    checkpoint_path, output_path = os.fspath(checkpoint_path), os.fspath(output_path)
    state_dict = _read_state_dict(checkpoint_path)
    weights = lightcnn.torch_state_dict_to_weights(state_dict, source=checkpoint_path)
    model = lightcnn.build_lightcnn(width=width)
    lightcnn.set_weights_from_dict(model, weights, source=checkpoint_path)
    out_dir = os.path.dirname(output_path)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    lightcnn.save_h5_weights(model, output_path)
    n_params = sum(int(k.size) + int(b.size) for k, b in weights.values())
    return (f"converted {checkpoint_path} -> {output_path}: {len(weights)} layers, "
            f"{n_params:,} parameters, feature dim {model.outputs[1].shape[-1]}")


def main(argv):
    del argv
    if not FLAGS.checkpoint:
        raise app.UsageError("--checkpoint is required")
    print(convert(FLAGS.checkpoint, FLAGS.output))


if __name__ == "__main__":
    define_flags()
    app.run(main)
