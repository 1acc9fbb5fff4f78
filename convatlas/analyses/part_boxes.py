"""Parts of an image as pixel boxes (no torch: the workflow checks them before any job runs)."""
from __future__ import annotations

from collections.abc import Sequence


def part_box(spec: Sequence[float], height: int, width: int) -> tuple[int, int, int, int]:
    """A part as a pixel box (y0, x0, y1, x1): given in pixels, or, when every value is within
    [0, 1] and one is fractional, relative to the image size."""
    y0, x0, y1, x1 = spec
    if all(0 <= v <= 1 for v in spec) and any(v != int(v) for v in spec):
        return (int(round(y0 * height)), int(round(x0 * width)), int(round(y1 * height)), int(round(x1 * width)))
    return int(y0), int(x0), int(y1), int(x1)
