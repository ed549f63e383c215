"""Trains Light-CNN-29 as a subject classifier on our TFRecords and writes the identity-network
.h5 that experiments.train loads with --lightcnn_weights (issue 4, point 2).

    python -m experiments.pretrain_lightcnn --data_dir=DATA --output=lightcnn_demo.h5 \\
        --width=0.25 --num_steps=1500

Public Light-CNN weights cannot be downloaded at run time, so this makes our own from the
training split (`<data_dir>/train-*.tfrecord`, any pose): every pair gives two gray images
(mean of RGB, spec 4.2/4.4: the profile and the frontal, in [0, 1)) with the subject id as the
class. The network is tpgan_tf.lightcnn.build_lightcnn (the frozen identity net of TP-GAN) plus
a classifier head of its own (dropout 0.5 and a linear `fc2`, as in Light-CNN's training
recipe) that is thrown away; only the 30 layers of LAYER_NAMES are written.

If `<data_dir>/test-*.tfrecord` exists, the script also reports rank-1 identification of
unseen subjects (profile probes against one frontal per subject, cosine similarity of the
256-d feature) before and after training: the property the identity loss relies on.
"""
from __future__ import annotations

import json
import os
import sys
import time

from absl import app, flags

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


def largest_subject(file_pattern: str) -> int:
    """The largest `subject` id in the shards matching file_pattern (one pass, ids only)."""
    import tensorflow as tf

    from tpgan_tf.input_pipeline import list_shards

    spec = {"subject": tf.io.FixedLenFeature([], tf.int64)}
    ds = tf.data.TFRecordDataset(list_shards(file_pattern)).batch(1024).map(
        lambda s: tf.io.parse_example(s, spec)["subject"])
    return int(ds.reduce(tf.constant(-1, tf.int64),
                         lambda m, s: tf.maximum(m, tf.reduce_max(s))).numpy())


def gray_pairs(batch: dict):
    """A contract batch -> (gray [2B, 128, 128, 1] in [0, 1), labels [2B]): profiles, frontals."""
    import tensorflow as tf

    from tpgan_tf.image_ops import to_gray

    images = tf.concat([to_gray(batch["image"]), to_gray(batch["frontal"])], axis=0)
    labels = tf.concat([batch["label"], batch["label"]], axis=0)
    return images, labels


def reinitialise_for_training(lightcnn) -> None:
    """He-normal kernels and zero biases for every conv / dense layer, and zero kernels for
    the second conv of every residual pair (so each pair starts as the identity).

    build_lightcnn uses the TP-GAN initialisers (normal, stddev 0.02), which are meant for
    weights that are loaded afterwards; through 29 layers they shrink the signal so much that
    training from them does not start (loss stays at chance). Plain He init instead doubles
    the variance at every residual add (10 pairs, no batch norm) and the loss explodes.
    """
    import keras
    import numpy as np

    from tpgan_tf.lightcnn import LAYER_NAMES

    for name in LAYER_NAMES:  # seeded by keras.utils.set_random_seed in `pretrain`
        layer = lightcnn.get_layer(name)
        second_of_pair = "_" in name and int(name.split("_")[1]) % 2 == 0  # conv3_2, conv3_4
        kernel = (np.zeros(layer.kernel.shape, np.float32) if second_of_pair
                  else keras.initializers.HeNormal()(layer.kernel.shape))
        layer.kernel.assign(kernel)
        layer.bias.assign(np.zeros(layer.bias.shape, np.float32))


def build_classifier(width: float, num_classes: int):
    """(lightcnn, classifier): the trainable Light-CNN and a model gray -> class logits."""
    import keras

    from tpgan_tf.lightcnn import build_lightcnn

    lightcnn = build_lightcnn(width)
    lightcnn.trainable = True  # frozen only inside TP-GAN
    reinitialise_for_training(lightcnn)
    inputs = keras.Input((128, 128, 1), name="gray")
    _, feature = lightcnn(inputs)
    x = keras.layers.Dropout(0.5, name="fc_dropout")(feature)
    logits = keras.layers.Dense(num_classes, name="fc2")(x)
    return lightcnn, keras.Model(inputs, logits, name="lightcnn_classifier")


def rank1_unseen(lightcnn, file_pattern: str, max_pairs: int) -> dict | None:
    """Rank-1 identification on the pairs of `file_pattern`: each profile against one frontal
    per subject (the first seen), cosine similarity of the Light-CNN feature."""
    import numpy as np
    import tensorflow as tf

    from tpgan_tf.input_pipeline import make_dataset

    if max_pairs <= 0 or not tf.io.gfile.glob(file_pattern):
        return None
    ds = make_dataset(file_pattern, 50, shuffle=False, repeat=False, drop_remainder=False,
                      deterministic=True)
    feats_p, feats_f, labels = [], [], []
    seen = 0
    for batch in ds:
        gray, _ = gray_pairs(batch)
        _, feat = lightcnn(gray, training=False)
        n = batch["label"].shape[0]
        feats_p.append(feat[:n].numpy())
        feats_f.append(feat[n:].numpy())
        labels.append(batch["label"].numpy())
        seen += n
        if seen >= max_pairs:
            break
    p, f, y = (np.concatenate(a)[:max_pairs] for a in (feats_p, feats_f, labels))
    gallery_ids, first = np.unique(y, return_index=True)
    gallery = f[first]
    unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)  # noqa
    sims = unit(p) @ unit(gallery).T
    predicted = gallery_ids[np.argmax(sims, axis=1)]
    return {"rank1": float(np.mean(predicted == y)), "probes": int(len(y)),
            "subjects": int(len(gallery_ids)), "chance": 1.0 / len(gallery_ids)}


def pretrain(data_dir: str, output: str, width: float = 1.0, num_steps: int = 2000,
             batch_size: int = 32, learning_rate: float = 1e-3, num_classes: int = 0,
             eval_examples: int = 300, log_every: int = 50, seed: int = 2017,
             log=None) -> dict:
    """Trains and writes `output`; returns a summary dict (loss, accuracy, rank-1 checks)."""
    import keras
    import tensorflow as tf

    from tpgan_tf.input_pipeline import make_dataset
    from tpgan_tf.lightcnn import save_h5_weights

    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    keras.utils.set_random_seed(seed)
    train_pattern = os.path.join(data_dir, "train-*.tfrecord")
    test_pattern = os.path.join(data_dir, "test-*.tfrecord")
    if num_classes <= 0:
        num_classes = largest_subject(train_pattern) + 1
    lightcnn, classifier = build_classifier(width, num_classes)
    before = rank1_unseen(lightcnn, test_pattern, eval_examples)
    optimizer = keras.optimizers.Adam(learning_rate)
    variables = classifier.trainable_variables
    optimizer.build(variables)
    ds = make_dataset(train_pattern, batch_size, yaw_low=0, yaw_high=90, seed=seed)

    @tf.function
    def step(batch):
        images, labels = gray_pairs(batch)
        tf.debugging.assert_less(labels, num_classes,
                                 message=f"subject id >= --num_classes={num_classes}")
        with tf.GradientTape() as tape:
            logits = classifier(images, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(
            tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32))
        return loss, accuracy

    t0 = time.perf_counter()
    window, last = [], (float("nan"), float("nan"))
    for i, batch in enumerate(ds.take(num_steps), start=1):
        loss, acc = step(batch)
        window.append((float(loss), float(acc)))
        if i % log_every == 0 or i == num_steps:
            mean_loss = sum(w[0] for w in window) / len(window)
            mean_acc = sum(w[1] for w in window) / len(window)
            rate = i * 2 * batch_size / (time.perf_counter() - t0)
            log(f"step {i}/{num_steps} | loss {mean_loss:.4f} | train accuracy {mean_acc:.3f} "
                f"| {rate:.1f} images/s")
            last = (mean_loss, mean_acc)
            window = []
    after = rank1_unseen(lightcnn, test_pattern, eval_examples)
    lightcnn.trainable = False
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    save_h5_weights(lightcnn, output)
    summary = {"output": output, "width": width, "num_classes": num_classes,
               "steps": num_steps, "final_loss": last[0], "final_train_accuracy": last[1],
               "seconds": round(time.perf_counter() - t0, 1),
               "rank1_unseen_before": before, "rank1_unseen_after": after}
    log(json.dumps(summary))
    return summary


def main(argv):
    del argv
    if not FLAGS.data_dir:
        raise app.UsageError("--data_dir is required")
    try:
        summary = pretrain(FLAGS.data_dir, FLAGS.output, FLAGS.width, FLAGS.num_steps,
                           FLAGS.batch_size, FLAGS.learning_rate, FLAGS.num_classes,
                           FLAGS.eval_examples, FLAGS.log_every, FLAGS.seed)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
