"""Training loops: :func:`run_training` runs any experiment config and returns a RunResult."""

from bionn.experiments.train.resume import RunError
from bionn.experiments.train.runner import RunResult, run_training

__all__ = ["RunError", "RunResult", "run_training"]
