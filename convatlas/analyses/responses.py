"""A channel's response to each image, summarised: how often and how strongly it fires, and for
which classes.

An image's *response* is the channel's ranking score for it (by default its largest activation),
with a negative value counted as 0: the channel fires on an image when its response is positive.

Class selectivity (Morcos et al. 2018) compares the mean response of the channel's strongest class
with the mean of the other classes' means, ``(top - rest) / (top + rest)``: 0 when every class
draws the same response, 1 when only one class makes the channel fire. Responses are rectified, so
the index stays within [0, 1] for signed layers too (a block output before its ReLU). A channel
that fires on a handful of images would score 1 by chance; selectivity is left undefined (NaN)
unless the channel fires on at least :func:`min_active_images` probe images.

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
MIN_ACTIVE_IMAGES = 10  # ... and on at least 10 of them

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
    import torch

    n, c = scores.shape
    flat = histogram_bins(scores) + torch.arange(c, device=scores.device).view(1, c) * HISTOGRAM_BINS
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


def bin_ranges(counts: np.ndarray) -> list[tuple[float, float]]:
    """The (low, high) response range of each bin, for labels: bin 0 is (-inf, 0]."""
    edges = [0.0, *HISTOGRAM_EDGES.tolist(), math.inf]
    return [(-math.inf, 0.0)] + [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)][: len(counts) - 1]
