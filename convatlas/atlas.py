"""The layer and channel pages of one (model, epoch, layer): one job renders every channel.

Per layer: ``index.html`` (a card per channel, sortable and filterable, thumbnails packed in one
sprite sheet) and ``channel-{c}.html`` per channel (its top-k receptive-field patches with value,
image, true and predicted class; the full images with the box drawn; class-selectivity bars).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .data import ImageSet
from .graph import Axis, ReceptiveField
from .images import display_factor, draw_box, grid, receptive_patch, resize_nearest, save_png, to_rgb, upscale
from .site import Renderer, model_dir

THUMB = 48
SPRITE_COLUMNS = 32
GAP = 2


def layer_folder(model: str, epoch: int, layer: str) -> str:
    """A layer's folder relative to the site root."""
    return f"{model_dir(model)}/epoch-{epoch}/{layer}"


def receptive_field(info: dict[str, Any]) -> ReceptiveField:
    """The ReceptiveField stored for a layer in ``layers.json``."""
    return ReceptiveField(Axis(*info["rf_y"]), Axis(*info["rf_x"]), whole=info["whole"])


def _unit_geometry(field: ReceptiveField, y: int, x: int, height: int, width: int):
    box = field.box(y, x, height, width)
    if field.whole:
        return box, (0, 0), (height, width)
    origin = (field.y.start + y * field.y.jump, field.x.start + x * field.x.jump)
    return box, origin, (field.y.size, field.x.size)


def _columns(k: int) -> int:
    return int(np.ceil(np.sqrt(k)))


def render_layer(
    model: str,
    epoch: int,
    layer: str,
    layer_info: dict[str, Any],
    layer_names: Sequence[str],
    page_epochs: Sequence[int],
    index: pd.DataFrame,
    stats: pd.DataFrame,
    predictions: pd.DataFrame,
    probe: ImageSet,
    template_dir: str | os.PathLike,
    site_dir: str | os.PathLike,
    title: str = "convatlas",
) -> Path:
    """Write the layer page, every channel page and their images; return the layer folder."""
    renderer = Renderer(template_dir, site_dir, title)
    folder = layer_folder(model, epoch, layer)
    out = Path(site_dir) / folder
    classes = probe.classes
    index = index[index.layer == layer].sort_values(["channel", "rank"])
    stats = stats[stats.layer == layer].sort_values("channel").reset_index(drop=True)
    channels = len(stats)
    k = int(index["rank"].max()) + 1 if len(index) else 0
    height, width = probe.size
    field = receptive_field(layer_info)
    rf_h, rf_w = field.size(height, width)
    patch_factor = display_factor(max(rf_h, rf_w))
    context_factor = display_factor(max(height, width))
    cell = (rf_h * patch_factor, rf_w * patch_factor)
    context_cell = (height * context_factor, width * context_factor)
    columns = _columns(k)

    needed = np.unique(index["image"].to_numpy())
    pictures = dict(zip(needed.tolist(), (to_rgb(img) for img in probe.images(needed))))
    label = predictions.set_index("image")["label"]
    predicted = predictions.set_index("image")["predicted"]

    thumbs, cards = [], []
    for channel, rows in index.groupby("channel", sort=True):
        patches, contexts, tops = [], [], []
        for row in rows.itertuples():
            image = pictures[row.image]
            box, origin, size = _unit_geometry(field, row.y, row.x, height, width)
            patches.append(receptive_patch(image, box, origin, size))
            contexts.append(draw_box(image, box, context_factor))
            tops.append({
                "rank": row.rank, "value": float(row.value), "image": int(row.image),
                "label": classes[int(label[row.image])], "predicted": classes[int(predicted[row.image])],
                "correct": int(label[row.image]) == int(predicted[row.image]),
                "col": row.rank % columns, "row": row.rank // columns,
            })
        save_png(grid([upscale(p, patch_factor) for p in patches], columns, GAP), out / "img" / f"{channel}-patches.png")
        save_png(grid(contexts, columns, GAP), out / "img" / f"{channel}-context.png")
        thumbs.append(resize_nearest(patches[0], THUMB))
        info = stats.iloc[channel]
        means = [float(info[f"class_mean_{i}"]) for i in range(len(classes))]
        top_mean = max([m for m in means if m == m] + [1e-12])
        card = {
            "channel": int(channel), "max": float(info["max"]), "mean": float(info["mean"]),
            "fraction_positive": float(info["fraction_positive"]), "selectivity": float(info["selectivity"]),
            "dead": bool(info["dead"]), "top_class": classes[int(info["top_class"])],
            "sprite_x": (channel % SPRITE_COLUMNS) * THUMB, "sprite_y": (channel // SPRITE_COLUMNS) * THUMB,
            "class_bars": [{"name": c, "mean": m, "percent": max(0.0, 100 * m / top_mean)} for c, m in zip(classes, means)],
        }
        cards.append(card)
        renderer.render("channel.html", f"{folder}/channel-{channel}.html", **_context(
            model, epoch, layer, layer_info, layer_names, page_epochs),
            channel=card, tops=tops, channels=channels, cell=cell, context_cell=context_cell, gap=GAP,
            rf=(rf_h, rf_w))
    sprite = grid(thumbs, SPRITE_COLUMNS, gap=0) if thumbs else np.zeros((1, 1, 3), np.uint8)
    save_png(sprite, out / "img" / "sprite.png")
    dead = float(stats["dead"].mean()) if channels else 0.0
    renderer.render("layer.html", f"{folder}/index.html", **_context(
        model, epoch, layer, layer_info, layer_names, page_epochs),
        cards=cards, dead_fraction=dead, thumb=THUMB, rf=(rf_h, rf_w), classes=classes)
    return out


def _context(model, epoch, layer, layer_info, layer_names, page_epochs) -> dict[str, Any]:
    position = list(layer_names).index(layer)
    return {
        "model": model, "epoch": epoch, "layer": layer, "info": layer_info,
        "previous_layer": layer_names[position - 1] if position > 0 else None,
        "next_layer": layer_names[position + 1] if position + 1 < len(layer_names) else None,
        "other_epochs": [e for e in page_epochs if e != epoch],
    }
