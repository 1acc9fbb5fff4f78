"""The ablation page of one (model, epoch): the named experiments and the channels that matter most."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ...analyses.statistics import control_summary, within_noise
from ...results.artifacts import AblationExperiments
from .. import layout
from ..images import SMALL, display_factor, picture_row, save_png
from ..plots import confusion_difference
from ..render import Renderer

GALLERY = 40  # flipped images shown per experiment
GALLERY_GAP = 2
STRONGEST = 8  # channels listed per layer


def _control_reading(summary: dict) -> str:
    """One sentence reading a selective experiment against its matched random draws."""
    draws, at_least = summary["draws"], summary["at_least"]
    if at_least == 0:
        return (f"Switching off the selective channels costs more than every one of the {draws} random draws "
                f"(permutation p = {summary['p']:.2f}, the smallest {draws} draws allow): here the selective channels "
                "matter more than random channels of the same layers.")
    if at_least == draws:
        return (f"Every one of the {draws} random draws costs at least as much as the selective channels (permutation "
                f"p = {summary['p']:.2f}): here selectivity marks channels that matter less than random ones of the same layers.")
    return (f"{at_least} of the {draws} random draws cost at least as much (permutation p = {summary['p']:.2f}): the "
            "selective channels' cost is within the spread of random channels of the same layers, so selectivity does "
            "not predict importance here (as Morcos et al. 2018 found).")


def render_ablation(
    renderer: Renderer, model: str, epoch: int, experiments: AblationExperiments, layer_tables: dict[str, pd.DataFrame],
    pictures: Callable[[list[int]], np.ndarray], image_name: Callable[[int], str] = lambda i: f"image {i}",
) -> None:
    """Write ``ablation/index.html`` with its confusion plots and galleries of flipped images.

    ``experiments`` are the checkpoint's experiments; ``pictures(indices)`` gives uint8 (N, C, H, W) images
    of the analysed split, ``image_name(index)`` what pages call one (:meth:`convatlas.data.Pictures.name`)."""
    classes = experiments.classes
    rows = []
    for name, result in experiments.experiments.items():
        confusion_difference(result.confusion_before, result.confusion_after, classes,
                             renderer.path(layout.ablation_image(model, epoch, f"{name}-confusion")),
                             title=f"{name}: confusion after − before")
        flipped = result.flipped[:GALLERY]
        cell = 0
        if flipped:
            images = pictures([f.image for f in flipped])
            cell = images.shape[-1] * display_factor(images.shape[-1], SMALL)
            save_png(picture_row(list(images), SMALL, GALLERY_GAP),
                     renderer.path(layout.ablation_image(model, epoch, f"{name}-flipped")))
        low, high = result.change_interval
        controls = None
        if result.controls:
            controls = control_summary(result.change, [c.accuracy_after - result.accuracy_before for c in result.controls])
            controls["reading"] = _control_reading(controls)
        rows.append({
            "name": name, "result": result, "cell": cell, "controls": controls, "kind": experiments.kinds.get(name), "low": low, "high": high, "noise": bool(within_noise(low, high)),
            "flipped": [{"image": f.image, "label": f.label, "now": f.now, "name": image_name(f.image),
                         "offset": i * (cell + GALLERY_GAP)} for i, f in enumerate(flipped)],
            "layers": [{"layer": layer, "channels": channels} for layer, channels in result.channels.items()],
            "count": sum(len(c) for c in result.channels.values()),
            "class_rows": [{"name": c, "before": b, "after": a} for c, b, a in
                           zip(classes, result.class_accuracy_before, result.class_accuracy_after, strict=True)],
        })
    strongest = []
    for layer, table in layer_tables.items():
        table = table.sort_values("accuracy_drop", ascending=False).head(STRONGEST)
        rows_shown = [{"channel": int(r.channel), "change": -float(r.accuracy_drop), "low": -float(r.drop_high),
                       "high": -float(r.drop_low), "noise": bool(within_noise(-r.drop_high, -r.drop_low))}
                      for r in table.itertuples()]
        strongest.append({"layer": layer, "rows": rows_shown,
                          "base": float(table["base_accuracy"].iloc[0]) if len(table) else float("nan")})
    renderer.render("ablation.html", layout.ablation_page(model, epoch), model=model, epoch=epoch,
                    experiments=rows, strongest=strongest, images=experiments.images, classes=classes)
