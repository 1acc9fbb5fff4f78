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
from .boxes import part_box

__all__ = ["correspondence", "occlude_boxes", "pair_distances", "part_box"]


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


def correspondence(
    model: nn.Module,
    layers: Sequence[str],
    images: torch.Tensor,
    parts: dict[str, tuple[int, int, int, int]],
    random_draws: int = 10,
    seed: int = 0,
    fill: float = 0.0,
) -> pd.DataFrame:
    """Delta per (part, layer), with the random control as part ``random``.

    Columns: part, layer, delta, std (over pairs, and for the control over pairs of every draw),
    draws. ``images`` are normalised images of one class.
    """
    model.eval()
    original = _features(model, layers, images)
    rows = []
    for part, box in parts.items():
        occluded = _features(model, layers, occlude_boxes(images, [box] * len(images), fill))
        for layer in layers:
            distances = pair_distances(original[layer] - occluded[layer])
            rows.append({"part": part, "layer": layer, "delta": float(np.mean(distances)),
                         "std": float(np.std(distances)), "draws": 1})
    if random_draws:
        generator = torch.Generator().manual_seed(seed)
        _, _, height, width = images.shape
        sizes = [(y1 - y0, x1 - x0) for y0, x0, y1, x1 in parts.values()]
        h = int(round(np.mean([s[0] for s in sizes])))
        w = int(round(np.mean([s[1] for s in sizes])))
        per_layer = {layer: [] for layer in layers}
        for _ in range(random_draws):
            ys = torch.randint(0, height - h + 1, (len(images),), generator=generator).tolist()
            xs = torch.randint(0, width - w + 1, (len(images),), generator=generator).tolist()
            boxes = [(y, x, y + h, x + w) for y, x in zip(ys, xs, strict=True)]
            occluded = _features(model, layers, occlude_boxes(images, boxes, fill))
            for layer in layers:
                per_layer[layer].extend(pair_distances(original[layer] - occluded[layer]))
        for layer in layers:
            values = per_layer[layer]
            rows.append({"part": "random", "layer": layer, "delta": float(np.mean(values)),
                         "std": float(np.std(values)), "draws": random_draws})
    return pd.DataFrame(rows)
