"""The ablation page of one (model, epoch): the named experiments and the channels that matter most."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import torch

from .data import ImageSet
from .images import display_factor, grid, save_png, to_rgb, upscale
from .io import read_json
from .plots import confusion_difference
from .site import Renderer, model_dir

GALLERY = 40


def render_ablation(
    model: str, epoch: int, experiments_path: str | os.PathLike, layer_tables: dict[str, str | os.PathLike],
    probe: ImageSet, template_dir: str | os.PathLike, site_dir: str | os.PathLike, title: str = "convatlas",
) -> Path:
    """Write ``ablation/index.html`` with its confusion plots and galleries of flipped images."""
    folder = f"{model_dir(model)}/epoch-{epoch}/ablation"
    out = Path(site_dir) / folder
    data = read_json(experiments_path)
    classes = data["classes"]
    factor = display_factor(probe.size[0], 56)
    experiments = []
    for name, result in data["experiments"].items():
        confusion_difference(result["confusion_before"], result["confusion_after"], classes,
                             out / "img" / f"{name}-confusion.png", title=f"{name}: confusion after − before")
        flipped = result["flipped"][:GALLERY]
        if flipped:
            raw = probe.images(torch.as_tensor([f["image"] for f in flipped], dtype=torch.long))
            save_png(grid([upscale(to_rgb(img.numpy()), factor) for img in raw], len(flipped), 2),
                     out / "img" / f"{name}-flipped.png")
        experiments.append({
            "name": name, "result": result, "flipped": flipped, "cell": probe.size[0] * factor,
            "layers": [{"layer": layer, "channels": channels} for layer, channels in result["channels"].items()],
            "count": sum(len(c) for c in result["channels"].values()),
            "class_rows": [{"name": c, "before": b, "after": a} for c, b, a in
                           zip(classes, result["class_accuracy_before"], result["class_accuracy_after"])],
        })
    strongest = []
    for layer, path in layer_tables.items():
        table = pd.read_parquet(path).sort_values("accuracy_drop", ascending=False).head(8)
        strongest.append({"layer": layer, "rows": table[["channel", "accuracy_drop"]].to_dict("records"),
                          "base": float(table["base_accuracy"].iloc[0]) if len(table) else float("nan")})
    Renderer(template_dir, site_dir, title).render(
        "ablation.html", f"{folder}/index.html", model=model, epoch=epoch, experiments=experiments,
        strongest=strongest, images=data["images"], classes=classes)
    return out
