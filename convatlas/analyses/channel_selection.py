"""Which channels of a layer get the per-channel stages that cost a backward pass or an
optimisation each (deconvnet grids, activation maximisation, channel ablation)."""
from __future__ import annotations

AUTO_CAP = 32  # channels per layer on a CPU for inputs larger than SMALL_INPUT
SMALL_INPUT = 64  # px: up to this input side, auto keeps every channel


def spread(total: int, count: int) -> list[int]:
    """Up to ``count`` channel numbers spread evenly over ``range(total)``, first and last included."""
    if count <= 0 or total == 0:
        return []
    if count >= total:
        return list(range(total))
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)}) if count > 1 else [0]


def selected_channels(total: int, setting: int | str, input_side: int, gpu: bool) -> list[int]:
    """The channels of a ``total``-channel layer that the per-channel stages cover: ``all``, an
    integer cap (spread evenly), or ``auto`` (all on a GPU or for inputs up to 64 px, else 32)."""
    if setting == "all" or (setting == "auto" and (gpu or input_side <= SMALL_INPUT)):
        return list(range(total))
    return spread(total, AUTO_CAP if setting == "auto" else int(setting))
