"""Frozen-feature linear probes: how linearly separable the classes are at each analysed layer.

A layer's features are its channels averaged over positions (vectors as they are), standardised,
and a multinomial logistic regression is fitted on training images (full batch, L-BFGS); the
probe's accuracy is measured on probe images.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..data.model_inputs import ModelInputs
from ..nn.hooks import capture_outputs


@torch.no_grad()
def pooled_features(model: nn.Module, layers: Sequence[str], inputs: ModelInputs) -> dict[str, torch.Tensor]:
    """Per layer, (N, C) features: spatial maps averaged over positions."""
    model.eval()
    chunks: dict[str, list[torch.Tensor]] = {layer: [] for layer in layers}
    for batch in inputs.batches():
        with capture_outputs(model, layers) as outputs:
            model(batch.inputs)
        for layer in layers:
            out = outputs[layer]
            chunks[layer].append((out.mean(dim=(2, 3)) if out.ndim == 4 else out).double().cpu())
    return {layer: torch.cat(parts) for layer, parts in chunks.items()}


def fit_softmax(features: torch.Tensor, labels: torch.Tensor, classes: int, weight_decay: float = 1e-3,
                iterations: int = 200) -> nn.Linear:
    """A multinomial logistic regression on (already standardised) features, fitted by L-BFGS."""
    torch.manual_seed(0)
    linear = nn.Linear(features.shape[1], classes).double()
    optimizer = torch.optim.LBFGS(linear.parameters(), max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(linear(features), labels) + weight_decay * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return linear


def linear_probe(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                 test_labels: torch.Tensor, classes: int) -> tuple[float, float]:
    """(train accuracy, test accuracy) of a softmax fitted on standardised features."""
    centre = train_features.mean(dim=0)
    scale = train_features.std(dim=0).clamp_min(1e-6)
    train_x, test_x = (train_features - centre) / scale, (test_features - centre) / scale
    linear = fit_softmax(train_x, train_labels, classes)
    with torch.no_grad():
        train_acc = float((linear(train_x).argmax(1) == train_labels).double().mean())
        test_acc = float((linear(test_x).argmax(1) == test_labels).double().mean())
    return train_acc, test_acc


def probe_layers(model: nn.Module, layers: Sequence[str], train: ModelInputs, test: ModelInputs) -> pd.DataFrame:
    """A linear probe per layer: columns layer, features, train_accuracy, accuracy, test_images."""
    train_features = pooled_features(model, layers, train)
    test_features = pooled_features(model, layers, test)
    rows = []
    for layer in layers:
        train_acc, test_acc = linear_probe(train_features[layer], train.labels, test_features[layer], test.labels,
                                           len(train.classes))
        rows.append({"layer": layer, "features": train_features[layer].shape[1],
                     "train_accuracy": train_acc, "accuracy": test_acc, "test_images": len(test)})
    return pd.DataFrame(rows)
