"""Correspondence analysis (Zeiler & Fergus Table 1): does the network treat the same part of
different images consistently?

For images of one class, occlude the same named part in each, and at each layer take
eps_i = x_i - x~_i (features of the original minus the occluded image). Delta_l is the mean, over
all pairs i < j, of the normalised Hamming distance between sign(eps_i) and sign(eps_j); lower
means the part is handled more consistently. A control occludes boxes of the same size at random
places (several seeded draws).
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..nn.hooks import capture_outputs
from .part_boxes import part_box

__all__ = ["correspondence_pairs", "occlude_boxes", "pair_distances", "part_box", "summarise_pairs"]


def occlude_boxes(images: torch.Tensor, boxes: Sequence[tuple[int, int, int, int]], fill: float = 0.0) -> torch.Tensor:
    """A copy of each image with its own box filled."""
    out = images.clone()
    for i, (y0, x0, y1, x1) in enumerate(boxes):
        out[i, :, y0:y1, x0:x1] = fill
    return out


@torch.no_grad()
def _features(model: nn.Module, layers: Sequence[str], images: torch.Tensor) -> dict[str, torch.Tensor]:
    with capture_outputs(model, layers) as outputs:
        model(images)
    return {name: outputs[name].flatten(1).double() for name in layers}


def pair_distances(eps: torch.Tensor) -> list[float]:
    """The normalised Hamming distance between sign(eps_i) and sign(eps_j) for every pair i < j."""
    signs = torch.sign(eps)
    return [float((signs[i] != signs[j]).double().mean()) for i, j in combinations(range(len(signs)), 2)]


def correspondence_pairs(
    model: nn.Module,
    layers: Sequence[str],
    images: torch.Tensor,
    parts: dict[str, tuple[int, int, int, int]],
    random_draws: int = 10,
    seed: int = 0,
    fill: float = 0.0,
) -> pd.DataFrame:
    """The distance of every pair of images, per (part, layer), with the random control as part
    ``random`` (one set of pairs per draw).

    Columns: part, layer, draw, first, second (image positions, first < second), distance.
    ``images`` are normalised images of one class.
    """
    model.eval()
    original = _features(model, layers, images)
    pairs = list(combinations(range(len(images)), 2))
    rows = []

    def add(part: str, draw: int, occluded: dict[str, torch.Tensor]) -> None:
        for layer in layers:
            distances = pair_distances(original[layer] - occluded[layer])
            rows.extend({"part": part, "layer": layer, "draw": draw, "first": i, "second": j, "distance": d}
                        for (i, j), d in zip(pairs, distances, strict=True))

    for part, box in parts.items():
        add(part, 0, _features(model, layers, occlude_boxes(images, [box] * len(images), fill)))
    if random_draws:
        generator = torch.Generator().manual_seed(seed)
        _, _, height, width = images.shape
        sizes = [(y1 - y0, x1 - x0) for y0, x0, y1, x1 in parts.values()]
        h = int(round(np.mean([s[0] for s in sizes])))
        w = int(round(np.mean([s[1] for s in sizes])))
        for draw in range(random_draws):
            ys = torch.randint(0, height - h + 1, (len(images),), generator=generator).tolist()
            xs = torch.randint(0, width - w + 1, (len(images),), generator=generator).tolist()
            boxes = [(y, x, y + h, x + w) for y, x in zip(ys, xs, strict=True)]
            add("random", draw, _features(model, layers, occlude_boxes(images, boxes, fill)))
    return pd.DataFrame(rows, columns=["part", "layer", "draw", "first", "second", "distance"])


def summarise_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Delta per (part, layer) from :func:`correspondence_pairs`: columns part, layer, delta (the mean
    distance), std (over pairs, and for the control over the pairs of every draw), draws."""
    grouped = pairs.groupby(["part", "layer"], sort=False)["distance"]
    table = grouped.agg(delta="mean", std=lambda d: float(np.std(d))).reset_index()
    table["draws"] = pairs.groupby(["part", "layer"], sort=False)["draw"].nunique().to_numpy()
    return table
