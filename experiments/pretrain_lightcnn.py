"""Trains Light-CNN-29 as a subject classifier on our TFRecords and writes the identity-network
.h5 that experiments.train and experiments.evaluate load with --lightcnn_weights.

    python -m experiments.pretrain_lightcnn --data_dir=DATA --output=lightcnn_demo.h5 \\
        --width=0.25 --num_steps=1500

What it trains on and what it reports: tpgan_tf/identity/pretrain.py.
"""
from __future__ import annotations

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("data_dir", None, "Directory with train-*.tfrecord (and test-*).")
    flags.DEFINE_string("output", "lightcnn29.h5", "Where to write the Light-CNN .h5.")
    flags.DEFINE_float("width", 1.0, "Channel multiplier; must equal the TP-GAN config's "
                                     "model.lightcnn_width (1.0 = the real Light-CNN-29).")
    flags.DEFINE_integer("num_steps", 2000, "Training steps.")
    flags.DEFINE_integer("batch_size", 32, "Pairs per step (each gives 2 gray images).")
    flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")
    flags.DEFINE_integer("num_classes", 0, "Classifier size; 0 = 1 + the largest subject id "
                                           "found in the training shards.")
    flags.DEFINE_integer("eval_examples", 300, "Test pairs for the rank-1 check (0 = skip).")
    flags.DEFINE_integer("log_every", 50, "Steps between progress lines.")
    flags.DEFINE_integer("seed", 2017, "Random seed.")


def main(argv):
    del argv
    if not FLAGS.data_dir:
        raise app.UsageError("--data_dir is required")
    from tpgan_tf.identity.pretrain import pretrain

    try:  # its last line is the summary (JSON)
        pretrain(FLAGS.data_dir, FLAGS.output, FLAGS.width, FLAGS.num_steps,
                 FLAGS.batch_size, FLAGS.learning_rate, FLAGS.num_classes,
                 FLAGS.eval_examples, FLAGS.log_every, FLAGS.seed)
    except common.USER_ERRORS as e:
        common.fail(e)


if __name__ == "__main__":
    define_flags()
    app.run(main)
