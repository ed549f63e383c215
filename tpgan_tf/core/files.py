"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Each writer writes `<path>.tmp-<pid>` and renames it over `path` (os.replace is atomic on
POSIX and Windows within one file system).
"""
from __future__ import annotations

import json
import os
import shutil
from typing import Any


def _tmp(path: str) -> str:
    return f"{path}.tmp-{os.getpid()}"


def write_bytes_atomic(path: str, data: bytes) -> str:
    """Writes `data` to `path` atomically; returns path."""
    tmp = _tmp(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_text_atomic(path: str, text: str) -> str:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str, obj: Any, **kwargs) -> str:
    """json.dump(obj) to `path` atomically (indent 1, sorted keys unless given)."""
    kwargs.setdefault("indent", 1)
    kwargs.setdefault("sort_keys", True)
    return write_text_atomic(path, json.dumps(obj, **kwargs) + "\n")


def publish_dir(tmp_dir: str, final_dir: str) -> str:
    """Renames a finished directory `tmp_dir` to `final_dir` (which must not exist)."""
    if os.path.exists(final_dir):
        raise FileExistsError(f"{final_dir}: already exists")
    os.replace(tmp_dir, final_dir)
    return final_dir


def temporary_dir_for(final_dir: str) -> str:
    """A fresh, empty sibling `<final_dir>.tmp-<pid>` to build a directory in."""
    tmp = _tmp(final_dir)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    return tmp
