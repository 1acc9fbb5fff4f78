"""Pages of the occlusion, correspondence and invariance analyses of one (model, epoch)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...analyses.findings import correspondence_finding, invariance_layer_finding, invariance_output_finding, too_few
from ...results.artifacts import CorrespondenceDesign, InvarianceStrips, OcclusionStudy
from .. import layout
from ..images import (
    LARGE,
    MEDIUM,
    SMALL,
    display_factor,
    draw_box,
    grid,
    picture_row,
    relevance_masked,
    save_png,
    signed_to_rgb,
    to_rgb,
    upscale,
)
from ..plots import attribution_figure, invariance_figure, occlusion_figure
from ..render import Renderer

EXPLANATIONS = {
    "saliency": "how much each pixel, changed a little, changes the class score (|gradient|, largest over colour channels)",
    "guided": "guided backpropagation: the gradient passed back only through positive activations and positive signals",
    "gradcam": "Grad-CAM: the last conv layer's feature maps weighted by their mean gradient, rectified and upsampled",
}
PART_COLOURS = [(230, 40, 40), (40, 120, 230), (40, 170, 60), (230, 160, 20), (160, 60, 200)]
UNITS = {"translation": "vertical shift (px)", "rotation": "angle (degrees, clockwise)", "scale": "scale factor"}


OCCLUSION_PICTURES = {  # what the occlusion figure shows of the strongest feature map's top unit, and why
    "deconvnet": ("deconvnet projection of\nthe strongest feature map",
                  "the deconvnet projection of its top activation (it passes the layer's sanity checks)"),
    "unchecked": ("deconvnet projection of\nthe strongest feature map",
                  "the deconvnet projection of its top activation (not checked: the layer is not among the analysed ones)"),
    "gradient_input": ("the image masked by\nits gradient × input",
                       "the image masked by the gradient × input heatmap of its top activation (the deconvnet fails the "
                       "layer's sanity checks, this passes)"),
    "field": ("receptive field of its\ntop activation",
              "the receptive field of its top activation on the image: no picture of this layer passes its sanity checks"),
}


def _unit_picture(image: np.ndarray, occlusion: OcclusionStudy, m: int, picture: str) -> tuple[np.ndarray, str]:
    """The occlusion figure's picture of image ``m``'s strongest unit, as ``picture`` (a key of
    :data:`OCCLUSION_PICTURES`) says, and its title."""
    if picture == "gradient_input":
        shown = relevance_masked(image, occlusion.heatmap[m])
    elif picture == "field":
        shown = draw_box(image, tuple(int(v) for v in occlusion.field_boxes[m]), thickness=max(1, image.shape[0] // 56))
    else:
        shown = signed_to_rgb(occlusion.projection[m])
    return shown, OCCLUSION_PICTURES[picture][0]


def _occlusion_pages(renderer: Renderer, occlusion: OcclusionStudy, pictures: np.ndarray,
                     classes: list[str], common: dict, layer_names, names: Sequence[str] | None = None,
                     picture: str = "unchecked") -> None:
    model, epoch = common["model"], common["epoch"]
    windows = occlusion.windows
    factor = display_factor(pictures.shape[-1], MEDIUM)
    entries = []
    for m, image_index in enumerate(occlusion.images.tolist()):
        name = names[m] if names is not None else f"image {image_index}"
        image = to_rgb(pictures[m])
        shown, shown_title = _unit_picture(image, occlusion, m, picture)
        maps = {kind: {w: occlusion.map(kind, w, m) for w in windows} for kind in occlusion.maps}
        label = int(occlusion.labels[m])
        occlusion_figure(image, shown, windows, maps, classes, label, renderer.path(layout.analysis_image(model, epoch, f"occlusion-{image_index}")),
                         picture_title=shown_title, title=f"{name}: occlusion with windows of {', '.join(map(str, windows))} px")
        save_png(upscale(image, factor), renderer.path(layout.analysis_image(model, epoch, f"input-{image_index}")))
        predicted_index = int(occlusion.predicted[m])
        if occlusion.attributions:
            rows = {f"{kind} ({classes[c]})": {key: values[m] for key, values in occlusion.attributions[kind].items()}
                    for kind, c in (("true", label), ("predicted", predicted_index))}
            attribution_figure(image, maps["probability"][windows[-1]], windows[-1], rows,
                               renderer.path(layout.analysis_image(model, epoch, f"attribution-{image_index}")),
                               title=f"{name}: gradient attributions beside occlusion")
        lowest = {w: float(maps["probability"][w].min()) for w in windows}
        worst = min(lowest, key=lowest.get)
        entries.append({
            "image": image_index, "name": name, "label": classes[label], "predicted": classes[predicted_index],
            "probability": float(occlusion.probability[m]), "channel": int(occlusion.channels[m]),
            "lowest": lowest, "worst_window": worst, "drop": float(occlusion.probability[m]) - lowest[worst],
        })
    entries.sort(key=lambda e: e["drop"], reverse=True)
    for position, entry in enumerate(entries):
        renderer.render("occlusion_image.html", layout.analysis_page(model, epoch, "occlusion", entry["image"]), **common, entry=entry,
                        windows=windows, layer=occlusion.layer, stride=occlusion.stride,
                        layer_has_pages=occlusion.layer in layer_names, picture_text=OCCLUSION_PICTURES[picture][1],
                        attributions=bool(occlusion.attributions), explanations=EXPLANATIONS,
                        previous=entries[position - 1] if position else None,
                        next=entries[position + 1] if position + 1 < len(entries) else None)
    renderer.render("occlusion.html", layout.analysis_page(model, epoch, "occlusion"), **common, entries=entries, windows=windows,
                    layer=occlusion.layer, stride=occlusion.stride)


def _correspondence_page(renderer: Renderer, table: pd.DataFrame, design: CorrespondenceDesign, pictures: np.ndarray,
                         pairs: pd.DataFrame | None, common: dict) -> None:
    model, epoch = common["model"], common["epoch"]
    factor = display_factor(pictures.shape[-1], LARGE)
    parts = list(design.boxes)
    cells = []
    for m in range(len(pictures)):
        picture = upscale(to_rgb(pictures[m]), factor)
        for p, part in enumerate(parts):
            picture = draw_box(picture, tuple(v * factor for v in design.boxes[part]), 1, 2, PART_COLOURS[p % 5])
        cells.append(picture)
    save_png(grid(cells, len(cells), 4), renderer.path(layout.analysis_image(model, epoch, "correspondence")))
    rows = []
    for layer in design.layers:
        row = {"layer": layer, "cells": []}
        for part in [*parts, "random"]:
            hit = table[(table.part == part) & (table.layer == layer)]
            row["cells"].append({"delta": float(hit.delta.iloc[0]), "std": float(hit["std"].iloc[0])} if len(hit) else None)
        rows.append(row)
    legend = [{"part": part, "colour": "#{:02x}{:02x}{:02x}".format(*PART_COLOURS[p % 5]), "box": design.boxes[part]}
              for p, part in enumerate(parts)]
    draws = int(table[table.part == "random"].draws.max()) if (table.part == "random").any() else 0
    finding = too_few(correspondence_finding(pairs, design.layers)) if pairs is not None else None
    gaps = {row["layer"]: row for row in finding.rows} if finding is not None else {}
    for row in rows:
        row["gap"] = gaps.get(row["layer"])
    size = pictures.shape[-2:]
    renderer.render("correspondence.html", layout.analysis_page(model, epoch, "correspondence"), **common, rows=rows,
                    parts=[*parts, "random"], legend=legend, cls=design.cls, images=design.images, draws=draws,
                    finding=finding, height=int(size[0]), width=int(size[1]))


def _invariance_page(renderer: Renderer, table: pd.DataFrame, strips: InvarianceStrips, common: dict) -> None:
    model, epoch = common["model"], common["epoch"]
    first, top = strips.first_layer, strips.top_layer
    sections = []
    for transform in ("translation", "rotation", "scale"):
        rows = table[table["transform"] == transform]
        if rows.empty:
            continue
        invariance_figure(rows, renderer.path(layout.analysis_image(model, epoch, f"invariance-{transform}")), transform,
                          UNITS[transform], first, top)
        copies = strips.strips[transform]  # (steps, images shown, C, H, W): a row per image, a column per step
        cells = [copies[step, image] for image in range(copies.shape[1]) for step in range(copies.shape[0])]
        save_png(picture_row(cells, SMALL, columns=copies.shape[0]),
                 renderer.path(layout.analysis_image(model, epoch, f"invariance-{transform}-strip")))
        steps = [f"{value:g}".replace("-", "−") for value in sorted(set(rows["value"].tolist()))]
        sections.append({"transform": transform, "steps": steps, "shown": int(copies.shape[1])})
    findings = [too_few(invariance_layer_finding(table, first, top)), too_few(invariance_output_finding(table))]
    renderer.render("invariance.html", layout.analysis_page(model, epoch, "invariance"), **common, sections=sections,
                    first_layer=first, top_layer=top, images=sorted(set(table["image"].tolist())), findings=findings,
                    units=UNITS)


def render_analyses(renderer: Renderer, model: str, epoch: int, classes: list[str], layer_names: Sequence[str],
                    occlusion: tuple[OcclusionStudy, np.ndarray] | tuple[OcclusionStudy, np.ndarray, Sequence[str]] | None = None,
                    correspondence: tuple[pd.DataFrame, dict[str, Any], np.ndarray, pd.DataFrame | None] | None = None,
                    invariance: tuple[pd.DataFrame, dict[str, np.ndarray]] | None = None,
                    occlusion_picture: str = "unchecked") -> None:
    """Write the pages of the analyses given (None: left out of the configuration): the occlusion
    summary and image pages from ``(study, pictures)`` or ``(study, pictures, names)`` (how pages name
    the images, :meth:`convatlas.data.Pictures.name`), the correspondence page from ``(table, meta,
    pictures, pairs)`` (pairs: every pair's distance, for the verdict; None: no verdict) and the invariance page from ``(table, strips)``. ``occlusion_picture``: what the
    occlusion figures show of each image's strongest unit (:data:`OCCLUSION_PICTURES`, as
    :func:`convatlas.jobs.analyses.occlusion_picture` decides from the layer's sanity checks).

    Pictures are the uint8 (N, C, H, W) images the analyses used, in their order."""
    common = {"model": model, "epoch": epoch}
    if occlusion is not None:
        study, pictures, *names = occlusion
        _occlusion_pages(renderer, study, pictures, classes, common, layer_names, names[0] if names else None,
                         occlusion_picture)
    if correspondence is not None:
        table, design, pictures, *pairs = correspondence
        _correspondence_page(renderer, table, design, pictures, pairs[0] if pairs else None, common)
    if invariance is not None:
        _invariance_page(renderer, *invariance, common)
