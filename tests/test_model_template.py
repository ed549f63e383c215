"""One template for every model package, and scripts that load only what they run.

Every sub-package of tpgan_tf.models has the template's files with the same roles (tpgan_tf/
README.md, "Adding a model"), registers its Task with its config class and presets, names
its serving module, evaluator and photo applier, and keeps the replicated-step plumbing out
of its code (core/steps.py does it once). A script's --help imports no model."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = ("README.md", "__init__.py", "config.py", "presets.py", "blocks.py", "networks.py",
            "losses.py", "inputs.py", "steps.py", "task.py", "serving.py", "evaluation.py",
            "photos.py")
MODELS = sorted(d for d in os.listdir(os.path.join(REPO, "tpgan_tf", "models"))
                if os.path.isfile(os.path.join(REPO, "tpgan_tf", "models", d, "__init__.py")))
# Replica plumbing the core does once (core/steps.py): none of it in a model package.
PLUMBING = re.compile(r"strategy\.run\(|distribution\.reduce_sum|num_replicas_in_sync|"
                      r"1\.0 / self\.num_replicas|\.build\(self\.\w+_vars\)")


def test_the_three_models_are_found():
    assert MODELS == ["drgan", "fsrnet", "tpgan"]


@pytest.mark.parametrize("model", MODELS)
def test_every_model_package_has_the_template_files(model):
    files = set(os.listdir(os.path.join(REPO, "tpgan_tf", "models", model)))
    assert not set(TEMPLATE) - files, sorted(set(TEMPLATE) - files)


@pytest.mark.parametrize("model", MODELS)
def test_no_replica_plumbing_in_a_model_package(model):
    folder = os.path.join(REPO, "tpgan_tf", "models", model)
    found = [f"{name}: {m.group(0)}" for name in sorted(os.listdir(folder))
             if name.endswith(".py")
             for m in PLUMBING.finditer(open(os.path.join(folder, name)).read())]
    assert not found, found


@pytest.mark.parametrize("model", MODELS)
def test_every_model_registers_its_parts(model):
    from tpgan_tf.core.config import ExperimentConfig
    from tpgan_tf.core.registry import get_model
    from tpgan_tf.evaluation.evaluator import Evaluator
    from tpgan_tf.photos.applier import PhotoApplier
    from tpgan_tf.serving.module import ServingModule

    entry = get_model(model)
    assert entry.name == entry.task.name == model
    assert issubclass(entry.config, ExperimentConfig) and "paper" in entry.presets
    assert entry.config.__name__ == f"{model.capitalize()}Config"
    assert issubclass(entry.task.serving, ServingModule)
    assert issubclass(entry.task.evaluator, Evaluator)
    assert issubclass(entry.task.photos, PhotoApplier)


# Each script and a flag it defines through a shared module (experiments/common.py, apply.py),
# which its --help must list too (absl lists only the script's own flags unless adopted).
SCRIPTS = {"train": "--override", "export": "--override", "evaluate": "--override",
           "model_summary": "--override", "apply": "--min_confidence",
           "serving_client": "--min_confidence", "frontalize": "--saved_model",
           "super_resolve": "--saved_model"}
# Runs a script's --help and prints, at exit, the model packages that were imported.
HELP = ("import atexit, runpy, sys\n"
        "atexit.register(lambda: print('MODELS', sorted(m for m in sys.modules\n"
        "                if m.startswith('tpgan_tf.models.'))))\n"
        "sys.argv = [sys.argv[1], '--help']\n"
        "runpy.run_module(sys.argv[0], run_name='__main__')\n")


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_scripts_help_imports_no_model(script):
    proc = subprocess.run([sys.executable, "-c", HELP, f"experiments.{script}"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert "--help" in proc.stdout or "USAGE" in proc.stdout or "flags" in proc.stdout
    assert f"  {SCRIPTS[script]}" in proc.stdout, proc.stdout[-1500:]
    assert proc.stdout.strip().splitlines()[-1] == "MODELS []", proc.stdout[-500:]
