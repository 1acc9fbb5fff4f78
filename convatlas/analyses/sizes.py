"""Settings that scale with the input size: the defaults were tuned at 28 px (Fashion-MNIST), and
``auto`` keeps their proportions at any size (Zeiler & Fergus used squares of about 50 px on 224 px
images). Pure Python: the workflow checks them before any job runs."""
from __future__ import annotations

WINDOW_FRACTIONS = (0.11, 0.18, 0.25, 0.32)  # of the image side: 3, 5, 7, 9 px at 28 px
PIXELS_PER_STEP = 28  # auto stride and jitter: one pixel per 28 px of image side


def scaled_windows(side: int) -> list[int]:
    """Occlusion square sides that scale with the image: odd (a centre pixel), distinct, at least 1."""
    windows = []
    for fraction in WINDOW_FRACTIONS:
        window = max(1, round(fraction * side) // 2 * 2 + 1)
        if window not in windows:
            windows.append(window)
    return windows


def scaled_step(side: int) -> int:
    """One pixel per 28 px of image side (occlusion stride, activation-maximisation jitter)."""
    return max(1, round(side / PIXELS_PER_STEP))


def resolved_occlusion(settings: dict, side: int) -> dict:
    """The ``occlusion`` block with ``auto`` windows and stride worked out for images of ``side`` px."""
    return {**settings,
            "windows": scaled_windows(side) if settings["windows"] == "auto" else list(settings["windows"]),
            "stride": scaled_step(side) if settings["stride"] == "auto" else settings["stride"]}
