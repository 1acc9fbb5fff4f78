"""Batched transforms on uint8 image batches (N, C, H, W): augmentation and normalisation."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255] to float32 in [0, 1]."""
    return images.float().div_(255.0)


def normalise(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 (or [0, 1] float) batch to the normalised float batch a model sees."""
    if images.dtype == torch.uint8:
        images = to_float(images)
    mean_t = torch.as_tensor(mean, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    return (images - mean_t) / std_t


def denormalise(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Inverse of :func:`normalise`, to [0, 1] floats (not clipped)."""
    mean_t = torch.as_tensor(mean, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    return images * std_t + mean_t


def augment_batch(
    images: torch.Tensor, augment: Sequence[str], generator: torch.Generator, pad: int | None = None
) -> torch.Tensor:
    """Apply training augmentations to a whole batch at once.

    ``random_crop`` pads by ``pad`` pixels (default: an eighth of the size) with zeros and crops
    back at a random offset per image; ``hflip`` mirrors a random half of the images.
    """
    n, _, h, w = images.shape
    if "random_crop" in augment:
        pad = max(1, h // 8) if pad is None else pad
        padded = F.pad(images, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
        rows = (dy.view(n, 1) + torch.arange(h).view(1, h)).to(images.device)
        cols = (dx.view(n, 1) + torch.arange(w).view(1, w)).to(images.device)
        batch = torch.arange(n, device=images.device).view(n, 1, 1, 1)
        channel = torch.arange(images.shape[1], device=images.device).view(1, -1, 1, 1)
        images = padded[batch, channel, rows.view(n, 1, h, 1), cols.view(n, 1, 1, w)]
    if "hflip" in augment:
        flip = (torch.rand(n, generator=generator) < 0.5).to(images.device)
        images = torch.where(flip.view(n, 1, 1, 1), images.flip(-1), images)
    return images
