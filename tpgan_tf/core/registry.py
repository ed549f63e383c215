"""The model registry: one name -> its Task class, config class and presets.

A model is a sub-package of `tpgan_tf.models` whose task module registers itself with one
decorator (tpgan_tf/models/tpgan/task.py):

    @register_model("tpgan", config=TpganConfig, presets=PRESETS)
    class TpganTask(Task): ...

The shared code finds a model by name (`get_model("tpgan")`), importing only that model's
sub-package; `model_names()` lists the sub-packages without importing any, so a script's
`--help` loads no model it does not run. A model defined elsewhere (a plugin, a test's toy
model) registers the same way once its module is imported.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Callable


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows of a model."""

    name: str
    task: type  # the core.task.Task subclass
    config: type  # its core.config.ExperimentConfig subclass
    presets: dict  # preset name -> factory of a config; "paper" is the faithful default


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, config: type, presets: dict[str, Callable]):
    """Class decorator registering a Task subclass as model `name` with its config class and
    presets (name -> factory); the task's `name` attribute is set to `name`."""
    if not presets:
        raise ValueError(f"model {name!r} registers no presets")

    def register(task_cls: type) -> type:
        task_cls.name = name
        _MODELS[name] = ModelEntry(name, task_cls, config, dict(presets))
        return task_cls
    return register


def model_names() -> list[str]:
    """Every model: the sub-packages of tpgan_tf.models (not imported) and any model
    registered from elsewhere."""
    import tpgan_tf.models as models

    found = {info.name for info in pkgutil.iter_modules(models.__path__) if info.ispkg}
    return sorted(found | set(_MODELS))


def get_model(name: str) -> ModelEntry:
    """The entry of model `name`, importing its sub-package on first use; ValueError lists
    the known models."""
    if name not in _MODELS and name in model_names():
        importlib.import_module(f"tpgan_tf.models.{name}")
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {model_names()}")
    return _MODELS[name]
