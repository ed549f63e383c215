"""train.init_from: start a run (typically FSRGAN, train.gan) from the generator of a trained
FSRNet run. Whether the paper's FSRGAN was fine-tuned from FSRNet is [UNV] and [CS] trains from
scratch (fsrnet spec 6.2), so it is off (empty) by default.

    python -m experiments.train --model=fsrnet --config=gan --data_dir=... \\
        --model_dir=runs/fsrgan --override=train.init_from=runs/fsrnet

Only the generator's weights (and BN statistics) are copied, from the newest complete
checkpoint of the run (or a checkpoint prefix inside one); the discriminator, the optimisers
and the iteration counter start fresh. A run that resumes from its own checkpoint restores
over them, so the copy matters only for the first start.
"""
from __future__ import annotations

import dataclasses
import os

# Model fields that do not shape or change the generator (D only, or distribution).
_NOT_GENERATOR = ("d_num_layers", "bn_synchronized")


def _generator_fields(cfg) -> dict:
    fields = {k: v for k, v in dataclasses.asdict(cfg.model).items() if k not in _NOT_GENERATOR}
    return {**fields, "num_priors (K)": cfg.num_priors}


def check_init_from(cfg) -> str | None:
    """The checkpoint prefix train.init_from names, or None when it is empty. FileNotFoundError
    or ValueError (one line) when it is no FSRNet run with a generator of cfg's shape."""
    from tpgan_tf.core.checkpointing import resolve_checkpoint
    from tpgan_tf.core.config import load_config

    path = cfg.train.init_from
    if not path:
        return None
    if not os.path.exists(path) and not os.path.exists(path + ".index"):
        raise FileNotFoundError(f"train.init_from={path}: no such run directory or checkpoint")
    ckpt = resolve_checkpoint(path)
    run_dir = path if os.path.isdir(path) else os.path.dirname(path)
    source = load_config(run_dir)
    if source.task != "fsrnet":
        raise ValueError(f"train.init_from={path}: a {source.task!r} run, not an FSRNet one")
    mine, theirs = _generator_fields(cfg), _generator_fields(source)
    differ = [f"{k} {theirs[k]!r} there, {mine[k]!r} here" for k in mine if mine[k] != theirs[k]]
    if differ:
        raise ValueError(f"train.init_from={path}: its generator differs from this config's: "
                         + "; ".join(differ))
    return ckpt


def init_generator(generator, cfg, log=None) -> str | None:
    """Restores the built `generator` from train.init_from (check_init_from); returns the
    checkpoint prefix used, or None when train.init_from is empty."""
    from tpgan_tf.core.checkpointing import restore_networks

    ckpt = check_init_from(cfg)
    if ckpt:
        restore_networks({"generator": generator}, ckpt)
        if log is not None:
            log(f"generator initialised from {ckpt} (train.init_from); the discriminator and "
                f"the optimisers start fresh")
    return ckpt
