"""Configuration: dataclass sections, named presets per model, overrides, config.json.

Every model defines its config as a subclass of `ExperimentConfig` whose fields are dataclass
*sections* (model, loss, train, data, ...), registers it with its presets, and gets for free:
validation, `section.field=value` overrides (absl `--override`), JSON round trips and the
`<model_dir>/config.json` of a run. The `runtime` section (strategy, precision, XLA,
determinism) and the `eval` section (the options of `experiments.evaluate`) belong to every
config, so the choices a run was trained and evaluated with are saved with it. Files a model
reads (weights of frozen helper networks) and its export options are config fields too, in
the model's own `weights` and `export` sections.

    cfg = get_config("paper", "tpgan")                 # a model's preset (core/registry.py)
    cfg = apply_overrides(cfg, ["model.bn_mode=inference", "runtime.jit_compile=true"])
    save_config(cfg, model_dir); cfg = load_config(model_dir)

A section may define `validate(self)` raising ValueError; the config calls it for every
section, then its own `check(self)` hook for rules that span sections.
"""
from __future__ import annotations

import dataclasses
import json
import os
import typing
from typing import Any, Iterable

from tpgan_tf.core import files

STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
CONFIG_FILENAME = "config.json"  # the resolved config of a run, in its model_dir


@dataclasses.dataclass
class RuntimeConfig:
    """How a run executes (not what it computes); saved with the run like everything else."""

    strategy: str = "default"  # default | mirrored (local devices) | multi_worker (TF_CONFIG)
    mixed_precision: str = "float32"  # the faithful default of every model
    jit_compile: bool = False  # XLA-compile each step's forward + backward pass
    deterministic: bool = False  # deterministic kernels, seeds and data order
    # Batch norm statistics over the global batch (all replicas), so that N devices compute
    # what one device does. None = on exactly when the strategy has several replicas.
    sync_batch_norm: bool | None = None
    # glibc keeps freed memory (tpgan_tf/core/memory.py): no result changes, measured 15 %
    # faster for TP-GAN `paper` in float32 on 2 CPU cores (README "Training speed").
    keep_freed_memory: bool = True

    def validate(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"runtime.strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.mixed_precision not in PRECISIONS:
            raise ValueError(f"runtime.mixed_precision must be one of {PRECISIONS}, got "
                             f"{self.mixed_precision!r}")


@dataclasses.dataclass
class TrainLoopConfig:
    """The fields of a `train` section that the shared loop reads; a model's train section
    subclasses it (with its own defaults) and adds its optimiser fields."""

    batch_size: int = 10  # global batch
    num_iterations: int = 100_000
    checkpoint_every: int = 300
    keep_checkpoints: int = 2
    log_every: int = 5
    image_summary_every: int = 150
    seed: int = 2017

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"train.batch_size must be >= 1, got {self.batch_size}")
        for name in ("num_iterations", "checkpoint_every", "keep_checkpoints", "log_every",
                     "image_summary_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")


@dataclasses.dataclass
class EvalConfig:
    """The options every model's evaluation takes (`experiments.evaluate`); a model's `eval`
    section subclasses it and adds its protocol's own."""

    split: str = "test"  # which records (<split>-*.tfrecord) are evaluated
    batch_size: int = 16
    max_examples: int = 0  # > 0: only the first N examples
    z_seed: int = 2017  # seed of the stateless noise draws (models with noise)
    sheet_rows: int = 6  # examples per picture sheet

    def validate(self) -> None:
        if self.batch_size < 1 or self.max_examples < 0 or self.sheet_rows < 0:
            raise ValueError("need eval.batch_size >= 1, eval.max_examples >= 0 and "
                             f"eval.sheet_rows >= 0, got {self.batch_size}, "
                             f"{self.max_examples}, {self.sheet_rows}")


@dataclasses.dataclass
class ExperimentConfig:
    """Base of every model's config. Subclasses add dataclass sections as fields; one of them
    must be `train` (a TrainLoopConfig). `name` is the preset the config started from and
    `task` the registered model it belongs to."""

    name: str = "paper"
    task: str = ""
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)

    # -- structure
    @classmethod
    def section_types(cls) -> dict[str, type]:
        """{section name: its dataclass type}, in field order."""
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls)
                if dataclasses.is_dataclass(hints[f.name])}

    def sections(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.section_types()}

    # -- checks
    def check(self) -> None:
        """Rules that span several sections; subclasses override it (default: none)."""

    def validate(self) -> "ExperimentConfig":
        """Raises ValueError naming the field when a value makes no sense; returns self."""
        if not isinstance(getattr(self, "train", None), TrainLoopConfig):
            raise TypeError(f"{type(self).__name__} needs a `train` section derived from "
                            "tpgan_tf.core.config.TrainLoopConfig")
        for section in self.sections().values():
            if hasattr(section, "validate"):
                section.validate()
        self.check()
        return self

    # -- serialisation
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def migrate(cls, d: dict[str, Any]) -> dict[str, Any]:
        """Hook: rewrites a dict saved by an older version (default: unchanged)."""
        return d

    @classmethod
    def claims_untagged(cls, d: dict[str, Any]) -> bool:
        """Hook: True when a config dict without a "task" key (written before the model
        registry) is this model's (default: False)."""
        return False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExperimentConfig":
        """The config of a dict written by to_dict; ValueError names an unknown key."""
        d = cls.migrate(json.loads(json.dumps(d)))
        types = cls.section_types()
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"config for task {cls.__name__}: unknown keys {unknown}")
        kwargs = {}
        for name in known & set(d):
            if name in types:
                fields = {f.name for f in dataclasses.fields(types[name])}
                bad = sorted(set(d[name]) - fields)
                if bad:
                    raise ValueError(f"config section {name!r} has no fields {bad}; fields "
                                     f"are {sorted(fields)}")
                kwargs[name] = types[name](**d[name])
            else:
                kwargs[name] = d[name]
        return cls(**kwargs).validate()


# ---------------------------------------------------------------------- presets
def _entry(task: str):
    from tpgan_tf.core import registry  # the models register themselves on import

    return registry.get_model(task)


def presets(task: str) -> list[str]:
    """The preset names of model `task`."""
    return sorted(_entry(task).presets)


def get_config(name: str, task: str) -> ExperimentConfig:
    """A fresh copy of preset `name` of model `task`."""
    table = _entry(task).presets
    if name not in table:
        raise ValueError(f"unknown config preset {name!r} for model {task!r}; choose one of "
                         f"{sorted(table)}")
    cfg = table[name]()
    cfg.name, cfg.task = name, task
    return cfg.validate()


def config_from_dict(d: dict[str, Any]) -> ExperimentConfig:
    """The config a dict describes; its "task" key names the model (a dict without one, of a
    version before the registry, goes to the one model whose config claims it)."""
    task = d.get("task")
    if not task:
        from tpgan_tf.core import registry

        claims = [name for name in registry.model_names()
                  if registry.get_model(name).config.claims_untagged(d)]
        if len(claims) != 1:
            raise ValueError(f'the config names no model (no "task" key) and '
                             f'{"no model" if not claims else "several models"} claim it; add '
                             f'"task": "<model>" to it')
        task = claims[0]
    return _entry(task).config.from_dict({**d, "task": task})


def copy_config(cfg: ExperimentConfig) -> ExperimentConfig:
    return type(cfg).from_dict(cfg.to_dict())


def save_config(cfg: ExperimentConfig, model_dir: str) -> str:
    """Writes cfg as <model_dir>/config.json (atomically) and returns the path."""
    os.makedirs(model_dir, exist_ok=True)
    path = os.path.join(model_dir, CONFIG_FILENAME)
    files.write_text_atomic(path, cfg.to_json())
    return path


def load_config(model_dir: str) -> ExperimentConfig:
    """The config a run saved in <model_dir>/config.json; FileNotFoundError names the path."""
    path = os.path.join(model_dir, CONFIG_FILENAME)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no saved config; is {model_dir!r} a training model_dir?")
    with open(path) as f:
        try:
            d = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON: {e}") from None
    return config_from_dict(d)


# ---------------------------------------------------------------------- overrides
def _parse_value(text: str, current: Any) -> Any:
    if isinstance(current, bool) or current is None and text.lower() in (
            "true", "false", "yes", "no", "on", "off"):
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected a boolean, got {text!r}")
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    if isinstance(current, (tuple, list)):
        items = [t.strip() for t in text.split(",") if t.strip()]
        kind = type(current[0]) if current else str
        return type(current)(kind(t) for t in items)
    if current is None and text.lower() in ("none", "null"):
        return None
    return text


def override_keys(overrides: Iterable[str]) -> set[str]:
    """The `section.field` keys an override list sets."""
    return {o.split("=", 1)[0].strip() for o in overrides if "=" in o}


def apply_overrides(cfg: ExperimentConfig, overrides: Iterable[str]) -> ExperimentConfig:
    """Applies `section.field=value` strings to a copy of cfg.

    Values are parsed to the type of the field they replace (bools accept true/false/1/0,
    tuples take comma-separated items). Unknown sections or fields raise ValueError with the
    offending override in the message.
    """
    cfg = copy_config(cfg)
    sections = cfg.section_types()
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} is not of the form section.field=value")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        if len(parts) != 2 or parts[0] not in sections:
            raise ValueError(f"override {item!r}: unknown section; use one of "
                             f"{', '.join(s + '.' for s in sections)}")
        section = getattr(cfg, parts[0])
        names = [f.name for f in dataclasses.fields(section)]
        if parts[1] not in names:
            raise ValueError(f"override {item!r}: {parts[0]} has no field {parts[1]!r}; "
                             f"fields are {names}")
        try:
            value = _parse_value(text.strip(), getattr(section, parts[1]))
        except ValueError as e:
            raise ValueError(f"override {item!r}: {e}") from None
        setattr(section, parts[1], value)
    return cfg.validate()


def scaled(channels: int, width: float) -> int:
    """Channel count `channels` scaled by `width`, rounded to an even number >= 2.

    Even, because MFM / maxout layers split the channel axis in halves.
    """
    if width == 1.0:
        return channels
    return max(2, 2 * int(round(channels * width / 2)))
