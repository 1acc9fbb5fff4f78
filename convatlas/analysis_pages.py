"""Pages of the occlusion, correspondence and invariance analyses of one (model, epoch)."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import torch

from .data import ImageSet
from .images import display_factor, draw_box, grid, save_png, signed_to_rgb, to_rgb, upscale
from .io import read_json, read_npz
from .attribution import EXPLANATIONS
from .plots import attribution_figure, invariance_figure, occlusion_figure
from .site import Renderer, model_dir

PART_COLOURS = [(230, 40, 40), (40, 120, 230), (40, 170, 60), (230, 160, 20), (160, 60, 200)]
UNITS = {"translation": "vertical shift (px)", "rotation": "angle (degrees, clockwise)", "scale": "scale factor"}


def analyses_folder(model: str, epoch: int) -> str:
    return f"{model_dir(model)}/epoch-{epoch}/analyses"


def _occlusion_pages(renderer: Renderer, folder: str, out: Path, occlusion: dict, probe: ImageSet, common: dict,
                     layer_names) -> None:
    classes = probe.classes
    windows = [int(w) for w in occlusion["windows"]]
    size = probe.size[0]
    factor = display_factor(size, 84)
    raw = probe.images(torch.as_tensor(occlusion["images"], dtype=torch.long))
    entries = []
    for m, image_index in enumerate(occlusion["images"].tolist()):
        image = to_rgb(raw[m].numpy())
        projection = signed_to_rgb(occlusion["projection"][m])
        maps = {key: {w: occlusion[f"{key}_{w}"][m] for w in windows} for key in ("activity", "probability", "predicted")}
        label = int(occlusion["labels"][m])
        occlusion_figure(image, projection, windows, maps, classes, label, out / "img" / f"occlusion-{image_index}.png",
                         title=f"image {image_index}: occlusion with windows of {', '.join(map(str, windows))} px")
        save_png(upscale(image, factor), out / "img" / f"input-{image_index}.png")
        predicted_index = int(occlusion["predicted"][m])
        if "saliency_true" in occlusion:
            rows = {f"{kind} ({classes[c]})": {key: occlusion[f"{key}_{kind}"][m] for key in ("saliency", "guided", "gradcam")}
                    for kind, c in (("true", label), ("predicted", predicted_index))}
            attribution_figure(image, maps["probability"][windows[-1]], windows[-1], rows,
                               out / "img" / f"attribution-{image_index}.png",
                               title=f"image {image_index}: gradient attributions beside occlusion")
        lowest = {w: float(maps["probability"][w].min()) for w in windows}
        worst = min(lowest, key=lowest.get)
        entries.append({
            "image": image_index, "label": classes[label], "predicted": classes[int(occlusion["predicted"][m])],
            "probability": float(occlusion["probability"][m]), "channel": int(occlusion["channels"][m]),
            "lowest": lowest, "worst_window": worst, "drop": float(occlusion["probability"][m]) - lowest[worst],
        })
    entries.sort(key=lambda e: e["drop"], reverse=True)
    for position, entry in enumerate(entries):
        renderer.render("occlusion_image.html", f"{folder}/occlusion-{entry['image']}.html", **common, entry=entry,
                        windows=windows, layer=str(occlusion["layer"]), stride=int(occlusion["stride"]),
                        layer_has_pages=str(occlusion["layer"]) in layer_names,
                        attributions="saliency_true" in occlusion, explanations=EXPLANATIONS,
                        previous=entries[position - 1]["image"] if position else None,
                        next=entries[position + 1]["image"] if position + 1 < len(entries) else None)
    renderer.render("occlusion.html", f"{folder}/occlusion.html", **common, entries=entries, windows=windows,
                    layer=str(occlusion["layer"]), stride=int(occlusion["stride"]))


def _correspondence_page(renderer: Renderer, folder: str, out: Path, table: pd.DataFrame, meta: dict,
                         probe: ImageSet, common: dict) -> None:
    size = probe.size[0]
    factor = display_factor(size, 112)
    raw = probe.images(torch.as_tensor(meta["images"], dtype=torch.long))
    parts = list(meta["boxes"])
    cells = []
    for m in range(len(raw)):
        picture = upscale(to_rgb(raw[m].numpy()), factor)
        for p, part in enumerate(parts):
            picture = draw_box(picture, tuple(v * factor for v in meta["boxes"][part]), 1, 2, PART_COLOURS[p % 5])
        cells.append(picture)
    save_png(grid(cells, len(cells), 4), out / "img" / "correspondence.png")
    rows = []
    for layer in meta["layers"]:
        row = {"layer": layer, "cells": []}
        for part in [*parts, "random"]:
            hit = table[(table.part == part) & (table.layer == layer)]
            row["cells"].append({"delta": float(hit.delta.iloc[0]), "std": float(hit["std"].iloc[0])} if len(hit) else None)
        rows.append(row)
    legend = [{"part": part, "colour": "#%02x%02x%02x" % PART_COLOURS[p % 5], "box": meta["boxes"][part]}
              for p, part in enumerate(parts)]
    draws = int(table[table.part == "random"].draws.max()) if (table.part == "random").any() else 0
    renderer.render("correspondence.html", f"{folder}/correspondence.html", **common, rows=rows,
                    parts=[*parts, "random"], legend=legend, cls=meta["class"], images=meta["images"], draws=draws)


def _invariance_page(renderer: Renderer, folder: str, out: Path, table: pd.DataFrame, strips: dict,
                     common: dict) -> None:
    first, top = str(strips["first_layer"]), str(strips["top_layer"])
    sections = []
    for transform in ("translation", "rotation", "scale"):
        rows = table[table["transform"] == transform]
        if rows.empty:
            continue
        invariance_figure(rows, out / "img" / f"invariance-{transform}.png", transform, UNITS[transform], first, top)
        copies = strips[transform]  # (steps, images, C, H, W)
        factor = display_factor(copies.shape[-1], 56)
        cells = [upscale(to_rgb(copies[s, 0]), factor) for s in range(copies.shape[0])]
        save_png(grid(cells, len(cells), 2), out / "img" / f"invariance-{transform}-strip.png")
        sections.append({"transform": transform, "steps": sorted(set(rows["value"].tolist()))})
    renderer.render("invariance.html", f"{folder}/invariance.html", **common, sections=sections,
                    first_layer=first, top_layer=top, images=sorted(set(table["image"].tolist())))


def render_analyses(
    model: str, epoch: int, occlusion_path: str | os.PathLike, correspondence_table: str | os.PathLike,
    correspondence_meta: str | os.PathLike, invariance_table: str | os.PathLike, invariance_strips: str | os.PathLike,
    probe: ImageSet, layer_names, template_dir: str | os.PathLike, site_dir: str | os.PathLike,
    title: str = "convatlas",
) -> Path:
    """Write the occlusion summary and image pages, the correspondence page and the invariance page."""
    renderer = Renderer(template_dir, site_dir, title)
    folder = analyses_folder(model, epoch)
    out = Path(site_dir) / folder
    common = {"model": model, "epoch": epoch}
    _occlusion_pages(renderer, folder, out, read_npz(occlusion_path), probe, common, layer_names)
    _correspondence_page(renderer, folder, out, pd.read_parquet(correspondence_table), read_json(correspondence_meta),
                         probe, common)
    _invariance_page(renderer, folder, out, pd.read_parquet(invariance_table), read_npz(invariance_strips), common)
    return out

