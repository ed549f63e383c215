"""The repository stands alone: every repository path named in code, tests and Markdown
exists, every cited section of a model's description ("tpgan spec 2.3", or "spec 2.3" in the
model's own package) is a heading of that model's README.md, and nothing points outside the
repository to the material it was written from.

Which model a plain "spec N" cites: the model package (tpgan_tf/models/<m>/, tests/models/<m>/)
it is written in; elsewhere the model of the nearest "<model> spec" before it in the same file.
"""
from __future__ import annotations

import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("tpgan", "drgan", "fsrnet")
SOURCE_DIRS = ("tpgan_tf", "data_prep", "experiments", "benchmarks", "tests")
TOP_FILES = ("README.md", "Makefile", "setup.py", "requirements.txt", "requirements-test.txt")
# A repository path: one of the top-level folders, then path characters, ending in a file
# name with an extension or a folder slash.
PATH = re.compile(r"(?<![\w./-])((?:tpgan_tf|data_prep|experiments|benchmarks|tests)"
                  r"/[\w./-]*[\w/])")
CITATION = re.compile(r"(?:\b(tpgan|drgan|fsrnet) )?\bspec (\d+(?:\.\d+)*)"
                      r"((?:(?:, | and |/|-)\d+(?:\.\d+)*)*)")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)[. ]", re.M)
OUTSIDE = re.compile(r"\.\./shared|/work/shared|shared/spec")


SELF = os.path.join("tests", "test_repository_references.py")  # its examples are not citations


def _files():
    for top in TOP_FILES:
        if os.path.exists(os.path.join(REPO, top)):
            yield top
    for folder in SOURCE_DIRS:
        for root, dirs, names in os.walk(os.path.join(REPO, folder)):
            dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__")) and
                       d not in ("runs", "results")]
            for name in names:
                rel = os.path.relpath(os.path.join(root, name), REPO)
                if name.endswith((".py", ".md")) and rel != SELF:
                    yield rel


def _text(rel: str) -> str:
    with open(os.path.join(REPO, rel), encoding="utf-8") as f:
        return f.read()


def _sections(model: str) -> set[str]:
    return set(HEADING.findall(_text(f"tpgan_tf/models/{model}/README.md")))


def _package_model(rel: str) -> str | None:
    parts = rel.split(os.sep)
    for prefix in (("tpgan_tf", "models"), ("tests", "models")):
        if tuple(parts[:2]) == prefix and len(parts) > 3 and parts[2] in MODELS:
            return parts[2]
    return None


def citations(rel: str, text: str):
    """(line number, model or None, section) of every spec citation in a file."""
    current = _package_model(rel)
    for match in CITATION.finditer(text):
        model = match.group(1) or current
        if match.group(1) and _package_model(rel) is None:
            current = match.group(1)  # later plain citations of this shared file
        numbers = [match.group(2)] + re.findall(r"\d+(?:\.\d+)*", match.group(3))
        line = text.count("\n", 0, match.start()) + 1
        for number in numbers:
            yield line, model, number


def test_every_cited_spec_section_exists():
    sections = {m: _sections(m) for m in MODELS}
    bad = []
    for rel in _files():
        if os.path.basename(rel) == "README.md" and _package_model(rel):
            continue  # a model's own description cites itself freely
        for line, model, number in citations(rel, _text(rel)):
            if model is None:
                bad.append(f"{rel}:{line}: 'spec {number}' names no model")
            elif number not in sections[model]:
                bad.append(f"{rel}:{line}: {model} spec {number} is no section of "
                           f"tpgan_tf/models/{model}/README.md")
    assert not bad, "\n".join(bad)


def _exists(path: str) -> bool:
    """The path, or a module attribute written as `folder/module.name` (module.py exists)."""
    if os.path.exists(os.path.join(REPO, path)):
        return True
    head, _, last = path.rpartition("/")
    module = last.split(".", 1)[0]
    return bool(head) and os.path.isfile(os.path.join(REPO, head, module + ".py"))


def test_every_named_repository_path_exists():
    bad = []
    for rel in _files():
        text = _text(rel)
        for match in PATH.finditer(text):
            path = match.group(1).rstrip(".")
            if any(ch in path for ch in "*{}<>") or "/runs/" in f"/{path}":
                continue  # patterns and run outputs, not files of the repository
            if not _exists(path):
                line = text.count("\n", 0, match.start()) + 1
                bad.append(f"{rel}:{line}: {path} does not exist")
    assert not bad, "\n".join(bad)


def test_nothing_points_outside_the_repository():
    bad = [f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
           for rel in _files() for text in [_text(rel)] for m in OUTSIDE.finditer(text)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("text, expected", [
    ("see tpgan spec 2.3 and spec 2.5", [("tpgan", "2.3"), ("tpgan", "2.5")]),
    ("drgan spec 4.3, 7", [("drgan", "4.3"), ("drgan", "7")]),
    ("spec 9", [(None, "9")]),
])
def test_citations_are_read_as_written(text, expected):
    assert [(m, n) for _, m, n in citations("tpgan_tf/faces/x.py", text)] == expected
