"""The Task protocol is the seam: a toy model that lives only in its own sub-package
(tests/toy_model, registered with the one decorator; no change to core code) trains through
the shared loop and replicated step, checkpoints, resumes exactly, exports a SavedModel that
TF Serving's session loader runs, is evaluated by the shared script, and does so under every
precision x XLA combination."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.toy_model.task import ToyTask  # registers "toy"
from tpgan_tf.core import checkpointing, config, distribution, runner
from tpgan_tf.serving import export


@pytest.fixture(autouse=True)
def _float32_afterwards():
    yield
    distribution.set_precision("float32")


def test_toy_task_trains_checkpoints_resumes_and_exports(tmp_path):
    cfg = config.get_config("tiny", task="toy")
    straight = runner.train(cfg, None, str(tmp_path / "a"), num_iterations=3, log=lambda s: None)
    first = runner.train(cfg, None, str(tmp_path / "b"), num_iterations=2, log=lambda s: None)
    resumed = runner.train(cfg, None, str(tmp_path / "b"), num_iterations=3, log=lambda s: None)
    assert (straight.start_iteration, first.end_iteration, resumed.start_iteration) == (0, 2, 2)
    assert resumed.last_values == straight.last_values  # exact resume (data, noise, Adam)
    saved = json.loads((tmp_path / "b" / "config.json").read_text())
    assert saved["task"] == "toy" and saved["runtime"]["sync_batch_norm"] is False
    a = tf.train.load_checkpoint(str(tmp_path / "a" / "ckpt-3"))
    b = tf.train.load_checkpoint(str(tmp_path / "b" / "ckpt-3"))
    for name in a.get_variable_to_shape_map():
        if not name.endswith("ITERATOR_STATE") and name != "_CHECKPOINTABLE_OBJECT_GRAPH":
            np.testing.assert_array_equal(a.get_tensor(name), b.get_tensor(name), err_msg=name)
    names = " ".join(a.get_variable_to_shape_map())
    assert "net" in names and "opt" in names and "noise" in names and "data_iterator" in names
    # TensorBoard: the scalar and the image of every iteration.
    events = [e for f in os.listdir(tmp_path / "a" / "train")
              for e in tf.compat.v1.train.summary_iterator(str(tmp_path / "a" / "train" / f))]
    tags = {v.tag for e in events for v in e.summary.value}
    assert {"step/loss", "perf/examples_per_second", "pred"} <= tags

    task, loaded, ckpt = runner.load_trained(str(tmp_path / "b"))
    assert isinstance(task, ToyTask) and ckpt.endswith("ckpt-3") and loaded.task == "toy"
    restored = task.networks["net"].get_weights()
    np.testing.assert_array_equal(restored[0], b.get_tensor(
        [n for n in b.get_variable_to_shape_map() if "kernel" in n and "opt" not in n][0]))
    version = export.export_task(task, str(tmp_path / "export"))
    assert version.endswith(os.path.join("toy", "1"))
    assert export.read_export_info(version)["toy"] is True
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    out, signatures = export.session_loader_check(version, "serving_default", {"x": x},
                                                  str(tmp_path / "session"))
    assert signatures == ["serving_default"]
    np.testing.assert_allclose(out["y"], task.networks["net"](x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("precision", ["float32", "mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("jit", [False, True])
def test_every_precision_and_xla_combination_trains(tmp_path, precision, jit):
    cfg = config.apply_overrides(config.get_config("tiny", task="toy"), [
        f"runtime.mixed_precision={precision}", f"runtime.jit_compile={jit}"])
    result = runner.train(cfg, None, str(tmp_path), num_iterations=2, log=lambda s: None)
    assert result.end_iteration == 2 and np.isfinite(result.last_values["step/loss"])
    saved = config.load_config(str(tmp_path))
    assert (saved.runtime.mixed_precision, saved.runtime.jit_compile) == (precision, jit)
    task, _, _ = runner.load_trained(str(tmp_path))
    assert task.networks["net"].dtype_policy.name == "float32"  # inference graphs in float32


def test_unknown_model_and_preset_errors_name_the_choices():
    with pytest.raises(ValueError, match="unknown model 'nope'.*drgan.*toy.*tpgan"):
        config.get_config("paper", task="nope")
    with pytest.raises(ValueError, match="unknown config preset 'huge' for model 'toy'"):
        config.get_config("huge", task="toy")
    with pytest.raises(ValueError, match="not both"):
        runner.resolve_config("some/run", "tiny")


def test_checkpoint_names_every_network_optimizer_and_random_state():
    task = ToyTask(config.get_config("tiny", task="toy")).build()
    children = set(checkpointing.make_checkpoint(task)._trackable_children())
    assert children == {"net", "opt", "noise", "iteration"}


def test_the_shared_evaluate_script_runs_the_toy_models_evaluator(tmp_path):
    from experiments import evaluate

    cfg = config.get_config("tiny", task="toy")
    runner.train(cfg, None, str(tmp_path / "run"), num_iterations=2, log=lambda s: None)
    results, page = evaluate.run(None, str(tmp_path / "eval"), model_dir=str(tmp_path / "run"))
    assert os.path.isfile(page) and results["mse"] > 0
    assert results["run"]["checkpoint"].endswith("ckpt-2")
    with pytest.raises(ValueError, match="--model=toy without --model_dir would score randomly"):
        evaluate.run(None, str(tmp_path / "eval2"), preset="tiny", model="toy")
