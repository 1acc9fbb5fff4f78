"""A deterministic, learnable generated dataset: one shape per class, at random place and scale."""
from __future__ import annotations

import numpy as np

SHAPES = ["disc", "square", "hstripes", "vstripes", "cross", "diagonal", "ring", "triangle"]


def _shape_masks(shape: str, yy: np.ndarray, xx: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Masks (N, H, W) of one shape; yy, xx are coordinates relative to each image's centre."""
    r = radius[:, None, None]
    dist = np.sqrt(yy**2 + xx**2)
    inside = (np.abs(yy) <= r) & (np.abs(xx) <= r)
    if shape == "disc":
        return dist <= r
    if shape == "square":
        return inside & ((np.abs(yy) >= r * 0.6) | (np.abs(xx) >= r * 0.6))
    if shape == "hstripes":
        return inside & (np.floor(yy / np.maximum(r / 2, 1)) % 2 == 0)
    if shape == "vstripes":
        return inside & (np.floor(xx / np.maximum(r / 2, 1)) % 2 == 0)
    if shape == "cross":
        return inside & ((np.abs(yy) <= r * 0.25) | (np.abs(xx) <= r * 0.25))
    if shape == "diagonal":
        return inside & (np.abs(yy - xx) <= r * 0.3)
    if shape == "ring":
        return (dist <= r) & (dist >= r * 0.6)
    if shape == "triangle":
        return inside & (yy >= -r) & (np.abs(xx) <= (yy + r) / 2)
    raise ValueError(shape)


def make_synthetic(
    count: int, size: int, channels: int, classes: int, seed: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Generate ``count`` images (N, C, size, size) uint8 with labels cycling through the classes.

    Same arguments, same images: everything is drawn from ``numpy.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % classes
    rng.shuffle(labels)
    grid = np.arange(size, dtype=np.float32)
    centre_y = size / 2 + rng.uniform(-size / 8, size / 8, count)
    centre_x = size / 2 + rng.uniform(-size / 8, size / 8, count)
    radius = rng.uniform(size * 0.22, size * 0.38, count)
    yy = grid[None, :, None] - centre_y[:, None, None]
    xx = grid[None, None, :] - centre_x[:, None, None]
    masks = np.zeros((count, size, size), dtype=bool)
    for label in range(classes):
        chosen = labels == label
        masks[chosen] = _shape_masks(SHAPES[label], yy[chosen], xx[chosen], radius[chosen])
    colour = rng.uniform(0.6, 1.0, (count, channels, 1, 1))
    noise = rng.normal(0.0, 0.08, (count, channels, size, size))
    images = masks[:, None, :, :] * colour + 0.1 + noise
    images = np.clip(images * 255.0, 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64), SHAPES[:classes]
