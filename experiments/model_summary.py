"""Builds the TP-GAN models of a config preset and prints their trainable parameter counts.

    python -m experiments.model_summary --config=paper
    python -m experiments.model_summary --config=demo --override=model.width=0.5

The last line of the output is JSON: {"config": ..., "counts": {part: params}, "spec": {...}}.
For `paper` the counts equal spec 2.7 (generator 157,503,770; discriminator 13,357,441).
Light-CNN is frozen; its row counts the weights it holds (none of them trainable).
"""
from __future__ import annotations

import json

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("config", "paper", "Config preset: paper, demo or tiny.")
    flags.DEFINE_multi_string("override", [], "section.field=value overrides, e.g. model.width=0.5.")


# Spec 2.7 (trainable parameters of the original, BN counted as gamma + beta).
SPEC_2_7 = {"encoder": 39_420_672, "decoder": 49_197_818, "identity_head": 87_380,
            "local_eye_left": 17_199_043, "local_eye_right": 17_200_771,
            "local_nose": 17_199_043, "local_mouth": 17_199_043, "local_total": 68_797_900,
            "generator": 157_503_770, "discriminator": 13_357_441}


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def parameter_counts(cfg) -> dict:
    """Builds G, D and Light-CNN for `cfg` and returns {part: parameter count}."""
    from tpgan_tf.discriminator import Discriminator
    from tpgan_tf.generator import Generator
    from tpgan_tf.lightcnn import build_lightcnn

    g = Generator.from_model_config(cfg.model).build_for_batch(1)
    d = Discriminator.from_model_config(cfg.model).build_for_batch(1)
    lightcnn = build_lightcnn(cfg.model.lightcnn_width)
    counts = {"encoder": _count(g.encoder.trainable_weights),
              "decoder": _count(g.decoder.trainable_weights),
              "identity_head": _count(g.identity_head.trainable_weights)}
    for part, net in g.local.nets.items():
        counts[f"local_{part}"] = _count(net.trainable_weights)
    counts["local_total"] = _count(g.local.trainable_weights)
    counts["generator"] = _count(g.trainable_weights)
    counts["discriminator"] = _count(d.trainable_weights)
    counts["lightcnn_frozen"] = _count(lightcnn.weights)
    counts["lightcnn_trainable"] = _count(lightcnn.trainable_weights)
    return counts


def main(argv):
    del argv
    from tpgan_tf.config import apply_overrides, get_config

    cfg = apply_overrides(get_config(FLAGS.config), FLAGS.override)
    counts = parameter_counts(cfg)
    width = max(len(k) for k in counts)
    print(f"TP-GAN models of config '{cfg.name}' (width {cfg.model.width}, "
          f"Light-CNN width {cfg.model.lightcnn_width}):")
    for key, value in counts.items():
        spec = SPEC_2_7.get(key)
        note = ""
        if spec is not None and cfg.model.width == 1.0:
            note = "  = spec 2.7" if spec == value else f"  != spec 2.7 ({spec:,})"
        print(f"  {key:<{width}}  {value:>13,}{note}")
    result = {"config": cfg.name, "counts": counts}
    if cfg.model.width == 1.0:
        result["matches_spec_2_7"] = all(counts[k] == v for k, v in SPEC_2_7.items())
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    define_flags()
    app.run(main)
