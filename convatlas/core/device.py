"""Choosing the device: CUDA when present (or asked for), else the CPU."""
from __future__ import annotations

import torch

from .errors import ConfigError
from .gpus import claim_device


def pick_device(setting: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cuda`` without a GPU is a config error.
    With several GPUs, ``auto`` and ``cuda`` claim one for this job (see :mod:`.gpus`): jobs that
    run side by side get different devices. ``cuda:<i>`` is taken as given."""
    if setting == "auto" and not torch.cuda.is_available():
        return torch.device("cpu")
    if setting in ("auto", "cuda"):
        if not torch.cuda.is_available():
            raise ConfigError("device", "'cuda' was asked for but no CUDA device is available")
        count = torch.cuda.device_count()
        return torch.device("cuda", claim_device(count) if count > 1 else 0)
    return torch.device(setting)


def set_threads(threads: int | None) -> None:
    """Let torch use ``threads`` CPU threads (a Snakemake rule's ``threads``)."""
    if threads:
        torch.set_num_threads(max(1, int(threads)))
