"""The site's index page and one page per model."""
from __future__ import annotations

import math
from typing import Any

from .. import layout
from ..render import Renderer

PER_CLASS_PLOTTED = 50  # classes beyond which the per-class accuracy is a table only


def render_overview(renderer: Renderer, summaries: list[dict[str, Any]], page_epochs: dict[str, list[int]],
                    variants: dict[str, list[dict[str, Any]]], class_images: dict[str, list[str]] | None = None,
                    predictions: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Write ``index.html`` and one page per model.

    ``page_epochs[model]`` lists the epochs whose layer pages exist (the model page links to them);
    ``variants[model]`` the rows of the variants table of a model with architecture variants;
    ``class_images[model]`` the classes of its class images, in order (default: all its classes);
    ``predictions[model]`` rows (name, label, predicted, probability) of its first analysed images.
    The model's plots must already be at ``layout.model_image``."""
    for summary in summaries:
        rows = variants.get(summary["name"], [])
        top5 = bool(rows) and not math.isnan(rows[0]["test_top5_error"])
        shown = (class_images or {}).get(summary["name"], summary["classes"])
        measured = [{"name": name, "accuracy": accuracy} for name, accuracy in
                    zip(summary["classes"], summary["per_class_accuracy"], strict=True) if not math.isnan(accuracy)]
        renderer.render("model.html", layout.model_page(summary["name"]), model=summary, measured_classes=measured,
                        per_class_plot=0 < len(measured) <= PER_CLASS_PLOTTED,
                        page_epochs=page_epochs[summary["name"]], variants=rows, variants_top5=top5,
                        class_image_names=shown, all_class_images=len(shown) == len(summary["classes"]),
                        predictions=(predictions or {}).get(summary["name"], []))
    renderer.render("index.html", layout.index_page(), models=summaries)
