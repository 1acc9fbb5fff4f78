"""A channel's response to each image, summarised: how often and how strongly it fires, and for
which classes.

An image's *response* is the channel's ranking score for it (by default its largest activation),
with a negative value counted as 0: the channel fires on an image when its response is positive.

Class selectivity (Morcos et al. 2018) compares the mean response of the channel's strongest class
with the mean of the other classes' means, ``(top - rest) / (top + rest)``: 0 when every class
draws the same response, 1 when only one class makes the channel fire. Responses are rectified, so
the index stays within [0, 1] for signed layers too (a block output before its ReLU). A channel
that fires on a handful of images would score 1 by chance, and one whose responses are all tiny
beside its layer's (a nearly silent unit) may be selective without mattering: selectivity is left
undefined (NaN) unless the channel fires on at least :func:`min_active_images` probe images and its
strongest response reaches :data:`MIN_PEAK_SHARE` of the layer's median strongest response over its
live channels (:func:`ranked_channels`), and unless at least two classes have two images each (with
one image a class, as for a handful of unlabelled photos classed by prediction, it is noise with no
interval). Its 95% interval comes from a bootstrap over images (:func:`selectivity_interval`), and
pages rank channels by the interval's lower bound, so that a channel is not ranked high by noise.

Histograms count responses in fixed logarithmic bins (four per octave), so that they are bounded
in memory and partial histograms add up exactly.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # page jobs read these constants without importing torch
    import torch

MIN_ACTIVE_FRACTION = 0.01  # selectivity needs the channel to fire on 1% of the probe images ...
MIN_ACTIVE_IMAGES = 10  # ... and on at least 10 of them ...
MIN_PEAK_SHARE = 0.1  # ... with a strongest response of at least a tenth of the layer's median strongest response
BOOTSTRAP_DRAWS = 1000  # resampled class means per channel for selectivity's 95% interval
BOOTSTRAP_SEED = 0

BINS_PER_OCTAVE = 4
HISTOGRAM_EDGES = 2.0 ** (np.arange(-12 * BINS_PER_OCTAVE, 14 * BINS_PER_OCTAVE + 1) / BINS_PER_OCTAVE)
"""Edges of the positive bins, 2^-12 (2.4e-4) to 2^14 (16,384)."""
HISTOGRAM_BINS = len(HISTOGRAM_EDGES) + 2
"""Bin 0 counts responses <= 0 (silent); bin 1 those in (0, 2^-12); the last those >= 2^14."""

def min_active_images(images: int) -> int:
    """How many of ``images`` a channel must fire on for its selectivity to be defined."""
    return max(MIN_ACTIVE_IMAGES, math.ceil(MIN_ACTIVE_FRACTION * images))


def histogram_bins(scores: torch.Tensor) -> torch.Tensor:
    """The histogram bin of each response in ``scores`` (any shape)."""
    import torch

    edges = torch.tensor(HISTOGRAM_EDGES, dtype=torch.float32, device=scores.device)
    positive = torch.bucketize(scores.float(), edges, right=True) + 1
    return torch.where(scores > 0, positive, torch.zeros_like(positive))


def count_responses(scores: torch.Tensor) -> torch.Tensor:
    """(C, HISTOGRAM_BINS) counts of a batch's responses ``scores`` (N, C)."""
    return count_bins(histogram_bins(scores))


def count_bins(bins: torch.Tensor) -> torch.Tensor:
    """(C, HISTOGRAM_BINS) counts of a batch's response bins ``bins`` (N, C)."""
    import torch

    n, c = bins.shape
    flat = bins + torch.arange(c, device=bins.device).view(1, c) * HISTOGRAM_BINS
    return torch.bincount(flat.reshape(-1), minlength=c * HISTOGRAM_BINS).view(c, HISTOGRAM_BINS)


def selectivity_index(class_means: np.ndarray, active: np.ndarray, images: int) -> np.ndarray:
    """Per channel, ``(top - rest) / (top + rest)`` of the rectified class-mean responses
    ``class_means`` (classes, C; NaN rows for classes without images); NaN for a channel that fires
    on fewer than ``min_active_images(images)`` images (``active``, per channel)."""
    means = class_means[~np.isnan(class_means[:, 0])] if len(class_means) else class_means
    if len(means) < 2:
        return np.full(class_means.shape[1], np.nan)
    top = means.max(axis=0)
    rest = (means.sum(axis=0) - top) / (len(means) - 1)
    total = top + rest
    index = np.where(total > 0, (top - rest) / np.where(total > 0, total, 1.0), 0.0)
    return np.where(np.asarray(active) >= min_active_images(images), index, np.nan)


def ranked_channels(active: np.ndarray, peak: np.ndarray, images: int) -> np.ndarray:
    """Which channels' selectivity is defined: those firing on at least ``min_active_images(images)``
    images (``active``) whose strongest response (``peak``) is at least :data:`MIN_PEAK_SHARE` of the
    median strongest response over the layer's live channels."""
    active, peak = np.asarray(active), np.asarray(peak, dtype=np.float64)
    live = peak[peak > 0]
    floor = MIN_PEAK_SHARE * float(np.median(live)) if live.size else np.inf
    return (active >= min_active_images(images)) & (peak >= floor) & (peak > 0)


def magnitude_floor(peak: np.ndarray) -> float:
    """The strongest response a channel of this layer needs for its selectivity to be ranked."""
    peak = np.asarray(peak, dtype=np.float64)
    live = peak[peak > 0]
    return MIN_PEAK_SHARE * float(np.median(live)) if live.size else float("nan")


def selectivity_interval(class_sums: np.ndarray, class_squares: np.ndarray, class_counts: np.ndarray,
                         draws: int = BOOTSTRAP_DRAWS, seed: int = BOOTSTRAP_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The 95% bootstrap interval (2.5th and 97.5th percentiles) of each channel's selectivity,
    from the per-class sums and sums of squares of its rectified responses (classes, C) and the
    class sizes: each draw resamples a class's mean as the bootstrap over that class's images would,
    normally with the class's standard error (the mean of n resampled responses, by the central limit
    theorem; exact enough for the 10+ images a class needs), so that no per-image table is kept.
    Classes without images are left out; NaN where fewer than two classes have two images."""
    counts = np.asarray(class_counts, dtype=np.float64)
    keep = counts >= 2
    channels = class_sums.shape[1]
    if keep.sum() < 2:
        return np.full(channels, np.nan), np.full(channels, np.nan)
    n = counts[keep, None]
    means = class_sums[keep] / n
    variance = np.clip(class_squares[keep] / n - means ** 2, 0, None) * n / (n - 1)
    errors = np.sqrt(variance / n)
    rng = np.random.default_rng(seed)
    low, high = np.empty(channels), np.empty(channels)
    block = max(1, 4_000_000 // (draws * len(means)))  # bounded memory: draws x classes x block values
    for start in range(0, channels, block):
        part = slice(start, start + block)
        sampled = np.clip(means[None, :, part] + rng.standard_normal((draws, *means[:, part].shape)) * errors[None, :, part], 0, None)
        top = sampled.max(axis=1)
        rest = (sampled.sum(axis=1) - top) / (len(means) - 1)
        total = top + rest
        index = np.where(total > 0, (top - rest) / np.where(total > 0, total, 1.0), 0.0)
        low[part], high[part] = np.percentile(index, [2.5, 97.5], axis=0)
    return low, high


def bin_ranges(counts: np.ndarray) -> list[tuple[float, float]]:
    """The (low, high) response range of each bin, for labels: bin 0 is (-inf, 0]."""
    edges = [0.0, *HISTOGRAM_EDGES.tolist(), math.inf]
    return [(-math.inf, 0.0)] + [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)][: len(counts) - 1]
