"""Invariance analysis (Zeiler & Fergus Fig. 5): how features and the true-class probability change
as an image is translated vertically, rotated and scaled.

For each transformed copy: the Euclidean distance between the feature vectors of the original and
the transformed image, divided by the original's norm, at the first analysed layer and at the top
(last) analysed layer, and the probability of the true class. All copies run as one batch.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn

from ..data.transforms import normalise
from ..nn.hooks import capture_outputs

TRANSFORMS = ("translation", "rotation", "scale")


def transform(images: torch.Tensor, kind: str, value: float, fill: float = 0.0) -> torch.Tensor:
    """Float images (N, C, H, W) in [0, 1] translated down by ``value`` px, rotated by ``value``
    degrees, or scaled by ``value`` about the centre; uncovered pixels get ``fill``."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    if kind == "translation":
        args = dict(angle=0.0, translate=[0, int(round(value))], scale=1.0)
    elif kind == "rotation":
        args = dict(angle=float(value), translate=[0, 0], scale=1.0)
    elif kind == "scale":
        args = dict(angle=0.0, translate=[0, 0], scale=float(value))
    else:
        raise ValueError(f"unknown transformation {kind!r}; use one of {', '.join(TRANSFORMS)}")
    return TF.affine(images, shear=[0.0, 0.0], interpolation=InterpolationMode.BILINEAR, fill=[fill], **args)


@torch.no_grad()
def invariance(
    model: nn.Module,
    images: torch.Tensor,
    labels: Sequence[int],
    mean: Sequence[float],
    std: Sequence[float],
    layers: tuple[str, str],
    steps: dict[str, Sequence[float]],
    fill: float = 0.0,
    batch_size: int = 256,
) -> tuple[pd.DataFrame, dict[str, torch.Tensor]]:
    """Distances and probabilities for every image and transformation step.

    ``images`` are uint8 (N, C, H, W); ``layers`` the (first, top) layer names; ``steps`` maps a
    transformation to its values. Returns a table (transform, value, image, first_distance,
    top_distance, probability) and the transformed images (uint8) per transformation, for strips.
    """
    model.eval()
    pixels = images.float() / 255.0
    labels = torch.as_tensor(labels, dtype=torch.long)
    rows, strips = [], {}
    first, top = layers

    def features(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        outs_first, outs_top, probs = [], [], []
        for start in range(0, len(batch), batch_size):
            with capture_outputs(model, [first, top]) as outputs:
                logits = model(normalise(batch[start:start + batch_size], mean, std))
            outs_first.append(outputs[first].flatten(1).double())
            outs_top.append(outputs[top].flatten(1).double())
            probs.append(logits.float().softmax(dim=1))
        return torch.cat(outs_first), torch.cat(outs_top), torch.cat(probs)

    base_first, base_top, _ = features(pixels)
    for kind, values in steps.items():
        copies = torch.cat([transform(pixels, kind, v, fill) for v in values])  # value-major
        f_first, f_top, probs = features(copies)
        n = len(images)
        for k, value in enumerate(values):
            chunk = slice(k * n, (k + 1) * n)
            d_first = (f_first[chunk] - base_first).norm(dim=1) / base_first.norm(dim=1).clamp_min(1e-12)
            d_top = (f_top[chunk] - base_top).norm(dim=1) / base_top.norm(dim=1).clamp_min(1e-12)
            p_true = probs[chunk].gather(1, labels.view(-1, 1)).squeeze(1)
            for i in range(n):
                rows.append({"transform": kind, "value": float(value), "image": i,
                             "first_distance": float(d_first[i]), "top_distance": float(d_top[i]),
                             "probability": float(p_true[i])})
        strips[kind] = (copies.view(len(values), len(images), *images.shape[1:]) * 255).round().to(torch.uint8)
    return pd.DataFrame(rows), strips
