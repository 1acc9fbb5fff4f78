"""Choosing the device: CUDA when present (or asked for), else the CPU."""
from __future__ import annotations

import torch

from .errors import ConfigError


def pick_device(setting: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without a GPU is a config error."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if setting == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "'cuda' was asked for but no CUDA device is available")
    return torch.device(setting)


def set_threads(threads: int | None) -> None:
    """Let torch use ``threads`` CPU threads (a Snakemake rule's ``threads``)."""
    if threads:
        torch.set_num_threads(max(1, int(threads)))
