"""Evaluating a classifier on an ImageSet: loss, accuracy, per-class accuracy, in batches."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..data.model_inputs import ModelInputs


@torch.no_grad()
def predict(model: nn.Module, inputs: ModelInputs) -> torch.Tensor:
    """Logits (N, classes) for every image, in order."""
    model.eval()
    return torch.cat([model(batch.inputs).float().cpu() for batch in inputs.batches()])


def classification_metrics(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict[str, Any]:
    """Mean loss, accuracy, top-5 accuracy and per-class accuracy from logits and labels."""
    loss = F.cross_entropy(logits, labels).item() if len(labels) else float("nan")
    predicted = logits.argmax(dim=1)
    correct = predicted == labels
    per_class = []
    for cls in range(num_classes):
        members = labels == cls
        per_class.append(float(correct[members].float().mean()) if members.any() else float("nan"))
    top5 = min(5, logits.shape[1])
    in_top5 = (logits.topk(top5, dim=1).indices == labels[:, None]).any(dim=1)
    return {
        "loss": loss,
        "accuracy": float(correct.float().mean()),
        "top5_accuracy": float(in_top5.float().mean()),
        "per_class_accuracy": per_class,
        "per_class_images": torch.bincount(labels, minlength=num_classes).tolist(),  # each accuracy's n
    }


def evaluate(model: nn.Module, inputs: ModelInputs) -> dict[str, Any]:
    """:func:`classification_metrics` of ``model`` on the images of ``inputs``."""
    return classification_metrics(predict(model, inputs), inputs.labels, len(inputs.classes))
