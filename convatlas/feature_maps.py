"""Feature-map pages: for a few probe images, every channel's map at every analysed layer."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_checkpoint
from .data import ImageSet, normalise
from .graph import ModelGraph
from .hooks import capture_outputs
from .images import display_factor, grid, save_png, to_rgb, upscale
from .site import Renderer, model_dir

COLUMNS = 16


@torch.no_grad()
def layer_activations(model: torch.nn.Module, layers: Sequence[str], images: torch.Tensor) -> dict[str, np.ndarray]:
    """Every named layer's output for a batch of normalised images, as numpy arrays."""
    model.eval()
    with capture_outputs(model, layers) as outputs:
        model(images)
    return {name: outputs[name].float().cpu().numpy() for name in layers}


def map_mosaic(maps: np.ndarray, tile: int = 32) -> np.ndarray:
    """All channels' maps (C, H, W) of one image as a grey mosaic, scaled by the layer's maximum
    for that image (so weak channels look weak); a vector (C,) becomes one square per unit."""
    if maps.ndim == 1:
        maps = maps[:, None, None]
    top = float(maps.max())
    scaled = np.clip(maps / top, 0, 1) if top > 0 else np.zeros_like(maps)
    factor = display_factor(max(maps.shape[1:]), tile)
    cells = [upscale(to_rgb((m * 255).round().astype(np.uint8)[None]), factor) for m in scaled]
    return grid(cells, min(COLUMNS if maps.shape[1] > 1 else 32, len(cells)), gap=1, background=(90, 90, 110))


def render_feature_maps(
    model_name: str, epoch: int, checkpoint: str | os.PathLike, probe: ImageSet, count: int,
    layer_names: Sequence[str] | None, template_dir: str | os.PathLike, site_dir: str | os.PathLike,
    title: str = "convatlas",
) -> Path:
    """Write ``feature-maps/index.html`` and one page per image for the first ``count`` probe images."""
    model, meta = load_checkpoint(checkpoint)
    size = meta["image_size"]
    layers = ModelGraph(model, (meta["in_channels"], size, size)).select(list(layer_names or []))
    folder = f"{model_dir(model_name)}/epoch-{epoch}/feature-maps"
    out = Path(site_dir) / folder
    renderer = Renderer(template_dir, site_dir, title)
    count = min(count, len(probe))
    indices = torch.arange(count)
    raw = probe.images(indices)
    logits = model(normalise(raw, meta["mean"], meta["std"])) if count else torch.zeros(0, len(probe.classes))
    activations = layer_activations(model, [l.name for l in layers], normalise(raw, meta["mean"], meta["std"]))
    factor = display_factor(size, 112)
    entries = []
    for i in range(count):
        save_png(upscale(to_rgb(raw[i].numpy()), factor), out / "img" / f"{i}-input.png")
        for layer in layers:
            save_png(map_mosaic(activations[layer.name][i]), out / "img" / f"{i}-{layer.name}.png")
        entries.append({"image": i, "label": probe.classes[int(probe.labels[i])],
                        "predicted": probe.classes[int(logits[i].argmax())]})
    for entry in entries:
        renderer.render("feature_maps.html", f"{folder}/image-{entry['image']}.html", model=model_name, epoch=epoch,
                        entry=entry, entries=entries,
                        layers=[{"name": l.name, "shape": l.shape, "kind": l.kind} for l in layers])
    renderer.render("feature_maps.html", f"{folder}/index.html", model=model_name, epoch=epoch,
                    entry=None, entries=entries, layers=[])
    return out
