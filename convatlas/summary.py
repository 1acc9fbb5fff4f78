"""A model's summary for the site: architecture, parameters, layers, accuracy per epoch and class."""
from __future__ import annotations

import csv
import os
from typing import Any

from .checkpoint import load_checkpoint
from .graph import ModelGraph, receptive_field_size
from .io import write_json
from .plots import class_bars, training_curves


def read_train_log(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a ``train_log.tsv`` with numbers parsed."""
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [{key: (int(value) if key == "epoch" else float(value)) for key, value in row.items()} for row in rows]


def summarise_model(
    name: str, checkpoint: str | os.PathLike, train_log: str | os.PathLike,
    layers: list[str] | None = None,
) -> dict[str, Any]:
    """Everything the index and model pages show about one model, from its last checkpoint."""
    model, meta = load_checkpoint(checkpoint)
    size = meta["image_size"]
    graph = ModelGraph(model, (meta["in_channels"], size, size))
    rows = read_train_log(train_log)
    return {
        "name": name,
        "arch": meta["arch"],
        "params": meta["params"],
        "class_name": type(model).__name__,
        "dataset": meta["dataset"],
        "dataset_kind": meta.get("dataset_kind"),
        "classes": meta["classes"],
        "input_shape": [meta["in_channels"], size, size],
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "epoch": meta["epoch"],
        "test_accuracy": meta["test_accuracy"],
        "test_top5_accuracy": meta.get("test_top5_accuracy"),
        "test_loss": meta["test_loss"],
        "per_class_accuracy": meta["per_class_accuracy"],
        "train_log": rows,
        "layers": [
            {
                "name": layer.name,
                "kind": layer.kind,
                "shape": list(layer.shape),
                "channels": layer.channels,
                "receptive_field": receptive_field_size(layer),
            }
            for layer in graph.select(layers)
        ],
    }


def write_model_summary(
    name: str, checkpoint: str | os.PathLike, train_log: str | os.PathLike,
    summary_path: str | os.PathLike, curves_path: str | os.PathLike, classes_path: str | os.PathLike,
    layers: list[str] | None = None,
) -> dict[str, Any]:
    """Write the summary JSON and its two plots (training curves, per-class accuracy)."""
    summary = summarise_model(name, checkpoint, train_log, layers)
    training_curves(summary["train_log"], curves_path, title=name)
    class_bars(summary["per_class_accuracy"], summary["classes"], classes_path, "test accuracy",
               title=f"{name}: per-class test accuracy (epoch {summary['epoch']})")
    write_json(summary_path, summary)
    return summary
