"""core/schedule.py: a schedule written as data runs the right steps, in order, the right
number of times, on the right iterations; skipped phases repeat their last scalars; the
adaptive repeat reads the iteration's own scalars; the steady-state plan reads nothing."""
from __future__ import annotations

import pytest

from tpgan_tf.core.schedule import Adaptive, Phase, Schedule, ScheduleRunner


class Recorder:
    """Steps that record their calls and return the call number as a scalar."""

    def __init__(self, names, accuracy=0.5):
        self.calls: list[str] = []
        self.accuracy = accuracy
        self.steps = {n: self._step(n) for n in names}

    def _step(self, name):
        def step(batch):
            self.calls.append(name)
            return {"n": float(len(self.calls)), "acc_mean": self.accuracy}, {"img": name}
        return step


def official_drgan(start=3):
    """The released DR-GAN plan: pre-training, the trunk copy, then D on even GAN iterations,
    G on every one and one more G on every 10th."""
    return Schedule((Phase("pretrain", last=start),
                     Phase("copy_trunk", first=start, last=start + 1),
                     Phase("d", first=start, every=2),
                     Phase("g", first=start),
                     Phase("g", name="g_extra", first=start, every=10)),
                    steady_iteration=start + 2)


def test_tpgan_one_d_then_two_g_steps_named_g1_g2():
    rec = Recorder(["d", "g"])
    runner = ScheduleRunner(Schedule((Phase("d"), Phase("g", name="g1"),
                                      Phase("g", name="g2"))), rec.steps)
    values, images = runner.run(None, 0)
    assert rec.calls == ["d", "g", "g"]
    assert values["d/n"] == 1.0 and values["g1/n"] == 2.0 and values["g2/n"] == 3.0
    assert values["schedule/d_steps"] == 1.0 and values["schedule/g_steps"] == 2.0
    assert images == {"img": "g"}  # the last step's images


def test_official_drgan_plan_counts_5_d_and_11_g_per_10_gan_iterations():
    rec = Recorder(["pretrain", "copy_trunk", "d", "g"])
    runner = ScheduleRunner(official_drgan(start=3), rec.steps)
    per_iteration = []
    for it in range(13):
        before = len(rec.calls)
        values, _ = runner.run(None, it)
        per_iteration.append(tuple(rec.calls[before:]))
    assert per_iteration[:3] == [("pretrain",)] * 3
    assert per_iteration[3] == ("copy_trunk", "d", "g", "g")  # GAN iteration 0
    assert per_iteration[4] == ("g",)
    assert per_iteration[5] == ("d", "g")
    gan = per_iteration[3:13]
    assert sum(c.count("d") for c in gan) == 5 and sum(c.count("g") for c in gan) == 11
    assert "pretrain/n" not in values  # pre-training's window is over: not carried


def test_a_skipped_phase_repeats_its_last_scalars_and_counts_zero():
    rec = Recorder(["pretrain", "copy_trunk", "d", "g"])
    runner = ScheduleRunner(official_drgan(start=0), rec.steps)
    first, _ = runner.run(None, 0)
    second, _ = runner.run(None, 1)  # odd GAN iteration: no D step
    assert second["d/n"] == first["d/n"]
    assert second["schedule/d_steps"] == 0.0 and second["schedule/g_steps"] == 1.0
    assert second["g/n"] > first["g/n"]


@pytest.mark.parametrize("accuracy, g_steps", [(0.95, 4), (0.9, 4), (0.5, 1)])
def test_adaptive_repeat_reads_the_d_accuracy_of_the_same_iteration(accuracy, g_steps):
    rec = Recorder(["d", "g"], accuracy=accuracy)
    schedule = Schedule((Phase("d"), Phase("g", repeat=Adaptive("d/acc_mean", 0.9, 4))))
    values, _ = ScheduleRunner(schedule, rec.steps).run(None, 0)
    assert rec.calls == ["d"] + ["g"] * g_steps
    assert values["schedule/g_steps"] == float(g_steps)
    # The steady-state plan (benchmarks) never reads a value back: the `otherwise` count.
    rec.calls.clear()
    ScheduleRunner(schedule, rec.steps).run(None, 0, steady=True)
    assert rec.calls == ["d", "g"]


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="does not define"):
        ScheduleRunner(Schedule((Phase("d"), Phase("x"))), {"d": None})
    with pytest.raises(ValueError, match="no earlier phase"):
        ScheduleRunner(Schedule((Phase("g", repeat=Adaptive("d/acc", 0.9, 4)),)),
                       Recorder(["g"]).steps).run(None, 0)
    with pytest.raises(ValueError, match="offset"):
        Phase("d", every=2, offset=2)
