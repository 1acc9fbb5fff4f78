"""A model's summary for the site: architecture, parameters, layers, accuracy per epoch and class."""
from __future__ import annotations

from typing import Any

from torch import nn

from ..models.checkpoint import CheckpointMeta
from ..nn.graph import Layer, receptive_field_size
from ..results.artifacts import ModelSummary, SummaryLayer


def provenance(meta: CheckpointMeta) -> str | None:
    """For a model analysed as loaded: where its weights came from (None for a model trained here)."""
    if not meta.pretrained:
        return None
    weights = meta.weights
    source = f"weights loaded from {weights['file']} (SHA-256 {weights['sha256'][:12]}…)" if weights \
        else f"weights as {meta.arch} builds them (its own initialisation, no file loaded)"
    note = f"{source}, not trained here"
    if meta.predicted_labels is not None:
        note += "; the images have no labels, so every analysis that needs a class uses the predicted one"
    return note


def summarise_model(name: str, model: nn.Module, meta: CheckpointMeta, layers: list[Layer],
                    train_log: list[dict[str, Any]]) -> ModelSummary:
    """Everything the index and model pages show about one model, from its last checkpoint."""
    size = meta.image_size
    return ModelSummary(
        name=name, arch=meta.arch, params=meta.params, class_name=type(model).__name__,
        dataset=meta.dataset, dataset_kind=meta.dataset_kind, classes=meta.classes,
        input_shape=[meta.in_channels, size, size],
        parameters=sum(p.numel() for p in model.parameters()),
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        epoch=meta.epoch, provenance=provenance(meta),
        test_accuracy=meta.test_accuracy, test_images=meta.test_images, test_split=meta.test_split,
        test_top5_accuracy=meta.test_top5_accuracy, test_loss=meta.test_loss,
        per_class_accuracy=meta.per_class_accuracy, per_class_images=meta.per_class_images,
        train_log=train_log,
        layers=[SummaryLayer(layer.name, layer.kind, list(layer.shape), layer.channels, receptive_field_size(layer))
                for layer in layers],
    )
