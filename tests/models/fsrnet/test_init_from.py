"""train.init_from (tpgan_tf/models/fsrnet/init_from.py): an FSRGAN run starts from the generator
of a trained FSRNet run (its weights and BN statistics equal the checkpoint's), while the
discriminator starts fresh (equal to a build without init_from under the same seed); a
missing or mismatched run is one `error:` line of experiments.train."""
from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import REPO
from tests.models.fsrnet.conftest import SMALL_OVERRIDES
from tpgan_tf.core.config import apply_overrides, get_config, save_config
from tpgan_tf.core.task import MissingResourceError
from tpgan_tf.models.fsrnet.task import FsrnetTask


def _values(model) -> dict:
    return {v.path: np.array(v.numpy()) for v in model.variables}


@pytest.fixture(scope="module")
def fsrnet_run(fsrnet_training, tmp_path_factory):
    """A trained FSRNet run dir (one iteration past init: its weights are no fresh draw):
    (run dir, generator variables at the checkpoint)."""
    run = fsrnet_training
    run.reset()
    run.iterate(1)
    out = str(tmp_path_factory.mktemp("fsrnet_run"))
    from tpgan_tf.core import checkpointing

    saver = checkpointing.CheckpointSaver(run.saver.checkpoint, out, 1)
    saver.save(int(run.task.iteration.numpy()))
    save_config(run.cfg, out)
    return out, _values(run.task.generator)


def _gan(init_from: str = "", *more):
    overrides = [*SMALL_OVERRIDES, "train.gan=true", f"train.init_from={init_from}", *more]
    return apply_overrides(get_config("tiny", "fsrnet"), overrides)


def test_fsrgan_starts_from_the_fsrnet_generator_and_a_fresh_discriminator(fsrnet_run, capsys):
    run_dir, trained = fsrnet_run
    keras.utils.set_random_seed(11)
    task = FsrnetTask(_gan(run_dir)).build()
    assert "generator initialised from" in capsys.readouterr().err
    keras.utils.set_random_seed(11)
    fresh = FsrnetTask(_gan()).build()
    generator = _values(task.generator)
    assert generator.keys() == trained.keys() and any("moving_mean" in p for p in generator)
    for path, value in trained.items():
        np.testing.assert_array_equal(generator[path], value, err_msg=path)
    fresh_g = _values(fresh.generator)
    assert any(not np.array_equal(fresh_g[p], v) for p, v in trained.items())
    d, fresh_d = _values(task.discriminator), _values(fresh.discriminator)
    for path, value in fresh_d.items():
        np.testing.assert_array_equal(d[path], value, err_msg=path)
    assert int(task.optimizers["g_optim"].iterations.numpy()) == 0
    assert int(task.iteration.numpy()) == 0


def test_a_missing_or_mismatched_run_is_refused_before_building(fsrnet_run, tmp_path):
    run_dir, _ = fsrnet_run
    with pytest.raises(MissingResourceError, match="no such run directory or checkpoint"):
        FsrnetTask.check_weights(_gan(str(tmp_path / "nope")))
    with pytest.raises(MissingResourceError, match="its generator differs from this config's: "
                       "width 0.0625 there, 0.125 here"):
        FsrnetTask.check_weights(_gan(run_dir, "model.width=0.125"))
    FsrnetTask.check_weights(_gan(run_dir, "model.d_num_layers=2"))  # D only: fine
    (tmp_path / "empty").mkdir()
    save_config(get_config("tiny", "fsrnet"), str(tmp_path / "empty"))
    with pytest.raises(MissingResourceError, match="no checkpoint found"):
        FsrnetTask.check_weights(_gan(str(tmp_path / "empty")))


def test_train_script_with_a_wrong_init_from_is_one_error_line(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.train", "--model=fsrnet", "--config=tiny",
         f"--override=train.init_from={tmp_path / 'nope'}", f"--data_dir={tmp_path}",
         f"--model_dir={tmp_path / 'run'}"],
        capture_output=True, text=True, env=env, timeout=300, cwd=REPO)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: train.init_from={tmp_path / 'nope'}: no such run directory or checkpoint")
    assert not (tmp_path / "run").exists()
