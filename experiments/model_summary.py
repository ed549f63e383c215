"""Builds the networks of a model's config preset and prints their trainable parameter counts.

    python -m experiments.model_summary --model=tpgan --config=paper
    python -m experiments.model_summary --model=drgan --config=multi
    python -m experiments.model_summary --model=tpgan --config=demo --override=model.width=0.5

The last line of the output is JSON: {"model", "config", "counts": {part: params}, and, where
the model's description gives counts for this config, "matches_spec": true/false}. For TP-GAN
`paper` the counts equal its tpgan spec 2.7 (generator 157,503,770; discriminator 13,357,441).
"""
from __future__ import annotations

import json

from absl import app, flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    common.define_model_flags()
    flags.adopt_module_key_flags(common)  # --model, --config, ... listed by --help too


def parameter_counts(model: str, preset: str, overrides=()) -> tuple[dict, dict, object]:
    """(counts, expected counts, config) of a preset's randomly initialised networks."""
    from tpgan_tf.core.runner import load_trained

    task, cfg, _ = load_trained(None, preset, overrides, model)
    return task.parameter_counts(), task.expected_parameter_counts(), cfg


def main(argv):
    del argv
    try:
        counts, expected, cfg = parameter_counts(FLAGS.model, FLAGS.config or "paper",
                                                 common.overrides())
    except common.USER_ERRORS as e:
        common.fail(e)
    width = max(len(k) for k in counts)
    print(f"{cfg.task} networks of config '{cfg.name}':")
    for key, value in counts.items():
        note = ""
        if key in expected:
            note = "  = spec" if expected[key] == value else f"  != spec ({expected[key]:,})"
        print(f"  {key:<{width}}  {value:>13,}{note}")
    result = {"model": cfg.task, "config": cfg.name, "counts": counts}
    if expected:
        result["matches_spec"] = all(counts[k] == v for k, v in expected.items())
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    define_flags()
    app.run(main)
