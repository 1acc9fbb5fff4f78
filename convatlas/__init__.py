"""convatlas: CNNs and an image dataset in, a static HTML atlas of every layer and channel out.

Packages by concern: ``core`` (errors, files, logs, device), ``data``, ``models`` (registry,
families, checkpoints), ``nn`` (module graph, hooks, backward rules, graph surgery), ``analyses``
(tensors in, tables out), ``train``, ``jobs`` (one entry point per workflow rule: the only code that
reads and writes a stage's files), ``site`` (URL layout, rendering, images, plots, pages) and
``workflow`` (the configuration and what it plans); ``results`` knows where every result file lives
and reads and writes the typed ones.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["load_checkpoint", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "load_checkpoint":  # imported on first use: it pulls in torch
        from .models.checkpoint import load_checkpoint

        return load_checkpoint
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
