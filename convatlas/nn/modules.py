"""Finding and replacing modules of a network by their ``named_modules()`` path."""
from __future__ import annotations

from torch import nn


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d]:
    """The path and module of the network's first ``Conv2d``."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            return name, module
    raise ValueError(f"{type(model).__name__} has no Conv2d")


def first_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    """The path and module of the network's first ``Linear``: it receives the (flattened or pooled)
    output of the conv stack."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            return name, module
    raise ValueError(f"{type(model).__name__} has no Linear layer")


def last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    """The path and module of the network's last ``Linear`` (its classifier)."""
    found = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            found = (name, module)
    if found is None:
        raise ValueError(f"{type(model).__name__} has no Linear classifier")
    return found


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    """Put ``new`` in place of the submodule at path ``name``."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)
