"""Trains Light-CNN-29 as a subject classifier on pair records and writes the identity-network
.h5 that the models load as --lightcnn_weights (experiments/pretrain_lightcnn.py).

Public Light-CNN weights cannot be downloaded at run time, so this makes our own from the
training split (`<data_dir>/train-*.tfrecord`, any pose): every pair gives two gray images
(mean of RGB, tpgan spec 4.2/4.4: the profile and the frontal, in [0, 1) as uint8 / 256,
mirrored to positive yaw as TP-GAN's pipeline feeds them) with the subject id as the class.
The network is tpgan_tf.identity.lightcnn.build_lightcnn (the frozen identity net) plus a
classifier head of its own (dropout 0.5 and a linear `fc2`, as in Light-CNN's training
recipe) that is thrown away; only the 30 layers of LAYER_NAMES are written.

If `<data_dir>/test-*.tfrecord` exists, it also reports rank-1 identification of unseen
subjects (profile probes against one frontal per subject, cosine similarity of the 256-d
feature) before and after training: the property the identity loss relies on.
"""
from __future__ import annotations

import json
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from tpgan_tf.core.distribution import enable_determinism
from tpgan_tf.data import pipeline
from tpgan_tf.data.pair_records import decode_faces
from tpgan_tf.evaluation.metrics import rank1_identification
from tpgan_tf.faces.image_ops import to_gray
from tpgan_tf.identity.lightcnn import LAYER_NAMES, build_lightcnn
from tpgan_tf.identity.weights import save_h5_weights


def largest_subject(file_pattern: str) -> int:
    """The largest `subject` id in the shards matching file_pattern (one pass, ids only)."""
    spec = {"subject": tf.io.FixedLenFeature([], tf.int64)}
    ds = tf.data.TFRecordDataset(pipeline.list_shards(file_pattern)).batch(1024).map(
        lambda s: tf.io.parse_example(s, spec)["subject"])
    return int(ds.reduce(tf.constant(-1, tf.int64),
                         lambda m, s: tf.maximum(m, tf.reduce_max(s))).numpy())


def face_pairs(file_pattern: str, batch_size: int, *, train: bool, seed: int | None = None
               ) -> tf.data.Dataset:
    """Batches {"profile", "frontal": float [B,128,128,3] in [0, 1), "subject" [B]}, mirrored
    to positive yaw (tpgan spec 1.1); shuffled and repeating when `train`. The order depends
    only on the seed (deterministic interleave and map), so a rerun sees the same batches."""
    ds = pipeline.read_records(file_pattern, shuffle=train, deterministic=True, seed=seed)
    ds = ds.map(decode_faces, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if train:
        ds = ds.shuffle(2048, seed=seed).repeat()

    def to_float(batch):
        flip = (batch["yaw"] < 0)[:, None, None, None]
        out = {"subject": batch["subject"]}
        for side in ("profile", "frontal"):
            image = tf.cast(batch[side], tf.float32) / 256.0
            out[side] = tf.where(flip, tf.reverse(image, axis=[2]), image)
        return out

    ds = ds.batch(batch_size, drop_remainder=train).map(to_float)
    return ds.prefetch(tf.data.AUTOTUNE)


def gray_pairs(batch: dict):
    """A face_pairs batch -> (gray [2B, 128, 128, 1], labels [2B]): profiles, then frontals."""
    images = tf.concat([to_gray(batch["profile"]), to_gray(batch["frontal"])], axis=0)
    labels = tf.concat([batch["subject"], batch["subject"]], axis=0)
    return images, labels


def reinitialise_for_training(lightcnn) -> None:
    """He-normal kernels and zero biases for every conv / dense layer, and zero kernels for
    the second conv of every residual pair (so each pair starts as the identity).

    build_lightcnn uses the TP-GAN initialisers (normal, stddev 0.02), which are meant for
    weights that are loaded afterwards; through 29 layers they shrink the signal so much that
    training from them does not start (loss stays at chance). Plain He init instead doubles
    the variance at every residual add (10 pairs, no batch norm) and the loss explodes.
    """
    for name in LAYER_NAMES:  # seeded by keras.utils.set_random_seed in `pretrain`
        layer = lightcnn.get_layer(name)
        second_of_pair = "_" in name and int(name.split("_")[1]) % 2 == 0  # conv3_2, conv3_4
        kernel = (np.zeros(layer.kernel.shape, np.float32) if second_of_pair
                  else keras.initializers.HeNormal()(layer.kernel.shape))
        layer.kernel.assign(kernel)
        layer.bias.assign(np.zeros(layer.bias.shape, np.float32))


def build_classifier(width: float, num_classes: int):
    """(lightcnn, classifier): the trainable Light-CNN and a model gray -> class logits."""
    lightcnn = build_lightcnn(width)
    lightcnn.trainable = True  # frozen only inside the GANs
    reinitialise_for_training(lightcnn)
    inputs = keras.Input((128, 128, 1), name="gray")
    _, feature = lightcnn(inputs)
    x = keras.layers.Dropout(0.5, name="fc_dropout")(feature)
    logits = keras.layers.Dense(num_classes, name="fc2")(x)
    return lightcnn, keras.Model(inputs, logits, name="lightcnn_classifier")


def rank1_unseen(lightcnn, file_pattern: str, max_pairs: int) -> dict | None:
    """Rank-1 identification on the pairs of `file_pattern`: each profile against one frontal
    per subject (the first seen), cosine similarity of the Light-CNN feature."""
    if max_pairs <= 0 or not tf.io.gfile.glob(file_pattern):
        return None
    feats_p, feats_f, labels = [], [], []
    seen = 0
    for batch in face_pairs(file_pattern, 50, train=False):
        gray, _ = gray_pairs(batch)
        _, feat = lightcnn(gray, training=False)
        n = batch["subject"].shape[0]
        feats_p.append(feat[:n].numpy())
        feats_f.append(feat[n:].numpy())
        labels.append(batch["subject"].numpy())
        seen += n
        if seen >= max_pairs:
            break
    p, f, y = (np.concatenate(a)[:max_pairs] for a in (feats_p, feats_f, labels))
    gallery_ids, first = np.unique(y, return_index=True)
    rank1, _ = rank1_identification(p, y, f[first], gallery_ids)
    return {"rank1": rank1, "probes": int(len(y)), "subjects": int(len(gallery_ids)),
            "chance": 1.0 / len(gallery_ids)}


def pretrain(data_dir: str, output: str, width: float = 1.0, num_steps: int = 2000,
             batch_size: int = 32, learning_rate: float = 1e-3, num_classes: int = 0,
             eval_examples: int = 300, log_every: int = 50, seed: int = 2017,
             log=None) -> dict:
    """Trains and writes `output`; returns a summary dict (loss, accuracy, rank-1 checks).
    Deterministic: seeded initialisation, dropout and data order, and TF's deterministic
    kernels, so the same data and seed give the same .h5 (the demo's baselines depend on it)."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    enable_determinism(seed)
    train_pattern = pipeline.split_pattern(data_dir, "train")
    test_pattern = pipeline.split_pattern(data_dir, "test")
    if num_classes <= 0:
        num_classes = largest_subject(train_pattern) + 1
    lightcnn, classifier = build_classifier(width, num_classes)
    before = rank1_unseen(lightcnn, test_pattern, eval_examples)
    optimizer = keras.optimizers.Adam(learning_rate)
    variables = classifier.trainable_variables
    optimizer.build(variables)
    ds = face_pairs(train_pattern, batch_size, train=True, seed=seed)

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
