"""A channel's response histogram as the bars of a small inline SVG chart (no plot files)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..analyses.responses import BINS_PER_OCTAVE, HISTOGRAM_EDGES

WIDTH, HEIGHT = 480, 110  # plot area in px; labels go below


def _value(x: float) -> str:
    """Three significant digits, never in exponent form: 0.000244, 0.5, 181, 4,096."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def histogram_chart(counts: np.ndarray) -> dict[str, Any] | None:
    """Bars (x, width, height in px, range and count) for the positive bins of ``counts`` (see
    :mod:`convatlas.analyses.responses`) from the first to the last non-empty one, ticks at whole
    octaves, and the fraction of silent images; None when the channel never fires."""
    counts = np.asarray(counts, dtype=np.int64)
    images = int(counts.sum())
    positive = np.nonzero(counts[1:])[0] + 1
    if images == 0 or len(positive) == 0:
        return None
    first, last = int(positive[0]), int(positive[-1])
    edges = [0.0, *HISTOGRAM_EDGES.tolist(), math.inf]  # bin b covers [edges[b-1], edges[b])
    shown = range(first, last + 1)
    step = WIDTH / len(shown)
    tallest = int(counts[first:last + 1].max())
    bars = []
    for i, b in enumerate(shown):
        height = HEIGHT * int(counts[b]) / tallest
        bars.append({"x": round(i * step, 2), "width": round(max(step - 1, 1), 2), "y": round(HEIGHT - height, 2),
                     "height": round(height, 2), "count": int(counts[b]),
                     "low": _value(edges[b - 1]), "high": _value(edges[b]) if math.isfinite(edges[b]) else "∞"})
    octaves = max(1, math.ceil((len(shown) / BINS_PER_OCTAVE) / 8))  # at most about 8 labels
    ticks = []
    for i, b in enumerate(shown):
        k = b - 2 - BINS_PER_OCTAVE * 12  # for b >= 2, edges[b - 1] == 2 ** (k / BINS_PER_OCTAVE)
        if 2 <= b <= len(HISTOGRAM_EDGES) + 1 and k % (BINS_PER_OCTAVE * octaves) == 0:
            ticks.append({"x": round(i * step, 2), "label": _value(edges[b - 1])})
    return {"bars": bars, "ticks": ticks, "width": WIDTH, "height": HEIGHT, "images": images,
            "silent": int(counts[0]) / images, "silent_images": int(counts[0]), "tallest": tallest}
