"""The site's index page and one page per model."""
from __future__ import annotations

import math
from typing import Any

from ...results.artifacts import ModelSummary
from .. import layout
from ..render import Renderer

PER_CLASS_PLOTTED = 50  # classes beyond which the per-class accuracy is a table only


def with_paired_changes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The variants table's rows, each variant with its test-error change against the base model (the
    first row) on the same images: the paired difference, its 95% interval and whether it is within noise."""
    from ...analyses.statistics import paired_difference

    if not rows or rows[0].get("test_correct") is None:
        return rows
    base = rows[0]["test_correct"]
    out = [dict(rows[0], change=None)]
    for row in rows[1:]:
        diff = paired_difference(row["test_correct"], base)  # error change = base accuracy - variant accuracy
        low, high = diff.interval
        out.append(dict(row, change={"error": diff.difference, "low": low, "high": high, "noise": diff.within_noise,
                                     "p": diff.p_value}))
    return out


def render_overview(renderer: Renderer, summaries: list[ModelSummary], page_epochs: dict[str, list[int]],
                    variants: dict[str, list[dict[str, Any]]], class_images: dict[str, list[str]] | None = None,
                    predictions: dict[str, list[dict[str, Any]]] | None = None,
                    verdicts: dict[str, dict[str, int]] | None = None) -> None:
    """Write ``index.html`` and one page per model.

    ``page_epochs[model]`` lists the epochs whose layer pages exist (the model page links to them);
    ``variants[model]`` the rows of the variants table of a model with architecture variants;
    ``class_images[model]`` the classes of its class images, in order (default: all its classes);
    ``predictions[model]`` rows (name, label, predicted, probability) of its first analysed images;
    ``verdicts[model]`` how many of its findings have each verdict (its findings page exists).
    The model's plots must already be at ``layout.model_image``."""
    for summary in summaries:
        rows = with_paired_changes(variants.get(summary.name, []))
        top5 = bool(rows) and not math.isnan(rows[0]["test_top5_error"])
        shown = (class_images or {}).get(summary.name, summary.classes)
        counts = summary.per_class_images or [None] * len(summary.classes)
        measured = [{"name": name, "accuracy": accuracy, "images": n} for name, accuracy, n in
                    zip(summary.classes, summary.per_class_accuracy, counts, strict=True) if not math.isnan(accuracy)]
        renderer.render("model.html", layout.model_page(summary.name), model=summary, measured_classes=measured,
                        per_class_plot=0 < len(measured) <= PER_CLASS_PLOTTED,
                        page_epochs=page_epochs[summary.name], variants=rows, variants_top5=top5,
                        class_image_names=shown, all_class_images=len(shown) == len(summary.classes),
                        predictions=(predictions or {}).get(summary.name, []),
                        verdicts=(verdicts or {}).get(summary.name))
    renderer.render("index.html", layout.index_page(), models=summaries, verdicts=verdicts or {})
