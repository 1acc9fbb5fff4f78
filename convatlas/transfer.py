"""Transfer to new classes (Zeiler & Fergus section 5.2): train on some classes, freeze the
features, fit only a new softmax on a few images of the other classes, and compare with the same
architecture trained from scratch on the same few images."""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .data import ImageSet, load_dataset, normalise
from .evaluate import predict
from .models import build_model
from .probe import fit_softmax
from .train import train_model


def few_shot_indices(labels: torch.Tensor, shots: int, classes: int, seed: int) -> torch.Tensor:
    """``shots`` random images of every class (seeded), in class order."""
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for cls in range(classes):
        members = torch.nonzero(labels == cls).flatten()
        chosen.append(members[torch.randperm(len(members), generator=generator)[:shots]])
    return torch.cat(chosen)


def _last_linear(model: nn.Module) -> nn.Linear:
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]


@torch.no_grad()
def classifier_inputs(model: nn.Module, images: ImageSet, mean, std, batch_size: int = 256) -> torch.Tensor:
    """The frozen features: what the model's final linear layer receives, for every image."""
    model.eval()
    captured, chunks = {}, []
    handle = _last_linear(model).register_forward_pre_hook(lambda m, inputs: captured.__setitem__("x", inputs[0]))
    try:
        for _, batch, _ in images.batches(batch_size):
            model(normalise(batch, mean, std))
            chunks.append(captured["x"].double().cpu())
    finally:
        handle.remove()
    return torch.cat(chunks)


def transfer_accuracy(train_x, train_y, test_x, test_y, classes: int) -> float:
    """Accuracy of a new softmax fitted on frozen features of the few images."""
    centre, scale = train_x.mean(dim=0), train_x.std(dim=0).clamp_min(1e-6) if len(train_x) > 1 else torch.ones(train_x.shape[1], dtype=train_x.dtype)
    linear = fit_softmax((train_x - centre) / scale, train_y, classes)
    with torch.no_grad():
        return float((linear((test_x - centre) / scale).argmax(1) == test_y).double().mean())


def scratch_accuracy(arch: str, params: dict, few: ImageSet, test: ImageSet, mean, std, steps: int, seed: int) -> float:
    """Accuracy of the same architecture trained from scratch on the few images (full batch, Adam)."""
    torch.manual_seed(seed)
    model = build_model(arch, few.channels, len(few.classes), few.size[0], params)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs = normalise(few.images(torch.arange(len(few))), mean, std)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), few.labels).backward()
        optimizer.step()
    logits = predict(model, test, mean, std)
    return float((logits.argmax(1) == test.labels).double().mean())


def transfer_study(name: str, model_config: dict[str, Any], dataset_name: str, dataset: dict[str, Any],
                   settings: dict[str, Any], table_path: str | os.PathLike, state_dir: str | os.PathLike,
                   device: torch.device | str = "cpu") -> pd.DataFrame:
    """Train on the source classes (resumable), then few-shot transfer versus from scratch."""
    from .index import write_parquet

    train, test = load_dataset(dataset, dataset_name)
    source = settings["source_classes"]
    target = settings["target_classes"]
    source_config = copy.deepcopy(model_config)
    source_config.update(epochs=settings["epochs"], checkpoints=[settings["epochs"]])
    state_dir = Path(state_dir)
    train_model(f"{name}-source", source_config, dataset_name, dataset, train.select_classes(source),
                test.select_classes(source), [settings["epochs"]], state_dir / "train_log.tsv", state_dir, device)
    from .checkpoint import load_checkpoint

    model, meta = load_checkpoint(state_dir / f"epoch-{settings['epochs']}.pt", device)
    target_train, target_test = train.select_classes(target), test.select_classes(target)
    step = max(1, len(target_test) // settings["test_images"])
    target_test = target_test.subset_indices(torch.arange(0, len(target_test), step)[: settings["test_images"]])
    mean, std = meta["mean"], meta["std"]
    test_x = classifier_inputs(model, target_test, mean, std)
    rows = []
    for shots in settings["shots"]:
        for draw in range(settings["draws"]):
            seed = settings["seed"] * 100_003 + draw * 1_009 + shots
            few = target_train.subset_indices(few_shot_indices(target_train.labels, shots, len(target), seed))
            train_x = classifier_inputs(model, few, mean, std)
            rows.append({"method": "transfer", "shots": shots, "draw": draw,
                         "accuracy": transfer_accuracy(train_x, few.labels, test_x, target_test.labels, len(target))})
            rows.append({"method": "scratch", "shots": shots, "draw": draw,
                         "accuracy": scratch_accuracy(model_config["arch"], model_config["params"], few, target_test,
                                                      mean, std, settings["scratch_steps"], seed)})
    table = pd.DataFrame(rows)
    table["source_accuracy"] = meta["test_accuracy"]
    write_parquet(table, table_path)
    return table
