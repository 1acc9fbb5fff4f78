"""Architectures: a small registry of families plus torchvision's models, and checkpoints.

``build_model`` and ``check_arch`` are imported on first use, so that ``convatlas.models.checkpoint``
can publish a checkpoint without importing torch.
"""
from __future__ import annotations

from typing import Any

__all__ = ["BUILDERS", "build_model", "check_arch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
