"""The layer and channel pages of one (model, epoch, layer): one job renders every channel.

Per layer: ``index.html`` (a card per channel, sortable and filterable, thumbnails packed in one
sprite sheet; the Zeiler & Fergus overview of projections beside patches for a sample of
channels; feature-evolution strips; the first layer's filters) and ``channel-{c}.html`` per channel
(its top-k receptive-field patches with value, image, true and predicted class, beside their
deconvnet projections; the full images with the box drawn; class-selectivity bars; evolution).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .data import ImageSet
from .graph import Axis, ReceptiveField
from .images import (
    display_factor, draw_box, grid, receptive_patch, resize_nearest, save_png, signed_to_rgb, to_rgb, upscale,
)
from .site import Renderer, model_dir

THUMB = 48
SPRITE_COLUMNS = 32
GAP = 2
PROJECTION_TITLES = {
    "deconvnet": "deconvnet projections",
    "guided": "guided backpropagation",
    "deconvnet_trunk": "deconvnet through the trunk only",
    "deconvnet_shortcut": "deconvnet through the shortcut only",
}


def layer_folder(model: str, epoch: int, layer: str) -> str:
    """A layer's folder relative to the site root."""
    return f"{model_dir(model)}/epoch-{epoch}/{layer}"


def receptive_field(info: dict[str, Any]) -> ReceptiveField:
    """The ReceptiveField stored for a layer in ``layers.json``."""
    return ReceptiveField(Axis(*info["rf_y"]), Axis(*info["rf_x"]), whole=info["whole"])


def sample_channels(channels: int, count: int) -> list[int]:
    """Up to ``count`` channel numbers spread evenly over ``range(channels)``."""
    if count <= 0 or channels == 0:
        return []
    return sorted({int(round(c)) for c in np.linspace(0, channels - 1, min(count, channels))})


@dataclass
class LayerPage:
    """Everything one layer's pages show."""

    model: str
    epoch: int
    layer: str
    info: dict[str, Any]  # the layer's entry in layers.json
    layer_names: Sequence[str]
    page_epochs: Sequence[int]  # epochs whose pages exist (for links)
    index: pd.DataFrame
    stats: pd.DataFrame
    predictions: pd.DataFrame
    probe: ImageSet
    projections: dict[str, np.ndarray] = field(default_factory=dict)  # method -> (C, k, h, w, in)
    evolution: dict[int, np.ndarray] = field(default_factory=dict)  # epoch -> (C, h, w, in) top-1 projection
    filters: np.ndarray | None = None  # (C, in, kh, kw) first-layer weights
    ablation: pd.DataFrame | None = None  # per-channel ablation: accuracy, accuracy_drop, class_{i}
    maximised: dict[str, np.ndarray] | None = None  # "noise" (and "top1"): (C, H, W, in) images in [0, 1]
    overview_channels: int = 16
    evolution_channels: int = 8


def _columns(k: int) -> int:
    return int(np.ceil(np.sqrt(k)))


def _filter_images(weights: np.ndarray) -> list[np.ndarray]:
    """Each filter (in, kh, kw) normalised around grey and upscaled to about 48 px."""
    factor = display_factor(max(weights.shape[2:]), THUMB)
    return [upscale(signed_to_rgb(w.transpose(1, 2, 0)), factor) for w in weights]


def render_layer(page: LayerPage, template_dir: str | os.PathLike, site_dir: str | os.PathLike,
                 title: str = "convatlas") -> Path:
    """Write the layer page, every channel page and their images; return the layer folder."""
    renderer = Renderer(template_dir, site_dir, title)
    folder = layer_folder(page.model, page.epoch, page.layer)
    out = Path(site_dir) / folder
    probe, classes = page.probe, page.probe.classes
    index = page.index[page.index.layer == page.layer].sort_values(["channel", "rank"])
    stats = page.stats[page.stats.layer == page.layer].sort_values("channel").reset_index(drop=True)
    channels = len(stats)
    k = int(index["rank"].max()) + 1 if len(index) else 0
    height, width = probe.size
    rf = receptive_field(page.info)
    rf_h, rf_w = rf.size(height, width)
    patch_factor = display_factor(max(rf_h, rf_w))
    context_factor = display_factor(max(height, width))
    geometry = {
        "cell": (rf_h * patch_factor, rf_w * patch_factor),
        "context_cell": (height * context_factor, width * context_factor),
        "gap": GAP, "rf": (rf_h, rf_w), "columns": _columns(k),
    }
    columns = geometry["columns"]
    evolution_epochs = sorted(page.evolution)
    methods = [m for m in PROJECTION_TITLES if m in page.projections]
    maximised_kinds = [k for k in ("noise", "top1") if page.maximised and k in page.maximised]
    filters = _filter_images(page.filters) if page.filters is not None else None

    needed = np.unique(index["image"].to_numpy())
    pictures = dict(zip(needed.tolist(), (to_rgb(img) for img in probe.images(torch.as_tensor(needed, dtype=torch.long)))))
    label = page.predictions.set_index("image")["label"]
    predicted = page.predictions.set_index("image")["predicted"]
    common = {
        "model": page.model, "epoch": page.epoch, "layer": page.layer, "info": page.info,
        "other_epochs": [e for e in page.page_epochs if e != page.epoch],
        "methods": [{"key": m, "title": PROJECTION_TITLES[m]} for m in methods],
        "evolution_epochs": evolution_epochs, "k": k, **geometry,
    }
    position = list(page.layer_names).index(page.layer)
    common["previous_layer"] = page.layer_names[position - 1] if position > 0 else None
    common["next_layer"] = page.layer_names[position + 1] if position + 1 < len(page.layer_names) else None

    thumbs, cards = [], []
    for channel, rows in index.groupby("channel", sort=True):
        patches, contexts, tops = [], [], []
        for row in rows.itertuples():
            image = pictures[row.image]
            box, origin, size = rf.unit_geometry(row.y, row.x, height, width)
            patches.append(receptive_patch(image, box, origin, size))
            contexts.append(draw_box(image, box, context_factor))
            tops.append({
                "rank": row.rank, "value": float(row.value), "image": int(row.image),
                "label": classes[int(label[row.image])], "predicted": classes[int(predicted[row.image])],
                "correct": int(label[row.image]) == int(predicted[row.image]),
                "col": row.rank % columns, "row": row.rank // columns,
            })
        img = out / "img"
        save_png(grid([upscale(p, patch_factor) for p in patches], columns, GAP), img / f"{channel}-patches.png")
        save_png(grid(contexts, columns, GAP), img / f"{channel}-context.png")
        for method in methods:
            cells = [upscale(signed_to_rgb(p), patch_factor) for p in page.projections[method][channel]]
            save_png(grid(cells, columns, GAP), img / f"{channel}-{method}.png")
        if evolution_epochs:
            strip = [upscale(signed_to_rgb(page.evolution[e][channel]), patch_factor) for e in evolution_epochs]
            save_png(grid(strip, len(strip), GAP), img / f"{channel}-evolution.png")
        if filters is not None:
            save_png(filters[channel], img / f"{channel}-filter.png")
        for kind in maximised_kinds:
            image = page.maximised[kind][channel]
            shown = _stretched(image) if kind == "noise" else _pixels(image)
            save_png(upscale(shown, context_factor), img / f"{channel}-max-{kind}.png")
        thumbs.append(resize_nearest(patches[0], THUMB))
        card = _card(stats.iloc[channel], classes, channel)
        if page.ablation is not None:
            card["ablation"] = _ablation_effect(page.ablation.iloc[channel], classes)
        cards.append(card)
        renderer.render("channel.html", f"{folder}/channel-{channel}.html", **common,
                        channel=card, tops=tops, channels=channels, has_filter=filters is not None,
                        maximised=maximised_kinds)
    save_png(grid(thumbs, SPRITE_COLUMNS, gap=0) if thumbs else np.zeros((1, 1, 3), np.uint8), out / "img" / "sprite.png")
    if filters is not None:
        save_png(grid(filters, min(16, len(filters)), GAP), out / "img" / "filters.png")
    if maximised_kinds:
        mosaic = [upscale(_stretched(image), display_factor(max(height, width), 56)) for image in page.maximised["noise"]]
        save_png(grid(mosaic, min(16, len(mosaic)), GAP), out / "img" / "maximised.png")
    renderer.render(
        "layer.html", f"{folder}/index.html", **common, cards=cards, thumb=THUMB, classes=classes,
        dead_fraction=float(stats["dead"].mean()) if channels else 0.0,
        overview=sample_channels(channels, page.overview_channels) if methods else [],
        evolution=sample_channels(channels, page.evolution_channels) if evolution_epochs else [],
        has_filters=filters is not None, has_ablation=page.ablation is not None,
        has_maximised=bool(maximised_kinds), mosaic_columns=min(16, channels),
    )
    return out


def _pixels(image: np.ndarray) -> np.ndarray:
    """An (H, W, C) image in [0, 1] as uint8 RGB."""
    return to_rgb((np.clip(image, 0, 1) * 255).round().astype(np.uint8).transpose(2, 0, 1))


def _stretched(image: np.ndarray) -> np.ndarray:
    """An optimised image contrast-stretched to its own range (its changes are often faint)."""
    low, high = float(image.min()), float(image.max())
    return _pixels((image - low) / (high - low) if high > low else image)


def _ablation_effect(row: pd.Series, classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy with the channel switched off, overall and per class, against the unablated model."""
    base = float(row["base_accuracy"])
    return {"accuracy": float(row["accuracy"]), "drop": float(row["accuracy_drop"]), "base": base,
            "classes": [{"name": c, "accuracy": float(row[f"class_{i}"]), "base": float(row[f"base_class_{i}"])}
                        for i, c in enumerate(classes)]}


def _card(info: pd.Series, classes: Sequence[str], channel: int) -> dict[str, Any]:
    means = [float(info[f"class_mean_{i}"]) for i in range(len(classes))]
    top_mean = max([m for m in means if m == m] + [1e-12])
    return {
        "channel": int(channel), "max": float(info["max"]), "mean": float(info["mean"]),
        "fraction_positive": float(info["fraction_positive"]), "selectivity": float(info["selectivity"]),
        "dead": bool(info["dead"]), "top_class": classes[int(info["top_class"])], "ablation": None,
        "sprite_x": (channel % SPRITE_COLUMNS) * THUMB, "sprite_y": (channel // SPRITE_COLUMNS) * THUMB,
        "class_bars": [{"name": c, "mean": m, "percent": max(0.0, 100 * m / top_mean)} for c, m in zip(classes, means)],
    }


def load_layer_page(
    model: str, epoch: int, layer: str, layer_names: Sequence[str], page_epochs: Sequence[int],
    checkpoint: str | os.PathLike, files: dict[str, str | os.PathLike], evolution_files: dict[int, str | os.PathLike],
    probe: ImageSet, overview_channels: int = 16, evolution_channels: int = 8,
) -> LayerPage:
    """Read what a layer's pages show: ``files`` has index, stats, predictions, layers,
    projections (the epoch's .npz) and optionally ablation (Parquet); ``evolution_files`` the
    projections of every checkpoint."""
    from .checkpoint import load_checkpoint
    from .deconv import read_projections
    from .graph import ModelGraph
    from .io import read_json, read_npz

    info = next(entry for entry in read_json(files["layers"])["layers"] if entry["name"] == layer)
    projections = read_projections(files["projections"])
    evolution = {}
    if "deconvnet" in projections:
        evolution = {int(e): read_projections(path)["deconvnet"][:, 0] for e, path in evolution_files.items()}
    net, meta = load_checkpoint(checkpoint)
    size = meta["image_size"]
    first = ModelGraph(net, (meta["in_channels"], size, size)).first_conv()
    filters = None
    if first and first[1] == layer:
        filters = net.get_submodule(first[0]).weight.detach().cpu().numpy()
    return LayerPage(
        model, epoch, layer, info, layer_names, page_epochs,
        pd.read_parquet(files["index"]), pd.read_parquet(files["stats"]), pd.read_parquet(files["predictions"]),
        probe, projections=projections, evolution=evolution, filters=filters,
        ablation=pd.read_parquet(files["ablation"]) if files.get("ablation") else None,
        maximised=read_npz(files["maximise"]) if files.get("maximise") else None,
        overview_channels=overview_channels, evolution_channels=evolution_channels,
    )
