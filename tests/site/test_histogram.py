"""A channel's response histogram as SVG bars: bars checked against numpy.histogram on octave bins."""
import math

import numpy as np
import torch

from convatlas.analyses.responses import count_responses
from convatlas.site.histogram import HEIGHT, WIDTH, histogram_chart


def counts_of(responses):
    """The histogram counts the index stores for one channel's responses."""
    return count_responses(torch.tensor(responses, dtype=torch.float32)[:, None])[0].numpy()


def mid_bin(k):
    """A response in the middle (geometrically) of the quarter-octave bin [2^(k/4), 2^((k+1)/4))."""
    return 2.0 ** ((k + 0.5) / 4)


def test_bars_count_the_positive_responses_as_numpy_histogram_on_quarter_octaves():
    ks = [-5, -5, -5, -2, 0, 0, 3, 6, 6, 6, 6]  # 0.45 to 3.2: quarter-octave bins -5 .. 6
    responses = [0.0, -1.0, 0.0, *(mid_bin(k) for k in ks)]
    chart = histogram_chart(counts_of(responses))
    assert chart["images"] == len(responses) and chart["silent"] == 3 / len(responses) and chart["silent_images"] == 3
    edges = 2.0 ** (np.arange(-5, 8) / 4)  # 12 bins from the first to the last non-empty one
    want, _ = np.histogram([mid_bin(k) for k in ks], bins=edges)
    assert [bar["count"] for bar in chart["bars"]] == want.tolist()
    assert [bar["low"] for bar in chart["bars"]] == [f"{e:.3g}" for e in edges[:-1]]
    assert [bar["high"] for bar in chart["bars"]] == [f"{e:.3g}" for e in edges[1:]]
    assert chart["tallest"] == 4
    for bar, count in zip(chart["bars"], want, strict=True):
        assert math.isclose(bar["height"], HEIGHT * count / 4, abs_tol=0.01)
        assert math.isclose(bar["y"] + bar["height"], HEIGHT, abs_tol=0.02)  # bars stand on the axis


def test_bars_are_evenly_spaced_across_the_width_and_ticks_fall_on_whole_octaves():
    responses = [mid_bin(k) for k in range(-5, 7)]  # one response in each of 12 bins, 0.45 to 3.2
    chart = histogram_chart(counts_of(responses))
    xs = [bar["x"] for bar in chart["bars"]]
    step = WIDTH / 12
    assert np.allclose(xs, np.arange(12) * step, atol=0.01)
    assert all(bar["width"] < step for bar in chart["bars"])  # a gap between bars
    # bins start at 2^(k/4), k = -5..6: whole octaves at k = -4, 0, 4 (0.5, 1 and 2)
    assert [tick["label"] for tick in chart["ticks"]] == ["0.5", "1", "2"]
    assert [tick["x"] for tick in chart["ticks"]] == [round(i * step, 2) for i in (1, 5, 9)]


def test_a_wide_range_keeps_to_about_eight_ticks_on_evenly_spaced_octaves():
    responses = [2.0 ** -13, 1.0, 2.0 ** 15]  # below the first edge, in the middle, above the last
    chart = histogram_chart(counts_of(responses))
    assert chart["bars"][0]["low"] == "0" and chart["bars"][-1]["high"] == "∞"
    assert sum(bar["count"] for bar in chart["bars"]) == 3
    exponents = [round(math.log2(float(tick["label"].replace(",", ""))), 2) for tick in chart["ticks"]]  # labels carry 3 digits
    assert 3 <= len(exponents) <= 9
    assert all(e == round(e) for e in exponents)
    assert len(set(np.diff(exponents))) == 1  # evenly spaced octaves
    xs = [tick["x"] for tick in chart["ticks"]]
    assert np.ptp(np.diff(xs)) < 0.02  # at even distances along the axis
    assert 0.0 in exponents  # 1 is a tick whatever the spacing (every spacing divides its octave)


def test_a_channel_that_never_fires_has_no_chart():
    assert histogram_chart(counts_of([0.0, -2.0, 0.0])) is None
    assert histogram_chart(np.zeros(10, dtype=np.int64)) is None


def test_labels_keep_three_significant_digits_without_exponents():
    counts = np.zeros(len(counts_of([0.0])), dtype=np.int64)
    counts[-40], counts[-2] = 1, 1  # responses around 64 and beyond 8,000
    chart = histogram_chart(counts)
    labels = [tick["label"] for tick in chart["ticks"]] + [bar["low"] for bar in chart["bars"]]
    assert not any("e" in label for label in labels)
    assert [tick["label"] for tick in chart["ticks"]] == ["64", "256", "1,024", "4,096"]  # 2 ** 6, 8, 10, 12
