"""Converts the public PyTorch LightCNN-29 v1 checkpoint to our Light-CNN .h5 (tpgan spec 4.4 substitute).

    python -m experiments.convert_lightcnn --checkpoint=LightCNN_29Layers_checkpoint.pth.tar \\
        --output=lightcnn29.h5

The public file (AlfredXiangWu/LightCNN, research-only licence) is a dict
{'epoch', 'state_dict', ...} whose state_dict keys carry DataParallel's `module.` prefix; a bare
state_dict is accepted too. These are not the weights TP-GAN used (`DeepFace168.pickle`), but the
topology is the same. Needs torch (optional extra 'convert').
"""
from __future__ import annotations

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("checkpoint", None, "PyTorch LightCNN-29 v1 checkpoint (.pth / .pth.tar).")
    flags.DEFINE_string("output", "lightcnn29.h5", "Where to write the tpgan_tf Light-CNN .h5.")


def main(argv):
    del argv
    if not FLAGS.checkpoint:
        raise app.UsageError("--checkpoint is required")
    from tpgan_tf.identity.weights import convert_torch_checkpoint

    try:
        print(convert_torch_checkpoint(FLAGS.checkpoint, FLAGS.output))
    except (*common.USER_ERRORS, ImportError) as e:
        common.fail(e)


if __name__ == "__main__":
    define_flags()
    app.run(main)
