"""Layer ablation (Zeiler & Fergus Table 3): architecture variants against their base model."""
from __future__ import annotations

import os
from typing import Any

import pandas as pd
import torch

from .checkpoint import load_checkpoint
from .data import load_split, probe_set
from .evaluate import classification_metrics, predict


def variant_table(checkpoints: dict[str, str | os.PathLike], dataset: dict[str, Any], train_images: int = 10000,
                  batch_size: int = 256, device: torch.device | str = "cpu") -> pd.DataFrame:
    """Train and test top-1 (and top-5) error of each checkpoint; the first is the base model."""
    rows = []
    for name, path in checkpoints.items():
        model, meta = load_checkpoint(path, device)
        train = load_split(dataset, "train", meta["dataset"])
        step = max(1, len(train) // train_images)
        train = train.subset_indices(torch.arange(0, len(train), step)[:train_images])
        test = probe_set(dataset, meta["dataset"])
        row = {"model": name, "params": str(meta["params"]), "epoch": meta["epoch"],
               "parameters": sum(p.numel() for p in model.parameters())}
        for split, images in (("train", train), ("test", test)):
            metrics = classification_metrics(predict(model, images, meta["mean"], meta["std"], batch_size, device),
                                             images.labels, len(images.classes))
            row[f"{split}_error"] = 1 - metrics["accuracy"]
            row[f"{split}_top5_error"] = 1 - metrics["top5_accuracy"] if len(images.classes) > 5 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def variants_study(base: str, base_checkpoint, variant_names: list[str], variant_checkpoints: list, dataset: dict,
                   out_path, device: torch.device | str = "cpu") -> None:
    """The rule's work: the layer-ablation table of a base model and its variants, as Parquet."""
    from .index import write_parquet

    checkpoints = {base: base_checkpoint, **dict(zip(variant_names, variant_checkpoints))}
    write_parquet(variant_table(checkpoints, dataset, device=device), out_path)
