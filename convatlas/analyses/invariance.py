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
    strip_images: int = 5,
) -> tuple[pd.DataFrame, dict[str, torch.Tensor]]:
    """Distances and probabilities for every image and transformation step.

    ``images`` are uint8 (N, C, H, W); ``layers`` the (first, top) layer names; ``steps`` maps a
    transformation to its values. Returns a table (transform, value, image, first_distance,
    top_distance, probability) and, per transformation, the transformed copies (uint8, (steps,
    images, C, H, W)) of the first ``strip_images`` images, for strips. Copies go through the model
    a batch at a time: memory holds the originals' features and one batch, whatever the number of
    images and steps.
    """
    model.eval()
    pixels = images.float() / 255.0
    labels = torch.as_tensor(labels, dtype=torch.long)
    first, top = layers
    n = len(images)

    def features(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with capture_outputs(model, [first, top]) as outputs:
            logits = model(normalise(batch, mean, std))
        return outputs[first].flatten(1).double(), outputs[top].flatten(1).double(), logits.float().softmax(dim=1)

    bases = [features(pixels[s:s + batch_size])[:2] for s in range(0, n, batch_size)]
    base_first, base_top = torch.cat([b[0] for b in bases]), torch.cat([b[1] for b in bases])
    columns = {key: [] for key in ("transform", "value", "image", "first_distance", "top_distance", "probability")}
    strips = {}
    shown = min(strip_images, n)
    for kind, values in steps.items():
        strip = []
        for value in values:
            for s in range(0, n, batch_size):
                copies = transform(pixels[s:s + batch_size], kind, value, fill)
                f_first, f_top, probs = features(copies)
                index = torch.arange(s, s + len(copies))
                d_first = (f_first - base_first[index]).norm(dim=1) / base_first[index].norm(dim=1).clamp_min(1e-12)
                d_top = (f_top - base_top[index]).norm(dim=1) / base_top[index].norm(dim=1).clamp_min(1e-12)
                columns["first_distance"] += d_first.tolist()
                columns["top_distance"] += d_top.tolist()
                columns["probability"] += probs.gather(1, labels[index].view(-1, 1).to(probs.device)).squeeze(1).tolist()
                columns["image"] += index.tolist()
                columns["transform"] += [kind] * len(copies)
                columns["value"] += [float(value)] * len(copies)
                if s < shown:
                    strip.append((copies[: shown - s] * 255).round().to(torch.uint8).cpu())
        strips[kind] = torch.cat(strip).view(len(values), shown, *images.shape[1:])
    return pd.DataFrame(columns), strips
