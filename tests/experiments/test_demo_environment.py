"""The demo's scripts run in the environment their run needs: training of a deterministic
preset (and the identity network, always deterministic) one op at a time, others as given."""
from __future__ import annotations

from experiments.demo import common as demo
from tpgan_tf.core.distribution import DETERMINISTIC_ENV


def test_run_script_adds_its_variables_to_the_child_environment(tmp_path, monkeypatch, capsys):
    # `python -m show_env FILE`: a module of this test's own making writes what it sees.
    (tmp_path / "show_env.py").write_text(
        "import os, sys\n"
        "open(sys.argv[1], 'w').write(os.environ.get('TF_NUM_INTEROP_THREADS', 'unset'))\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    out = tmp_path / "env.txt"
    demo.run_script("show_env", str(out), env={"TF_NUM_INTEROP_THREADS": "1"})
    assert out.read_text() == "1"
    demo.run_script("show_env", str(out))
    assert out.read_text() == "unset"
    # The command line shows the variable as a user would type it.
    assert "$ TF_NUM_INTEROP_THREADS=1 python -m show_env" in capsys.readouterr().out


def test_training_of_a_deterministic_demo_preset_runs_one_op_at_a_time(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "run_script", lambda *args, env=None: calls.append((args, env)))
    ctx = demo.DemoContext(str(tmp_path))
    for model in ("tpgan", "drgan", "fsrnet"):
        demo.train_and_export(ctx, model, model, str(tmp_path / "records"))
    envs = {args[1]: env for args, env in calls if args[0] == "experiments.train"}
    # TP-GAN's and DR-GAN's demo presets are deterministic, FSRNet's is not.
    assert envs == {"--model=tpgan": DETERMINISTIC_ENV, "--model=drgan": DETERMINISTIC_ENV,
                    "--model=fsrnet": None}
    assert all(env is None for args, env in calls if args[0] == "experiments.export")


def test_a_demo_length_sets_the_runs_length_so_a_decay_ends_there(tmp_path, monkeypatch):
    """`run_demo --iterations=tpgan=N` overrides train.num_iterations (where TP-GAN's and
    FSRNet's learning-rate decays end), not only the stopping point."""
    calls = []
    monkeypatch.setattr(demo, "run_script", lambda *args, env=None: calls.append(args))
    ctx = demo.DemoContext(str(tmp_path), iterations={"tpgan": 640})
    demo.train_and_export(ctx, "tpgan", "TP-GAN", str(tmp_path / "records"))
    train = next(args for args in calls if args[0] == "experiments.train")
    assert "--override=train.num_iterations=640" in train
    assert not any(a.startswith("--num_iterations") for a in train)
