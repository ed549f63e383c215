"""A model's training schedule as data: which steps one loop iteration runs, how often and
how many times (in the spirit of TF-GAN's GANTrainSteps and StyleGAN's phase list).

    Schedule((Phase("d"), Phase("g", name="g1"), Phase("g", name="g2")))   # TP-GAN 1 D : 2 G
    Schedule((Phase("pretrain", last=1000),                                 # DR-GAN official
              Phase("copy_trunk", first=1000, last=1001),
              Phase("d", first=1000, every=2), Phase("g", first=1000),
              Phase("g", name="g_extra", first=1000, every=10)), steady_iteration=1002)

A phase runs its task step (`task.steps[phase.step]`, a callable of the batch returning
(scalars, images)) on the iterations of its window [first, last) where
(iteration - first) % every == offset, `repeat` times. `repeat` may be an `Adaptive` rule
read from the scalars this iteration has produced so far (DR-GAN's "more G steps when D is
strong"). The scalars of a phase are logged as "<phase name>/<tag>" (the last repeat's); a
phase inside its window that is not due this iteration repeats its previous scalars, so every
logged iteration shows every quantity. "schedule/<step>_steps" counts how often each step
ran in the iteration (steps of phases inside their windows). The plan depends only on the
iteration counter and the scalars of the iteration itself, so a resumed run follows it.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping


@dataclasses.dataclass(frozen=True)
class Adaptive:
    """A repeat count decided during the iteration: `then` when the scalar `metric` (a
    logged tag such as "d/acc_mean" produced earlier in the iteration) is >= `threshold`,
    else `otherwise`."""

    metric: str
    threshold: float
    then: int
    otherwise: int = 1

    def count(self, values: Mapping) -> int:
        if self.metric not in values:
            raise ValueError(f"adaptive repeat reads {self.metric!r}, which no earlier phase "
                             f"of the iteration produced (have {sorted(values)})")
        return self.then if float(values[self.metric]) >= self.threshold else self.otherwise


@dataclasses.dataclass(frozen=True)
class Phase:
    """One entry of a schedule (module doc). name: the scalar prefix (default: the step)."""

    step: str
    name: str = ""
    repeat: int | Adaptive = 1
    every: int = 1
    offset: int = 0
    first: int = 0
    last: int | None = None

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.step)
        if self.every < 1 or not 0 <= self.offset < self.every:
            raise ValueError(f"phase {self.name!r}: need every >= 1 and 0 <= offset < every, "
                             f"got every={self.every}, offset={self.offset}")

    def in_window(self, iteration: int) -> bool:
        return iteration >= self.first and (self.last is None or iteration < self.last)

    def due(self, iteration: int) -> bool:
        return self.in_window(iteration) and (iteration - self.first) % self.every == self.offset


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The phases of an iteration, in order, and an iteration representative of the steady
    state (what benchmarks run: adaptive repeats take their `otherwise` count there)."""

    phases: tuple
    steady_iteration: int = 0

    def plan(self, iteration: int) -> list[Phase]:
        """The phases due at `iteration` (0-based, before it runs), in order."""
        return [p for p in self.phases if p.due(iteration)]


class ScheduleRunner:
    """Runs a Schedule with a task's steps and keeps each phase's last scalars."""

    def __init__(self, schedule: Schedule, steps: Mapping):
        unknown = sorted({p.step for p in schedule.phases} - set(steps))
        if unknown:
            raise ValueError(f"the schedule names steps {unknown} that the task does not "
                             f"define (it has {sorted(steps)})")
        self.schedule, self.steps = schedule, steps
        self._last: dict[str, dict] = {}

    def run(self, batch, iteration: int, *, steady: bool = False):
        """One iteration: (scalars {"<phase>/<tag>", "schedule/<step>_steps"}, images of the
        last phase that returned any). steady: the steady-state plan (benchmarks; may be
        traced as a whole, so nothing is read back from the device)."""
        values, images, counts = {}, {}, {}
        for phase in self.schedule.phases:
            if phase.in_window(iteration):
                counts.setdefault(phase.step, 0)
            if not phase.due(iteration):
                if phase.in_window(iteration) and phase.name in self._last:
                    values.update(self._last[phase.name])
                continue
            repeat = phase.repeat
            if isinstance(repeat, Adaptive):
                repeat = repeat.otherwise if steady else repeat.count(values)
            scalars = None
            for _ in range(repeat):
                scalars, step_images = self.steps[phase.step](batch)
                images = step_images or images
            counts[phase.step] += repeat
            if scalars is not None:
                named = {f"{phase.name}/{k}": v for k, v in scalars.items()}
                if not steady:  # a traced benchmark iteration leaves no symbolic tensors
                    self._last[phase.name] = named
                values.update(named)
        values.update({f"schedule/{step}_steps": float(n) for step, n in counts.items()})
        return values, images
