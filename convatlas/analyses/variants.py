"""Layer ablation (Zeiler & Fergus Table 3): architecture variants against their base model."""
from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd
from torch import nn

from ..data.model_inputs import ModelInputs
from ..models.checkpoint import CheckpointMeta
from .evaluate import classification_metrics, predict

TRAIN_IMAGES = 10_000  # training images (spread over the split, no augmentation) the train error is measured on


def weight_layers(model: nn.Module) -> int:
    """The model's depth as Zeiler & Fergus count it: its convolutional and fully connected layers."""
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())


def variant_errors(name: str, model: nn.Module, meta: CheckpointMeta, train: ModelInputs, test: ModelInputs) -> dict:
    """One row of the variants table: train and test top-1 error (and top-5 with more than 5
    classes) of a trained model, with its builder parameters, size and depth."""
    row = {"model": name, "params": json.dumps(meta.params, sort_keys=True), "epoch": meta.epoch,
           "parameters": sum(p.numel() for p in model.parameters()), "weight_layers": weight_layers(model)}
    for split, images in (("train", train), ("test", test)):
        logits = predict(model, images)
        metrics = classification_metrics(logits, images.labels, len(images.classes))
        row[f"{split}_error"] = 1 - metrics["accuracy"]
        row[f"{split}_top5_error"] = 1 - metrics["top5_accuracy"] if len(images.classes) > 5 else float("nan")
        row[f"{split}_images"] = len(images)
    row["test_correct"] = (logits.argmax(dim=1) == test.labels).numpy()  # per image: paired comparisons with the base
    return row


def variant_table(rows: Sequence[dict]) -> pd.DataFrame:
    """The variants table from :func:`variant_errors` rows, the base model first."""
    return pd.DataFrame(list(rows))
