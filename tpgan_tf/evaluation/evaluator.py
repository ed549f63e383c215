"""A model's evaluation protocol, apart from training: each model's evaluation.py subclasses
`Evaluator`, the task names it (`Task.evaluator`), and `experiments.evaluate` runs it on a
task built for inference and restored from a run.

The protocol's options are the config's `eval` section (core/config.py EvalConfig and the
model's own fields), so they are recorded with the results and set like any other field
(`--override=eval.<field>=...`).
"""
from __future__ import annotations


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
