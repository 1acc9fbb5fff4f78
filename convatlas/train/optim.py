"""The optimiser and the learning-rate schedule, from a model's config block."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


def make_optimizer(model: nn.Module, settings: dict[str, Any]) -> torch.optim.Optimizer:
    """SGD with momentum or Adam, from the ``optimizer`` config block."""
    if settings["name"] == "adam":
        return torch.optim.Adam(
            model.parameters(), lr=settings["lr"], betas=tuple(settings["betas"]),
            eps=settings["eps"], weight_decay=settings["weight_decay"],
        )
    return torch.optim.SGD(
        model.parameters(), lr=settings["lr"], momentum=settings["momentum"],
        nesterov=settings["nesterov"] and settings["momentum"] > 0, weight_decay=settings["weight_decay"],
    )


def learning_rate(base: float, schedule: dict[str, Any] | None, epoch: int) -> float:
    """The step schedule: ``base * gamma ** ((epoch - 1) // step_epochs)`` for 1-based epochs."""
    if not schedule:
        return base
    return base * schedule["gamma"] ** ((epoch - 1) // schedule["step_epochs"])
