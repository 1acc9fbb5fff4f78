"""The index job: one streaming pass over the analysed images per checkpoint."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..analyses.feature_maps import layer_activations
from ..analyses.index import build_index, layer_records
from ..analyses.summary import provenance
from ..core.io import write_json, write_npz, write_parquet
from ..core.logs import work_starts
from .subject import load_subject


def run_index(inputs: Any, outputs: Any, params: Any) -> None:
    """Write the top-k index, channel statistics, predictions and layers (shape, receptive field),
    and (for the model's own dataset) the feature maps of the first ``params.feature_map_images``
    images for the site. ``params.probe`` names the dataset indexed."""
    work_starts()
    subject = load_subject(inputs.checkpoint, params.dataset, params.layers, params.device, params.threads, params.probe)
    images, meta = subject.images, subject.meta
    by_prediction = subject.labelled_by_prediction
    index, stats, predictions = build_index(subject.model, subject.layers, images, meta["mean"], meta["std"],
                                            params.top_k, params.ranking, params.batch_size, subject.device,
                                            label_by_prediction=by_prediction)
    predicted_labels = by_prediction or meta.get("predicted_labels") is not None
    write_parquet(index, outputs.index)
    write_parquet(stats, outputs.stats)
    write_parquet(predictions, outputs.predictions)
    write_json(outputs.layers, {"epoch": meta["epoch"], "ranking": params.ranking, "top_k": params.top_k,
                                "probe_images": len(images), "classes": images.classes, "provenance": provenance(meta),
                                "dataset": params.probe, "labels": "predicted" if predicted_labels else "true",
                                "layers": layer_records(subject.layers)})
    if getattr(outputs, "feature_maps", None):
        write_npz(outputs.feature_maps, feature_maps(subject, params.feature_map_images))


def feature_maps(subject, count: int) -> dict[str, np.ndarray]:
    """Every analysed layer's maps for the first ``count`` analysed images, with the images, their
    labels and the predicted classes."""
    count = min(count, len(subject.images))
    raw = subject.images.images(torch.arange(count))
    inputs = subject.normalise(raw)
    names = [layer.name for layer in subject.layers]
    with torch.no_grad():
        predicted = subject.model(inputs).argmax(dim=1).cpu().numpy() if count else np.zeros(0, dtype=np.int64)
    maps = layer_activations(subject.model, names, inputs)
    return {"images": raw.numpy(), "labels": subject.images.labels[:count].numpy(), "predicted": predicted,
            "classes": np.asarray(subject.images.classes), **{f"map {name}": m for name, m in maps.items()}}
