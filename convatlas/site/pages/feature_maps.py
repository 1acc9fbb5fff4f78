"""Feature-map pages: for a few probe images, every channel's map at every analysed layer."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...results.artifacts import FeatureMaps, LayerRecord
from .. import layout
from ..images import LARGE, display_factor, float_to_uint8, grid, save_png, to_rgb, upscale
from ..render import Renderer

COLUMNS = 16  # maps per row of a spatial layer's mosaic
VECTOR_COLUMNS = 32  # units per row of a vector layer's mosaic
TILE = 56  # px a map is upscaled towards (by a whole factor)
THUMB = 56  # px an input thumbnail is upscaled towards (by a whole factor)
GAP = 1
MOSAIC_BACKGROUND = (90, 90, 110)


def map_mosaic(maps: np.ndarray, tile: int = TILE) -> np.ndarray:
    """All channels' maps (C, H, W) of one image as a grey mosaic on one scale for the layer (so weak
    channels look weak): white at the 99th percentile of the layer's positive activations on that
    image, so that a few extreme values do not leave every other map black; a vector (C,) becomes
    one square per unit."""
    if maps.ndim == 1:
        maps = maps[:, None, None]
    top = layer_scale(maps)
    scaled = np.clip(maps / top, 0, 1) if top > 0 else np.zeros_like(maps)
    factor = display_factor(max(maps.shape[1:]), tile)
    cells = [upscale(to_rgb(float_to_uint8(m)[None]), factor) for m in scaled]
    return grid(cells, min(mosaic_columns(maps), len(cells)), gap=GAP, background=MOSAIC_BACKGROUND)


MAP_PERCENTILE = 99  # of a layer's positive activations on an image: shown white


def layer_scale(maps: np.ndarray) -> float:
    """The activation a layer's maps of one image show as white (:data:`MAP_PERCENTILE`); 0 if none is positive."""
    positive = maps[maps > 0]
    return float(np.percentile(positive, MAP_PERCENTILE)) if positive.size else 0.0


def mosaic_columns(maps: np.ndarray) -> int:
    return COLUMNS if maps.ndim > 1 and maps.shape[1] > 1 else VECTOR_COLUMNS


def map_cells(maps: np.ndarray, tile: int = TILE) -> list[dict[str, Any]]:
    """Where each channel's cell lies in :func:`map_mosaic`'s image, with the channel's largest value."""
    flat = maps.reshape(len(maps), -1)
    size = (maps.shape[1] if maps.ndim > 1 else 1) * display_factor(max(maps.shape[1:]) if maps.ndim > 1 else 1, tile)
    columns = min(mosaic_columns(maps), len(maps))
    return [{"channel": c, "x": (c % columns) * (size + GAP), "y": (c // columns) * (size + GAP), "size": size,
             "max": float(flat[c].max())} for c in range(len(maps))]


def render_feature_maps(renderer: Renderer, model: str, epoch: int, maps: FeatureMaps,
                        layers: Sequence[LayerRecord], names: list[str] | None = None) -> None:
    """Write ``feature-maps/index.html`` and one page per image (named by ``names``, as every page
    names the analysed split's images; default ``image <i>``).

    ``maps`` holds ``images`` (uint8 (N, C, H, W)), ``labels``, ``predicted`` and, as
    ``map <layer>``, one array (N, ...) per layer; ``layers`` the layers as the index run recorded them."""
    images, classes = maps.images, maps.classes
    factor = display_factor(images.shape[-1], LARGE)
    thumb = display_factor(images.shape[-1], THUMB)
    entries, cells = [], {}
    for i in range(len(images)):
        save_png(upscale(to_rgb(images[i]), factor), renderer.path(layout.feature_maps_image(model, epoch, f"{i}-input")))
        save_png(upscale(to_rgb(images[i]), thumb), renderer.path(layout.feature_maps_image(model, epoch, f"{i}-thumb")))
        for layer in layers:
            layer_maps = maps.maps[layer.name][i]
            save_png(map_mosaic(layer_maps), renderer.path(layout.feature_maps_image(model, epoch, f"{i}-{layer.name}")))
            cells[i, layer.name] = map_cells(layer_maps)
        entries.append({"image": i, "name": names[i] if names else f"image {i}", "label": classes[int(maps.labels[i])],
                        "predicted": classes[int(maps.predicted[i])]})
    for entry in entries:
        shown = [{"name": layer.name, "shape": layer.shape, "kind": layer.kind,
                  "cells": cells[entry["image"], layer.name]} for layer in layers]
        renderer.render("feature_maps.html", layout.feature_maps_page(model, epoch, entry["image"]), model=model,
                        epoch=epoch, entry=entry, entries=entries, layers=shown)
    renderer.render("feature_maps.html", layout.feature_maps_page(model, epoch), model=model, epoch=epoch,
                    entry=None, entries=entries, layers=[])
