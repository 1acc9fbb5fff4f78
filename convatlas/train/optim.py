"""The optimiser and the learning-rate schedule."""
from __future__ import annotations

import torch
from torch import nn

from .settings import OptimizerSettings, StepSchedule


def make_optimizer(model: nn.Module, settings: OptimizerSettings) -> torch.optim.Optimizer:
    """SGD with momentum (Nesterov's only with momentum) or Adam."""
    if settings.name == "adam":
        return torch.optim.Adam(model.parameters(), lr=settings.lr, betas=tuple(settings.betas), eps=settings.eps,
                                weight_decay=settings.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum,
                           nesterov=settings.nesterov and settings.momentum > 0, weight_decay=settings.weight_decay)


def learning_rate(base: float, schedule: StepSchedule | None, epoch: int) -> float:
    """The step schedule: ``base * gamma ** ((epoch - 1) // step_epochs)`` for 1-based epochs."""
    if schedule is None:
        return base
    return base * schedule.gamma ** ((epoch - 1) // schedule.step_epochs)
