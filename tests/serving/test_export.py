"""tpgan_tf/serving/export.py, the model-independent part: TF Serving's version directories,
the export metadata file and the argument errors. (A whole export of a task: the toy task of
tests/core/test_registry.py and TP-GAN's in tests/models/tpgan/test_export.py.)"""
from __future__ import annotations

import json

import pytest

from tpgan_tf.serving import export as ex


def test_versions(tmp_path):
    base = tmp_path / "tpgan"
    assert ex.next_version(str(base)) == 1
    for name in ("1", "7", "tmp", "3.tmp-5"):
        (base / name).mkdir(parents=True)
    (base / "12").write_text("a file, not a version")
    assert ex.existing_versions(str(base)) == [1, 7] and ex.next_version(str(base)) == 8
    with pytest.raises(FileNotFoundError, match="no saved_model.pb"):
        ex.latest_version_dir(str(base))
    (base / "7" / "saved_model.pb").write_bytes(b"")
    assert ex.latest_version_dir(str(base)) == str(base / "7")
    assert ex.latest_version_dir(str(base / "7")) == str(base / "7")
    with pytest.raises(FileExistsError, match="already exists"):
        ex.export_for_serving(None, str(tmp_path), "tpgan", version=7)
    with pytest.raises(ValueError, match="plain directory name"):
        ex.export_for_serving(None, str(tmp_path), "a/b")


def test_argument_errors_write_nothing(tmp_path):
    with pytest.raises(ValueError, match="non-negative integer"):
        ex.export_for_serving({}, str(tmp_path), "m", version=-1)
    with pytest.raises(ValueError, match="no endpoints"):
        ex.export_for_serving({}, str(tmp_path), "m")
    for name in ("", ".", ".."):
        with pytest.raises(ValueError, match="plain directory name"):
            ex.export_for_serving({}, str(tmp_path), name)
    # The failed export left neither a version nor a temporary directory.
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["m"]
    assert ex.existing_versions(str(tmp_path / "m")) == []


def test_read_export_info(tmp_path):
    assert ex.read_export_info(str(tmp_path)) == {}
    (tmp_path / "assets.extra").mkdir()
    (tmp_path / "assets.extra" / ex.INFO_FILENAME).write_text(json.dumps({"model": "toy"}))
    assert ex.INFO_FILENAME == "export_info.json"
    assert ex.read_export_info(str(tmp_path)) == {"model": "toy"}
