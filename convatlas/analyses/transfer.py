"""Transfer to new classes (Zeiler & Fergus section 5.2): train on some classes, freeze the
features, fit only a new softmax on a few images of the other classes, and compare with the same
architecture trained from scratch on the same few images.

The features are frozen at two depths: the conv features (what the first linear layer receives) and
the last hidden layer (what the final linear layer receives; Zeiler & Fergus's choice, where the
source task had 1,000 classes). With a source task of a few classes the last hidden layer
specialises to tell those apart, and the conv features are the ones that transfer."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..data.datasets import ImageSet
from ..data.model_inputs import ModelInputs
from ..models import build_model
from ..models.checkpoint import CheckpointMeta
from ..models.registry import in_fast_layout
from ..nn.hooks import input_hooks
from ..nn.modules import first_linear, last_linear
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
def classifier_inputs(model: nn.Module, inputs: ModelInputs, at: str = "first") -> torch.Tensor:
    """The frozen features for every image: what the model's first linear layer receives (the conv
    features) or, with ``at="last"``, what its final linear layer receives (the last hidden layer)."""
    if at not in ("first", "last"):
        raise ValueError(f"at must be 'first' or 'last', not {at!r}")
    model.eval()
    captured, chunks = {}, []
    layer = (first_linear(model) if at == "first" else last_linear(model))[0]
    with input_hooks(model, [layer], captured.__setitem__):
        for batch in inputs.batches():
            model(batch.inputs)
            chunks.append(captured[layer].double().cpu())
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


def scratch_accuracy(arch: str, params: dict, few: ModelInputs, test: ModelInputs, steps: int, seed: int) -> float:
    """Accuracy of the same architecture trained from scratch on the few images (full batch, Adam)."""
    torch.manual_seed(seed)
    channels, height, _ = few.shape
    model = in_fast_layout(build_model(arch, channels, len(few.classes), height, params).to(few.device), arch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs = few.take(torch.arange(len(few)))
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), few.labels.to(inputs.device)).backward()
        optimizer.step()
    logits = predict(model, test)
    return float((logits.argmax(1) == test.labels).double().mean())


@dataclass(frozen=True)
class TransferDesign:
    """The few-shot experiment: ``shots`` images per target class, ``draws`` random draws of them
    (seeded), measured on ``test_images`` target images; the from-scratch baseline trains
    ``scratch_steps`` full-batch steps."""

    shots: tuple[int, ...]
    draws: int
    seed: int
    test_images: int
    scratch_steps: int


def transfer_table(model: nn.Module, meta: CheckpointMeta, target_train: ImageSet, target_test: ImageSet,
                   design: TransferDesign, arch: str, params: dict, device: torch.device | str = "cpu") -> pd.DataFrame:
    """Few-shot transfer of ``model`` (trained on the source classes) to the target classes, one row per
    (method, shots, draw): a new softmax on its frozen conv features (``transfer``) and, when the
    model has a hidden linear layer, on its last hidden layer (``last_hidden``); on the conv features
    of ``arch`` untrained (``random``: what the source training adds); and ``arch`` trained from
    scratch on the same few images (``scratch``)."""
    classes = len(target_train.classes)
    target_test = target_test.spread(design.test_images)
    as_inputs = ModelInputs(target_test, meta.mean, meta.std, device=device, show_progress=False).with_images
    torch.manual_seed(design.seed)  # the baseline: the same architecture, untrained
    untrained = build_model(arch, target_train.channels, len(meta.classes), target_train.size[0], params).to(device).eval()
    frozen = {"transfer": (model, "first"), "random": (untrained, "first")}
    if first_linear(model)[0] != last_linear(model)[0]:
        frozen["last_hidden"] = (model, "last")
    test_x = {method: classifier_inputs(net, as_inputs(target_test), at=at) for method, (net, at) in frozen.items()}
    rows = []
    for shots in design.shots:
        for draw in range(design.draws):
            seed = design.seed * 100_003 + draw * 1_009 + shots
            few = target_train.subset_indices(few_shot_indices(target_train.labels, shots, classes, seed))
            for method, (net, at) in frozen.items():
                train_x = classifier_inputs(net, as_inputs(few), at=at)
                rows.append({"method": method, "shots": shots, "draw": draw,
                             "accuracy": transfer_accuracy(train_x, few.labels, test_x[method], target_test.labels, classes)})
            rows.append({"method": "scratch", "shots": shots, "draw": draw,
                         "accuracy": scratch_accuracy(arch, params, as_inputs(few), as_inputs(target_test),
                                                      design.scratch_steps, seed)})
    table = pd.DataFrame(rows)
    table["source_accuracy"] = meta.test_accuracy
    table["test_images"] = len(target_test)
    return table
