"""The model registry: every sub-package of `tpgan_tf.models` registers its task and config.

A model registers itself on import:

    register_task("drgan", DrganTask)                       # tpgan_tf/models/drgan/task.py
    register_config("drgan", DrganConfig, {"paper": ...})  # tpgan_tf/models/drgan/config.py

and the shared code finds it by name (`get_task("drgan")`). `load_models()` imports every
sub-package of tpgan_tf.models, so adding a model means adding a sub-package, nothing else.
"""
from __future__ import annotations

import importlib
import pkgutil

_TASKS: dict[str, type] = {}
_LOADED = False


def register_task(name: str, task_cls: type) -> None:
    """Registers the Task class of model `name` (see tpgan_tf/core/task.py)."""
    _TASKS[name] = task_cls


def load_models() -> None:
    """Imports every sub-package of tpgan_tf.models once (they register themselves)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import tpgan_tf.models as models

    for info in pkgutil.iter_modules(models.__path__):
        if info.ispkg:
            importlib.import_module(f"{models.__name__}.{info.name}")


def get_task(name: str) -> type:
    """The Task class registered as `name`; ValueError lists the registered ones."""
    load_models()
    if name not in _TASKS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(_TASKS)}")
    return _TASKS[name]


def task_names() -> list[str]:
    load_models()
    return sorted(_TASKS)
