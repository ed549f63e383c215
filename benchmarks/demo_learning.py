"""Did the demo learn frontalization? Per-pose L1 and PSNR of img128 against the frontal ground
truth on held-out identities (the `test-*` shards), for the untrained generator, the trained
one, and the trivial baseline "output = the profile input itself" (issue 4, "Measured").

    python -m benchmarks.demo_learning --data_dir=DATA --model_dir=runs/demo \\
        --output_dir=runs/demo/eval

Writes `demo_learning.json`, a markdown table `demo_learning.md` and a picture
`demo_learning.png` (per pose: input | untrained G | trained G | ground truth) to --output_dir.
Images are compared in [0, 1] (G's tanh output clipped to [0, 1]); L1 is the mean absolute
difference per pixel and channel, PSNR = 10 log10(1 / MSE) per image, averaged. The untrained
generator is built from the run's config and seed, like the start of training. BN uses batch
statistics (spec 10.2), so evaluation batches have the training batch size.
"""
from __future__ import annotations

import json
import os

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("data_dir", None, "Directory with test-*.tfrecord.")
    flags.DEFINE_string("model_dir", None, "The training run (checkpoints + config.json).")
    flags.DEFINE_string("output_dir", None, "Where the table and picture go (default "
                                            "<model_dir>/eval).")
    flags.DEFINE_integer("max_batches", 0, "Stop after this many test batches (0 = all).")


def _metrics(pred, target):
    """Per-example (L1, PSNR) of [B, H, W, 3] arrays in [0, 1]."""
    from tpgan_tf.metrics import l1_per_image, psnr

    return l1_per_image(pred, target), psnr(pred, target)


def evaluate(data_dir: str, model_dir: str, output_dir: str, max_batches: int = 0) -> dict:
    import cv2
    import keras
    import numpy as np
    import tensorflow as tf

    from tpgan_tf.generator import Generator
    from tpgan_tf.inference import load_generator
    from tpgan_tf.input_pipeline import make_dataset
    from tpgan_tf.parts import PART_NAMES

    trained, cfg, ckpt = load_generator(model_dir)
    keras.utils.set_random_seed(cfg.train.seed)
    untrained = Generator.from_model_config(cfg.model).build_for_batch(1)
    ds = make_dataset(os.path.join(data_dir, "test-*.tfrecord"), cfg.train.batch_size,
                      yaw_low=cfg.train.yaw_low, yaw_high=cfg.train.yaw_high, shuffle=False,
                      repeat=False, deterministic=True)
    rng = tf.random.Generator.from_seed(1)
    forward = tf.function(lambda g, x: g(x, training=False)["img128"])  # one trace per G
    rows = {}  # |yaw| -> {"baseline": [(l1, psnr)...], "untrained": ..., "trained": ...}
    examples = {}  # |yaw| -> one column of the picture
    for i, batch in enumerate(ds):
        if max_batches and i >= max_batches:
            break
        inputs = {k: batch[k] for k in ("image", *PART_NAMES)}
        inputs["z"] = rng.normal([batch["image"].shape[0], cfg.model.z_dim],
                                 stddev=cfg.model.z_stddev)
        outs = {"untrained": forward(untrained, inputs), "trained": forward(trained, inputs)}
        target = batch["frontal"].numpy()
        preds = {"baseline": batch["image"].numpy()}
        preds.update({k: np.clip(v.numpy(), 0.0, 1.0) for k, v in outs.items()})
        yaws = np.abs(batch["yaw"].numpy())
        scores = {k: _metrics(v, target) for k, v in preds.items()}
        for j, yaw in enumerate(yaws):
            entry = rows.setdefault(int(yaw), {k: [] for k in preds})
            for k in preds:
                entry[k].append((scores[k][0][j], scores[k][1][j]))
            if int(yaw) not in examples:
                examples[int(yaw)] = np.concatenate(
                    [preds["baseline"][j], preds["untrained"][j], preds["trained"][j],
                     target[j]], axis=0)  # a column: 4 x 128 rows
    if not rows:
        raise ValueError(f"{data_dir}: no test pairs in the pose range "
                         f"{cfg.train.yaw_low}..{cfg.train.yaw_high}")
    table = {}
    for yaw in sorted(rows):
        table[yaw] = {"pairs": len(rows[yaw]["baseline"])}
        for k, vals in rows[yaw].items():
            arr = np.array(vals)
            table[yaw][k] = {"l1": float(arr[:, 0].mean()), "psnr": float(arr[:, 1].mean())}
    # The "all" row pools the non-frontal poses: at yaw 0 the input is its own ground truth.
    profiles = [y for y in rows if y > 0] or list(rows)
    overall = {k: {"l1": float(np.mean([v[0] for y in profiles for v in rows[y][k]])),
                   "psnr": float(np.mean([v[1] for y in profiles for v in rows[y][k]]))}
               for k in ("baseline", "untrained", "trained")}
    os.makedirs(output_dir, exist_ok=True)
    result = {"checkpoint": ckpt, "config": cfg.name, "per_yaw": table, "all": overall}
    with open(os.path.join(output_dir, "demo_learning.json"), "w") as f:
        json.dump(result, f, indent=2)
    lines = ["| yaw | pairs | input as output: L1 / PSNR | untrained G | trained G |",
             "|---|---|---|---|---|"]
    for yaw, t in table.items():
        cells = [f"{t[k]['l1']:.4f} / {t[k]['psnr']:.2f} dB"
                 for k in ("baseline", "untrained", "trained")]
        lines.append(f"| {yaw} | {t['pairs']} | " + " | ".join(cells) + " |")
    cells = [f"{overall[k]['l1']:.4f} / {overall[k]['psnr']:.2f} dB"
             for k in ("baseline", "untrained", "trained")]
    lines.append(f"| all > 0 | {sum(table[y]['pairs'] for y in profiles)} | " + " | ".join(cells)
                 + " |")
    with open(os.path.join(output_dir, "demo_learning.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    picture = np.concatenate([examples[y] for y in sorted(examples)], axis=1)
    cv2.imwrite(os.path.join(output_dir, "demo_learning.png"),
                (np.clip(picture, 0, 1)[..., ::-1] * 255.0 + 0.5).astype(np.uint8))
    result["table_markdown"] = "\n".join(lines)
    return result


def main(argv):
    del argv
    if not FLAGS.data_dir or not FLAGS.model_dir:
        raise app.UsageError("--data_dir and --model_dir are required")
    out = FLAGS.output_dir or os.path.join(FLAGS.model_dir, "eval")
    result = evaluate(FLAGS.data_dir, FLAGS.model_dir, out, FLAGS.max_batches)
    print(result["table_markdown"], flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
