"""Configs (tpgan_tf/core/config.py): the registry of presets, `section.field=value` overrides,
validation, config.json round trips and old-file migration, `scaled`."""
import json

import pytest

from tpgan_tf.core import config


def test_presets_and_unknown_names():
    from tpgan_tf.core import registry

    assert {"tpgan", "drgan", "fsrnet"} <= set(registry.model_names())
    assert {"paper", "demo", "tiny"} <= set(config.presets("tpgan"))
    cfg = config.get_config("tiny", "tpgan")
    assert (cfg.name, cfg.task) == ("tiny", "tpgan")
    with pytest.raises(ValueError, match="unknown config preset 'huge' for model 'tpgan'"):
        config.get_config("huge", "tpgan")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        config.get_config("paper", task="nope")
    # A fresh copy every time.
    cfg.train.batch_size = 99
    assert config.get_config("tiny", "tpgan").train.batch_size == 2


def test_overrides_parse_to_the_field_type():
    cfg = config.apply_overrides(config.get_config("tiny", "tpgan"), [
        "train.batch_size=4", "model.width=0.125", "runtime.jit_compile=yes",
        "runtime.sync_batch_norm=off", "model.bn_mode = inference"])
    assert cfg.train.batch_size == 4 and isinstance(cfg.train.batch_size, int)
    assert cfg.model.width == 0.125
    assert cfg.runtime.jit_compile is True and cfg.runtime.sync_batch_norm is False
    assert cfg.model.bn_mode == "inference"
    assert config.override_keys(["a.b=1", "c.d = x", "junk"]) == {"a.b", "c.d"}
    base = config.get_config("tiny", "tpgan")
    assert base.train.batch_size == 2  # apply_overrides works on a copy


@pytest.mark.parametrize("override, message", [
    ("batch_size=4", "unknown section"),
    ("train.nope=1", "train has no field 'nope'"),
    ("train", "not of the form section.field=value"),
    ("runtime.jit_compile=maybe", "expected a boolean, got 'maybe'"),
    ("train.batch_size=four", "override 'train.batch_size=four'"),
    ("train.batch_size=0", "train.batch_size must be >= 1, got 0"),
    ("runtime.strategy=tpu", "runtime.strategy must be one of"),
    ("runtime.mixed_precision=float64", "runtime.mixed_precision must be one of"),
])
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        config.apply_overrides(config.get_config("tiny", "tpgan"), [override])


def test_config_json_round_trip_and_errors(tmp_path):
    cfg = config.apply_overrides(config.get_config("demo", "tpgan"), ["train.batch_size=6"])
    path = config.save_config(cfg, str(tmp_path / "run"))
    assert path.endswith("config.json") and json.load(open(path))["task"] == "tpgan"
    back = config.load_config(str(tmp_path / "run"))
    assert back == cfg and type(back) is type(cfg)
    with pytest.raises(FileNotFoundError, match="no saved config"):
        config.load_config(str(tmp_path / "elsewhere"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        config.load_config(str(tmp_path / "bad"))
    d = cfg.to_dict()
    d["train"]["nope"] = 1
    with pytest.raises(ValueError, match=r"section 'train' has no fields \['nope'\]"):
        config.config_from_dict(d)
    with pytest.raises(ValueError, match=r"unknown keys \['extra'\]"):
        config.config_from_dict({**cfg.to_dict(), "extra": 1})


def test_old_config_files_load():
    """config.json written before the shared core: no "task" key, the BN synchronisation in
    the model section (model.bn_synchronized, now runtime.sync_batch_norm)."""
    d = config.get_config("tiny", "tpgan").to_dict()
    del d["task"]
    del d["runtime"]
    d["model"]["bn_synchronized"] = True
    cfg = config.config_from_dict(d)
    assert cfg.task == "tpgan" and cfg.runtime.sync_batch_norm is True
    assert not hasattr(cfg.model, "bn_synchronized")


def test_scaled_keeps_channel_counts_even():
    assert config.scaled(64, 1.0) == 64
    assert config.scaled(64, 0.0625) == 4 and config.scaled(48, 0.125) == 6
    assert config.scaled(3, 0.1) == 2  # at least 2 (MFM splits channels in halves)
    assert config.scaled(100, 0.3) == 30 and config.scaled(90, 0.35) == 32  # 31.5 -> 32
    assert config.scaled(100, 0.33) == 32  # 2 * round(16.5): Python rounds halves to even
