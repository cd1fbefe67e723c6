"""From a config and the data set's facts to the frozen plan a run follows.

A :class:`~bionn.experiments.config.RunConfig` says what the user asked for (``None``: the
published value, the data set's channels ...). :func:`resolve` is the one place those gaps are
filled: it returns a :class:`RunPlan` whose ``config`` has every value concrete. Training builds
the model and the trainer from it, writes it to ``config.json`` and into every checkpoint, and
evaluation and reports read it back from there.

Example:
    >>> from bionn.experiments.config import make_config
    >>> from bionn.experiments.plan import DataFacts, resolve
    >>> plan = resolve(make_config("gan", data="digits"), DataFacts(images=1797, channels=1,
    ...                                                              classes=10))
    >>> plan.config.channels, plan.config.image_size, plan.config.batch_size
    (1, 64, 32)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from bionn.experiments.config import RunConfig, published_values

__all__ = ["DataFacts", "RunPlan", "resolve"]


@dataclass(frozen=True)
class DataFacts:
    """What a run needs to know about its training data.

    Attributes:
        images: Number of training images.
        channels: Image channels (1 or 3).
        classes: Number of classes (largest label + 1 when the data set names none).

    """

    images: int
    channels: int
    classes: int


@dataclass(frozen=True)
class RunPlan:
    """A resolved run: the concrete config, the data facts and the run folder.

    Attributes:
        config: The config with every published value and data fact filled in.
        data: The training data's facts.
        run_dir: Where the run writes.

    """

    config: RunConfig
    data: DataFacts
    run_dir: Path

    @property
    def kind(self) -> str:
        """'gan', 'ddim' or 'classifier'."""
        return self.config.kind


def resolve(config: RunConfig, facts: DataFacts) -> RunPlan:
    """Return the plan of ``config`` on data with ``facts``; ``config`` is not changed.

    Published values fill the options left at None; ``channels`` and ``classes`` come from the
    data (an explicit ``classes`` is kept: a conditional GAN may be given more classes).
    """
    config = dataclasses.replace(
        config,
        **published_values(config),
        channels=cast(Literal[1, 3], facts.channels),  # RunConfig validates it
        classes=config.classes or facts.classes,
    )
    return RunPlan(config=config, data=facts, run_dir=config.run_dir())
