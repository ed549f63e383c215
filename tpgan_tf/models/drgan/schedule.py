"""DR-GAN's D:G update schedules (drgan spec 4.1, config train.schedule) and the identity
pre-training phase (spec 4.2, train.pretrain_d).

An iteration of the training loop is one of:
  * pre-training (the first train.pretrain_iterations iterations when train.pretrain_d):
    one identity step of D, no GAN;
  * a GAN iteration, counted from 0 after the pre-training, whose D and G steps are:
      "alternate": 1 D step, then 1 G step;
      "adaptive":  1 D step, then 1 G step, or train.adaptive_g_steps (4) when D's mean
                   accuracy in that D step reached train.adaptive_accuracy (0.9) (kayamin's
                   reading of "update G more when D is strong" [unverified]);
      "official":  even GAN iterations D then G, odd ones G only, plus one more G step every
                   10th (the code's logging call runs the G optimiser too): 5 D : 11 G per 10.
The plan depends only on the iteration counter (and on the D step just run), so a resumed
run follows the same plan.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one iteration runs: pretrain (identity step only), copy_trunk (copy D's identity
    trunk into G_enc first: the first GAN iteration after pre-training), d_step, g_steps
    (None for "adaptive": decided by `adaptive_g_steps` after the D step)."""

    pretrain: bool = False
    copy_trunk: bool = False
    d_step: bool = True
    g_steps: int | None = 1


def gan_start(train) -> int:
    """The first GAN iteration (after the identity pre-training, if any)."""
    return train.pretrain_iterations if train.pretrain_d else 0


def plan(train, iteration: int) -> Plan:
    """The Plan of loop iteration `iteration` (0-based, before it runs) under config `train`."""
    start = gan_start(train)
    if iteration < start:
        return Plan(pretrain=True, d_step=False, g_steps=0)
    k = iteration - start
    copy = bool(train.pretrain_d) and k == 0
    if train.schedule == "alternate":
        return Plan(copy_trunk=copy, d_step=True, g_steps=1)
    if train.schedule == "adaptive":
        return Plan(copy_trunk=copy, d_step=True, g_steps=None)
    if train.schedule == "official":
        return Plan(copy_trunk=copy, d_step=k % 2 == 0, g_steps=2 if k % 10 == 0 else 1)
    raise ValueError(f"unknown train.schedule {train.schedule!r}")


def adaptive_g_steps(train, d_accuracy: float) -> int:
    """G steps after a D step of mean accuracy d_accuracy ("adaptive" schedule)."""
    return train.adaptive_g_steps if d_accuracy >= train.adaptive_accuracy else 1
