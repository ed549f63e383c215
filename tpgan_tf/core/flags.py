"""Command-line flags that models add to the shared scripts (experiments/*.py).

A script defines its own flags (--model, --config, --model_dir, ...) and then
`define_task_flags(purpose)`: every registered task's `command_flags(purpose)` (weight files
for "train", output options for "export", protocol options for "evaluate", ...). Two models
may declare the same flag (e.g. --lightcnn_weights); it is defined once. The script hands the
chosen model only the values of the flags it declared (`task_flag_values`).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from absl import flags as absl_flags

from tpgan_tf.core import registry


@dataclasses.dataclass(frozen=True)
class FlagSpec:
    """One flag: kind is "string", "enum", "float", "integer", "bool" or "multi_string"."""

    name: str
    kind: str
    default: Any
    help: str
    enum_values: tuple = ()


def define(spec: FlagSpec, flag_values=absl_flags.FLAGS) -> None:
    """Defines `spec` unless a flag of that name exists already."""
    if spec.name in flag_values:
        return
    if spec.kind == "enum":
        absl_flags.DEFINE_enum(spec.name, spec.default, list(spec.enum_values), spec.help,
                               flag_values=flag_values)
    else:
        define_fn = getattr(absl_flags, f"DEFINE_{spec.kind}")
        define_fn(spec.name, spec.default, spec.help, flag_values=flag_values)


def define_task_flags(purpose: str, flag_values=absl_flags.FLAGS) -> None:
    """Defines the `purpose` flags of every registered model."""
    for name in registry.task_names():
        for spec in registry.get_task(name).command_flags(purpose):
            define(spec, flag_values)


def task_flag_values(task_name: str, purpose: str, flag_values=absl_flags.FLAGS) -> dict:
    """{flag name: value} of the `purpose` flags model `task_name` declared."""
    specs = registry.get_task(task_name).command_flags(purpose)
    return {s.name: flag_values[s.name].value for s in specs}
