"""Did the TP-GAN demo learn frontalization? Per-pose L1 and PSNR of img128 against the frontal
ground truth on held-out identities (the `test-*` shards), for the untrained generator, the
trained one, and the trivial baseline "output = the profile input itself".

    python -m benchmarks.demo_learning --data_dir=DATA --model_dir=runs/demo/train \\
        --output_dir=runs/demo/eval

Both generators go through the evaluation protocol's own loop
(tpgan_tf/models/tpgan/evaluation.run_protocol, image quality only: no identity network), so
the numbers are those of `experiments.evaluate`, restricted to the training pose range.
Writes `demo_learning.json`, `demo_learning.md` (the table) and `demo_learning.png` (per pose:
input | untrained G | trained G | ground truth). The untrained generator is built from the
run's config and seed, like the start of training.
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
    flags.DEFINE_integer("max_examples", 0, "Only the first N test pairs (0 = all).")


def evaluate(data_dir: str, model_dir: str, output_dir: str, max_examples: int = 0) -> dict:
    import keras
    import numpy as np

    from tpgan_tf.core.runner import load_trained
    from tpgan_tf.data.pipeline import split_pattern
    from tpgan_tf.evaluation import sheets
    from tpgan_tf.models.tpgan.evaluation import run_protocol

    trained, cfg, ckpt = load_trained(model_dir)
    keras.utils.set_random_seed(cfg.train.seed)
    untrained, _, _ = load_trained(None, cfg.name, task=cfg.task)
    pattern = split_pattern(data_dir, "test")
    runs = {name: run_protocol(pattern, task.generator, None, batch_size=cfg.train.batch_size,
                               z_dim=cfg.model.z_dim, max_examples=max_examples, sheet_rows=1)
            for name, task in (("untrained", untrained), ("trained", trained))}
    yaw = np.abs([r.yaw for r in runs["trained"].records])
    in_range = (yaw >= cfg.train.yaw_low) & (yaw <= cfg.train.yaw_high)
    series = {"baseline": runs["trained"].quality, "untrained": runs["untrained"].quality,
              "trained": runs["trained"].quality}
    method = {"baseline": "profile", "untrained": "tpgan", "trained": "tpgan"}
    table = {}
    for pose in sorted(set(yaw[in_range].tolist())):
        at = yaw == pose
        table[int(pose)] = {"pairs": int(at.sum()), **{
            k: {q: float(np.mean(series[k][q][method[k]][at])) for q in ("l1", "psnr")}
            for k in series}}
    moved = in_range & (yaw > 0)
    overall = {k: {q: float(np.mean(series[k][q][method[k]][moved])) for q in ("l1", "psnr")}
               for k in series}
    lines = ["| yaw | pairs | input as output: L1 / PSNR | untrained G | trained G |",
             "|---|---|---|---|---|"]
    cell = lambda t, k: f"{t[k]['l1']:.4f} / {t[k]['psnr']:.2f} dB"  # noqa: E731
    for pose, t in table.items():
        lines.append(f"| {pose} | {t['pairs']} | " + " | ".join(
            cell(t, k) for k in ("baseline", "untrained", "trained")) + " |")
    lines.append(f"| all > 0 | {int(moved.sum())} | " + " | ".join(
        cell(overall, k) for k in ("baseline", "untrained", "trained")) + " |")
    os.makedirs(output_dir, exist_ok=True)
    result = {"checkpoint": ckpt, "config": cfg.name, "per_yaw": table, "all": overall,
              "table_markdown": "\n".join(lines)}
    with open(os.path.join(output_dir, "demo_learning.json"), "w") as f:
        json.dump(result, f, indent=2)
    with open(os.path.join(output_dir, "demo_learning.md"), "w") as f:
        f.write(result["table_markdown"] + "\n")
    columns = []
    for pose in table:
        t, u = runs["trained"].samples[pose][0], runs["untrained"].samples[pose][0]
        columns.append(np.concatenate([t["input"], u["output"], t["output"], t["target"]]))
    sheets.write_png(os.path.join(output_dir, "demo_learning.png"), np.concatenate(columns, 1))
    return result


def main(argv):
    del argv
    if not FLAGS.data_dir or not FLAGS.model_dir:
        raise app.UsageError("--data_dir and --model_dir are required")
    out = FLAGS.output_dir or os.path.join(FLAGS.model_dir, "eval")
    result = evaluate(FLAGS.data_dir, FLAGS.model_dir, out, FLAGS.max_examples)
    print(result["table_markdown"], flush=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
