"""A model's evaluation protocol, apart from training: each model's evaluation.py subclasses
`Evaluator`, the task names it (`Task.evaluator`), and `experiments.evaluate` runs it on a
task built for inference and restored from a run.

The protocol's options are the config's `eval` section (core/config.py EvalConfig and the
model's own fields), so they are recorded with the results and set like any other field
(`--override=eval.<field>=...`). `Evaluator.headlines(results)` names the few numbers of a
results dict that a learning curve follows (benchmarks/learning_curves.py), each next to its
baseline on the same data, so shared code plots any model without knowing its keys.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Headline:
    """One headline number of an evaluation: a column of the learning-curve table and a line of
    its plot (tpgan_tf/evaluation/learning_curves.py).

    panel: the quantity with its unit, one plot panel ("rank-1 (%)", "Y-PSNR (dB)").
    label: the line within the panel ("±45°", "synthetic_test").
    value: the model's number (None: not measured, e.g. no identity network).
    baseline: the baseline's number on the same data (raw profile, bicubic), None if none.
    baseline_label: what the baseline is ("raw profile", "bicubic").
    higher_is_better: False for errors (NME, L1).
    """

    panel: str
    label: str
    value: float | None
    baseline: float | None = None
    baseline_label: str = ""
    higher_is_better: bool = True

    @property
    def name(self) -> str:
        """The table column: panel and label."""
        return f"{self.panel} {self.label}".strip()


class Evaluator:
    """Base of a model's evaluation (module doc).

    Args:
      task: a core.task.Task built for inference (and restored, unless random weights were
        asked for explicitly).
    """

    def __init__(self, task):
        self.task, self.config = task, task.config

    @classmethod
    def needs_trained_weights(cls, config) -> bool:
        """False when the evaluation a config asks for scores no learned network (e.g.
        FSRNet's bicubic baseline), so it may run without a trained run."""
        return True

    def evaluate(self, data_dir: str | None, output_dir: str, *, run_info: dict | None = None,
                 show_progress: bool = True) -> tuple[dict, str]:
        """Runs the protocol; writes results.json, results.md, index.html (and the model's
        plots and sheets) into output_dir. run_info: lines for the page (model_dir,
        checkpoint, ...; with "random_weights": True the model's rows say so, see
        tpgan_tf/evaluation/report.py mark_weights). Returns (results dict, results page)."""
        raise NotImplementedError(f"{type(self).__name__} has no evaluation")

    @staticmethod
    def summary_text(results: dict) -> str:
        """A few lines for the terminal after an evaluation (default: none)."""
        return ""

    @staticmethod
    def headlines(results: dict) -> list[Headline]:
        """The numbers of `results` (from `evaluate`) that a learning curve follows, in table
        order (default: none, and the learning-curve script refuses the model)."""
        return []
