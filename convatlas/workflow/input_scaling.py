"""Settings that scale with the input size: the defaults were tuned at 28 px (Fashion-MNIST), and
``auto`` keeps their proportions at any size (Zeiler & Fergus used squares of about 50 px on 224 px
images). Pure Python: the workflow checks them before any job runs."""
from __future__ import annotations

WINDOW_FRACTIONS = (0.11, 0.18, 0.25, 0.32)  # of the image side: 3, 5, 7, 9 px at 28 px
LIGHT_WINDOW_FRACTIONS = (0.18, 0.32)  # a CPU at photo sizes: 41 and 73 px at 224 px
PIXELS_PER_STEP = 28  # auto stride and jitter: one pixel per 28 px of image side
LIGHT_POSITIONS = 14  # a CPU at photo sizes: 14 x 14 square positions (a 16 px stride at 224 px)


def scaled_windows(side: int, fractions: tuple[float, ...] = WINDOW_FRACTIONS) -> list[int]:
    """Occlusion square sides that scale with the image: odd (a centre pixel), distinct, at least 1."""
    windows = []
    for fraction in fractions:
        window = max(1, round(fraction * side) // 2 * 2 + 1)
        if window not in windows:
            windows.append(window)
    return windows


def scaled_step(side: int) -> int:
    """One pixel per 28 px of image side (occlusion stride, activation-maximisation jitter)."""
    return max(1, round(side / PIXELS_PER_STEP))


def resolved_occlusion(settings: dict, side: int, light: bool = False) -> dict:
    """The ``occlusion`` block with ``auto`` windows and stride worked out for images of ``side`` px;
    ``light`` (a CPU at photo sizes) takes two windows (18 and 32% of the side) at 14 x 14 positions,
    an eighth of the forward passes of four windows at 28 x 28."""
    windows = scaled_windows(side, LIGHT_WINDOW_FRACTIONS if light else WINDOW_FRACTIONS)
    stride = max(1, round(side / LIGHT_POSITIONS)) if light else scaled_step(side)
    return {**settings,
            "windows": windows if settings["windows"] == "auto" else list(settings["windows"]),
            "stride": stride if settings["stride"] == "auto" else settings["stride"]}


def occlusion_positions(side: int, stride: int) -> int:
    """Square positions per window: centred on every ``stride``-th pixel of a ``side`` x ``side`` image."""
    return (-(-side // stride)) ** 2
