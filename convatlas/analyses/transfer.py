"""Transfer to new classes (Zeiler & Fergus section 5.2): train on some classes, freeze the
features, fit only a new softmax on a few images of the other classes, and compare with the same
architecture trained from scratch on the same few images."""
from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..data.datasets import ImageSet
from ..data.transforms import normalise
from ..models import build_model
from ..nn.modules import last_linear
from .evaluate import predict
from .linear_probes import fit_softmax


def few_shot_indices(labels: torch.Tensor, shots: int, classes: int, seed: int) -> torch.Tensor:
    """``shots`` random images of every class (seeded), in class order."""
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for cls in range(classes):
        members = torch.nonzero(labels == cls).flatten()
        chosen.append(members[torch.randperm(len(members), generator=generator)[:shots]])
    return torch.cat(chosen)


@torch.no_grad()
def classifier_inputs(model: nn.Module, images: ImageSet, mean, std, batch_size: int = 256) -> torch.Tensor:
    """The frozen features: what the model's final linear layer receives, for every image."""
    model.eval()
    captured, chunks = {}, []
    handle = last_linear(model)[1].register_forward_pre_hook(lambda m, inputs: captured.__setitem__("x", inputs[0]))
    try:
        for _, batch, _ in images.batches(batch_size):
            model(normalise(batch, mean, std))
            chunks.append(captured["x"].double().cpu())
    finally:
        handle.remove()
    return torch.cat(chunks)


def transfer_accuracy(train_x, train_y, test_x, test_y, classes: int) -> float:
    """Accuracy of a new softmax fitted on frozen features of the few images.

    The features are centred and divided by one overall standard deviation of the few images. Not
    per feature: with one image per class, a ReLU feature that is zero on all of them has a
    standard deviation of 0, and dividing by its floor blew its test values up a millionfold (3 to
    5 points of accuracy lost on Fashion-MNIST)."""
    centre = train_x.mean(dim=0)
    scale = train_x.std().clamp_min(1e-6) if train_x.numel() > 1 else torch.ones((), dtype=train_x.dtype)
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


def transfer_table(model: nn.Module, meta: dict, target_train: ImageSet, target_test: ImageSet,
                   settings: dict, arch: str, params: dict) -> pd.DataFrame:
    """Few-shot transfer of ``model`` (trained on the source classes) to the target classes against
    ``arch`` trained from scratch on the same images, and against the frozen features of ``arch``
    untrained (``random``: what the source training adds): one row per (method, shots, draw)."""
    classes = len(target_train.classes)
    target_test = target_test.spread(settings["test_images"])
    mean, std = meta["mean"], meta["std"]
    test_x = classifier_inputs(model, target_test, mean, std)
    torch.manual_seed(settings["seed"])  # the baseline: the same architecture, untrained
    untrained = build_model(arch, target_train.channels, len(meta["classes"]), target_train.size[0], params).eval()
    random_test_x = classifier_inputs(untrained, target_test, mean, std)
    rows = []
    for shots in settings["shots"]:
        for draw in range(settings["draws"]):
            seed = settings["seed"] * 100_003 + draw * 1_009 + shots
            few = target_train.subset_indices(few_shot_indices(target_train.labels, shots, classes, seed))
            train_x = classifier_inputs(model, few, mean, std)
            rows.append({"method": "transfer", "shots": shots, "draw": draw,
                         "accuracy": transfer_accuracy(train_x, few.labels, test_x, target_test.labels, classes)})
            random_x = classifier_inputs(untrained, few, mean, std)
            rows.append({"method": "random", "shots": shots, "draw": draw,
                         "accuracy": transfer_accuracy(random_x, few.labels, random_test_x, target_test.labels, classes)})
            rows.append({"method": "scratch", "shots": shots, "draw": draw,
                         "accuracy": scratch_accuracy(arch, params, few, target_test, mean, std,
                                                      settings["scratch_steps"], seed)})
    table = pd.DataFrame(rows)
    table["source_accuracy"] = meta["test_accuracy"]
    table["test_images"] = len(target_test)
    return table
