"""DR-GAN's D:G schedules and the pre-training phase (steps.schedule, drgan spec 4.1, 4.2),
run by core.schedule.ScheduleRunner with recording fake steps: which steps each iteration
runs, in which order, and the scalars it logs."""
import dataclasses

import pytest

from tpgan_tf.core.config import get_config
from tpgan_tf.core.schedule import ScheduleRunner
from tpgan_tf.models.drgan import steps


def _cfg(**train):
    cfg = get_config("paper", "drgan")
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, **train))


class Recorder:
    """Steps that record their calls; D reports a fixed mean accuracy."""

    def __init__(self, d_accuracy=0.5):
        self.calls: list[str] = []
        self.acc = d_accuracy
        self.steps = {name: self._step(name) for name in ("pretrain", "copy_trunk", "d", "g")}

    def _step(self, name):
        def step(batch):
            self.calls.append(name)
            values = {"n": float(len(self.calls))}
            if name == "d":
                values["acc_mean"] = self.acc
            return ({} if name == "copy_trunk" else values), {}
        return step

    def run(self, cfg, iterations):
        """{iteration: (steps it ran, in order)} and the last iteration's scalars."""
        runner = ScheduleRunner(steps.schedule(cfg), self.steps)
        per_iteration, values = [], {}
        for it in range(iterations):
            before = len(self.calls)
            values, _ = runner.run(None, it)
            per_iteration.append(tuple(self.calls[before:]))
        return per_iteration, values


def test_alternate_is_one_d_then_one_g():
    plans, values = Recorder().run(_cfg(schedule="alternate"), 5)
    assert plans == [("d", "g")] * 5
    assert values["schedule/d_steps"] == 1 and values["schedule/g_steps"] == 1


def test_official_is_5_d_to_11_g_per_10_iterations():
    rec = Recorder()
    plans, _ = rec.run(_cfg(schedule="official"), 20)
    assert [p.count("d") for p in plans[:4]] == [1, 0, 1, 0]
    assert [p.count("g") for p in plans[:12]] == [2] + [1] * 9 + [2, 1]
    assert plans[0] == ("d", "g", "g") and plans[1] == ("g",) and plans[2] == ("d", "g")
    assert sum(p.count("d") for p in plans[:10]) == 5 and sum(p.count("g") for p in plans[:10]) == 11
    assert rec.calls.count("d") == 10 and rec.calls.count("g") == 22


def test_official_scalars_on_an_iteration_without_d():
    """An odd iteration repeats the last D step's values and counts 0 D steps; g/ is the last
    G step's (both G phases are named g)."""
    runner = ScheduleRunner(steps.schedule(_cfg(schedule="official")), Recorder().steps)
    first, _ = runner.run(None, 0)
    assert first["d/n"] == 1 and first["g/n"] == 3  # d, g, then the extra g
    assert first["schedule/d_steps"] == 1 and first["schedule/g_steps"] == 2
    second, _ = runner.run(None, 1)
    assert second["d/n"] == 1 and second["g/n"] == 4
    assert second["schedule/d_steps"] == 0 and second["schedule/g_steps"] == 1


@pytest.mark.parametrize("accuracy, g_steps", [(0.89, 1), (0.9, 4), (1.0, 4)])
def test_adaptive_runs_more_g_steps_when_d_is_strong(accuracy, g_steps):
    cfg = _cfg(schedule="adaptive", adaptive_accuracy=0.9, adaptive_g_steps=4)
    plans, values = Recorder(accuracy).run(cfg, 4)
    assert plans == [("d",) + ("g",) * g_steps] * 4
    assert values["schedule/g_steps"] == g_steps
    # The steady state (benchmarks) reads nothing back: the 1 G step of a weak D.
    rec = Recorder(accuracy)
    ScheduleRunner(steps.schedule(cfg), rec.steps).run(None, 7, steady=True)
    assert rec.calls == ["d", "g"]


def test_pretraining_comes_first_then_the_trunk_is_copied_once():
    cfg = _cfg(schedule="official", pretrain_d=True, pretrain_iterations=3)
    plans, values = Recorder().run(cfg, 6)
    assert plans[:3] == [("pretrain",)] * 3
    # The GAN schedule counts from the first GAN iteration: official's "even" is iteration 3.
    assert plans[3] == ("copy_trunk", "d", "g", "g")
    assert plans[4] == ("g",) and plans[5] == ("d", "g")
    assert "pretrain/n" not in values and "schedule/copy_trunk_steps" not in values
    assert steps.gan_start(cfg.train) == 3 and steps.gan_start(_cfg().train) == 0
    assert steps.schedule(cfg).steady_iteration == 5 and steps.schedule(_cfg()).steady_iteration == 2


def test_pretraining_iterations_log_only_pretraining():
    cfg = _cfg(schedule="adaptive", pretrain_d=True, pretrain_iterations=2)
    runner = ScheduleRunner(steps.schedule(cfg), Recorder().steps)
    values, _ = runner.run(None, 1)
    assert set(values) == {"pretrain/n", "schedule/pretrain_steps"}
    values, _ = runner.run(None, 2)
    assert values["schedule/copy_trunk_steps"] == 1 and values["schedule/d_steps"] == 1
    assert "schedule/pretrain_steps" not in values
