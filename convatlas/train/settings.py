"""How a model is trained, typed: the train job builds these from the model's config block
(:func:`convatlas.jobs.train.training_settings`), so training never reads config keys."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OptimizerSettings:
    """SGD with momentum (``sgd``) or Adam (``adam``)."""

    name: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0


@dataclass(frozen=True)
class StepSchedule:
    """The learning rate times ``gamma`` every ``step_epochs`` epochs."""

    step_epochs: int
    gamma: float = 0.5


@dataclass(frozen=True)
class TrainingSettings:
    """A model's architecture, initial weights, seed and how each epoch trains."""

    arch: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 128
    augment: tuple[str, ...] = ()
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    schedule: StepSchedule | None = None
    weights: str | None = None  # a weights file to start from


@dataclass(frozen=True)
class PretrainedSettings:
    """A model analysed as it is: how it is built, its weights file and what its outputs are named
    (``classes``: None for the dataset's classes, ``imagenet``, or a file of names)."""

    arch: str
    params: dict[str, Any] = field(default_factory=dict)
    weights: str | None = None
    classes: str | None = None
    seed: int = 0
