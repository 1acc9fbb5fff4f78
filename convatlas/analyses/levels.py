"""Examples across a channel's range: images at several levels of its positive responses, not only
the extremes (as OpenAI Microscope shows dataset examples at several activation levels).

The index's one streaming pass keeps, for every channel and every histogram bin of its responses
(:mod:`convatlas.analyses.responses`: four bins per octave), a small uniform sample of the images
whose response fell in that bin: the ``size`` images with the smallest sampling keys, the keys being
a seeded random permutation of the probe images. After the pass the exact histogram tells which bin
holds each level (the 50th, 90th and 99th percentile of the channel's positive responses, as
``numpy.quantile(..., method="inverted_cdf")`` defines it: the ``ceil(q n)``-th smallest of its ``n``
positive responses), and that bin's sample gives the examples.

What is exact: the bin of each level (histogram counts are exact), the sampled images' responses and
positions, and the sample itself (the images of the smallest keys, the same whatever the batch size
or the sharding). What is not: an example's response is not the percentile itself, only within its
bin, a factor 2^(1/4) (19%) wide.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .responses import HISTOGRAM_BINS, HISTOGRAM_EDGES

LEVELS = (0.5, 0.9, 0.99)  # percentiles of a channel's positive responses, with its top-k above them
PER_LEVEL = 3  # examples kept per bin, shown per level
NO_KEY = 2**31 - 1  # an empty slot: larger than any image's key
KEY_SEED = 0


def image_keys(images: int, seed: int = KEY_SEED) -> torch.Tensor:
    """Each probe image's sampling key: a seeded random permutation of ``range(images)`` (int64)."""
    if images >= NO_KEY:
        raise ValueError(f"{images:,} probe images: at most {NO_KEY - 1:,} can be sampled")
    return torch.randperm(images, generator=torch.Generator().manual_seed(seed))


def bin_range(bin_index: int) -> tuple[float, float]:
    """The responses of histogram bin ``bin_index`` (>= 1): ``[low, high)``."""
    edges = [0.0, *HISTOGRAM_EDGES.tolist(), math.inf]
    return edges[bin_index - 1], edges[bin_index]


@dataclass
class LevelSamples:
    """Per (channel, bin), the ``size`` images of smallest key with their response and position."""

    channels: int
    size: int = PER_LEVEL
    keys: torch.Tensor = field(init=False)
    images: torch.Tensor = field(init=False)
    values: torch.Tensor = field(init=False)
    ys: torch.Tensor = field(init=False)
    xs: torch.Tensor = field(init=False)

    def __post_init__(self):
        shape = (self.channels * HISTOGRAM_BINS, self.size)  # row: channel * HISTOGRAM_BINS + bin
        self.keys = torch.full(shape, NO_KEY, dtype=torch.int64)
        self.images = torch.full(shape, -1, dtype=torch.int64)
        self.values = torch.zeros(shape, dtype=torch.float32)
        self.ys = torch.zeros(shape, dtype=torch.int32)
        self.xs = torch.zeros(shape, dtype=torch.int32)

    def update(self, bins: torch.Tensor, scores: torch.Tensor, keys: torch.Tensor, image_indices: torch.Tensor,
               flat: torch.Tensor, width: int) -> None:
        """Fold a batch in: ``bins`` and ``scores`` (N, C) the response's bin and value per image and
        channel, ``keys`` and ``image_indices`` (N,) per image, ``flat`` (N, C, positions) the maps
        (for the position of the largest activation, found only for the images that enter)."""
        n, c = bins.shape
        cells = torch.arange(c).view(1, c) * HISTOGRAM_BINS + bins
        per_image = keys.view(n, 1).expand(n, c)
        enters = (bins > 0) & (per_image < self.keys[cells, -1])
        if not enters.any():
            return
        image_at, channel_at = enters.nonzero(as_tuple=True)
        where = flat[image_at, channel_at].argmax(dim=1)
        self._keep(cells[image_at, channel_at], per_image[image_at, channel_at], image_indices[image_at],
                   scores[image_at, channel_at].float(), (where // width).int(), (where % width).int())

    def _keep(self, cells, keys, images, values, ys, xs) -> None:
        """Merge entries (one per element) into their cells, keeping the ``size`` smallest keys."""
        affected = torch.unique(cells)
        size = self.size
        all_cells = torch.cat([affected.repeat_interleave(size), cells])
        all_keys = torch.cat([self.keys[affected].reshape(-1), keys])
        columns = [torch.cat([getattr(self, name)[affected].reshape(-1), new])
                   for name, new in (("images", images), ("values", values), ("ys", ys), ("xs", xs))]
        order = torch.argsort(all_cells * (NO_KEY + 1) + all_keys)
        sorted_cells = all_cells[order]
        _, counts = torch.unique_consecutive(sorted_cells, return_counts=True)
        starts = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        rank = torch.arange(len(order)) - starts
        keep = rank < size
        target_cells, target_ranks, chosen = sorted_cells[keep], rank[keep], order[keep]
        self.keys[target_cells, target_ranks] = all_keys[chosen]
        for name, column in zip(("images", "values", "ys", "xs"), columns, strict=True):
            getattr(self, name)[target_cells, target_ranks] = column[chosen]

    @classmethod
    def merged(cls, parts: Sequence[LevelSamples]) -> LevelSamples:
        """The samples of the union of the parts' images (shards): the same as one pass over them."""
        first = parts[0]
        out = cls(first.channels, first.size)
        for part in parts:
            filled = part.keys < NO_KEY
            rows = torch.arange(len(part.keys)).view(-1, 1).expand_as(part.keys)
            if filled.any():
                out._keep(rows[filled], part.keys[filled], part.images[filled], part.values[filled], part.ys[filled],
                          part.xs[filled])
        return out

    def state(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).numpy() for name in ("keys", "images", "values", "ys", "xs")}

    @classmethod
    def from_state(cls, channels: int, arrays: dict[str, np.ndarray]) -> LevelSamples:
        out = cls(channels, int(arrays["keys"].shape[1]))
        for name in ("keys", "images", "values", "ys", "xs"):
            setattr(out, name, torch.from_numpy(np.array(arrays[name])))
        return out


def level_bins(histogram: np.ndarray, levels: Sequence[float] = LEVELS) -> np.ndarray:
    """(C, levels) the histogram bin holding each level of each channel's positive responses (the
    ``ceil(q n)``-th smallest of ``n``); 0 for a channel that never fires."""
    positive = np.asarray(histogram)[:, 1:]
    cumulative = np.cumsum(positive, axis=1)
    total = cumulative[:, -1]
    out = np.zeros((len(positive), len(levels)), dtype=np.int64)
    for j, q in enumerate(levels):
        rank = np.maximum(1, np.ceil(q * total - 1e-9)).astype(np.int64)
        out[:, j] = np.where(total > 0, (cumulative < rank[:, None]).sum(axis=1) + 1, 0)
    return out


def level_examples(layer: str, samples: LevelSamples, histogram: np.ndarray,
                   levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """One row per example: layer, channel, level (e.g. 0.9), bin_low and bin_high (the responses of
    the level's bin), rank (the example's place in the sample), image, value, y, x, and positives
    (how many images the channel fires on)."""
    bins = level_bins(histogram, levels)
    positives = np.asarray(histogram)[:, 1:].sum(axis=1)
    rows = {key: [] for key in ("channel", "level", "bin_low", "bin_high", "rank", "image", "value", "y", "x", "positives")}
    images, values = samples.images.numpy(), samples.values.numpy()
    ys, xs = samples.ys.numpy(), samples.xs.numpy()
    for channel in range(samples.channels):
        for j, q in enumerate(levels):
            b = int(bins[channel, j])
            if b == 0:
                continue
            low, high = bin_range(b)
            cell = channel * HISTOGRAM_BINS + b
            for rank in range(samples.size):
                if images[cell, rank] < 0:
                    break
                for key, value in (("channel", channel), ("level", q), ("bin_low", low), ("bin_high", high),
                                   ("rank", rank), ("image", int(images[cell, rank])), ("value", float(values[cell, rank])),
                                   ("y", int(ys[cell, rank])), ("x", int(xs[cell, rank])),
                                   ("positives", int(positives[channel]))):
                    rows[key].append(value)
    frame = pd.DataFrame(rows).astype({"channel": np.int32, "level": np.float32, "rank": np.int32, "image": np.int64,
                                       "value": np.float32, "y": np.int32, "x": np.int32, "positives": np.int64})
    frame.insert(0, "layer", layer)
    return frame
