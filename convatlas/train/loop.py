"""Checkpoint training: train a configured model epoch by epoch; the caller keeps what it wants
(the train job saves checkpoints, the resumable state and the log: :mod:`convatlas.jobs.train`).

Training is deterministic for a seed on the CPU: the initial weights come from the seed, and every
epoch reseeds its own shuffling, augmentation and dropout from (seed, epoch). So an interrupted run
that resumes from the state saved after epoch E continues exactly as if it had never stopped.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..analyses.evaluate import evaluate
from ..core.logs import progress
from ..data.datasets import ImageSet, channel_stats
from ..data.model_inputs import ModelInputs
from ..data.transforms import augment_batch, normalise
from ..models import build_model
from ..models.checkpoint import CheckpointMeta
from ..models.registry import in_fast_layout
from ..models.tv import load_weights
from .optim import learning_rate, make_optimizer
from .settings import TrainingSettings

log = logging.getLogger(__name__)


def _epoch_seed(seed: int, epoch: int) -> int:
    return seed * 1_000_003 + epoch


def train_epoch(
    model: nn.Module, optimizer: torch.optim.Optimizer, train: ImageSet, mean, std,
    settings: TrainingSettings, epoch: int, device: torch.device,
) -> tuple[float, float]:
    """One pass over ``train`` in a seeded order; returns (mean loss, accuracy)."""
    seed = _epoch_seed(settings.seed, epoch)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(train), generator=generator)
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    batches = train.batches(settings.batch_size, order)
    steps = -(-len(train) // settings.batch_size)
    for _, images, labels in progress(batches, f"epoch {epoch}", total=steps):
        images = augment_batch(images, list(settings.augment), generator)
        inputs = normalise(images.to(device), mean, std)
        labels = labels.to(device)
        logits = model(inputs)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        correct += int((logits.argmax(1) == labels).sum())
        seen += len(labels)
    return total_loss / seen, correct / seen


def _initial_model(name: str, settings: TrainingSettings, train: ImageSet, device: torch.device) -> nn.Module:
    """The seeded untrained model for ``train``'s images and classes, with any initial weights."""
    torch.manual_seed(settings.seed)
    model = build_model(settings.arch, train.channels, len(train.classes), train.size[0], settings.params)
    if settings.weights:
        for note in load_weights(model, settings.weights):
            log.info("%s: %s", name, note)
    return in_fast_layout(model.to(device), settings.arch)


@dataclass
class Training:
    """A model in training: its weights and optimiser, the normalisation of its inputs, the log rows
    of the epochs trained so far and the last of them (0: none)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    mean: list[float]
    std: list[float]
    history: list[dict[str, Any]] = field(default_factory=list)
    epoch: int = 0

    def state(self) -> dict[str, Any]:
        """Everything needed to continue after :attr:`epoch` (tensors and plain values)."""
        return {"epoch": self.epoch, "history": self.history, "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(), "mean": self.mean, "std": self.std}


def begin_training(name: str, settings: TrainingSettings, train: ImageSet, device: torch.device | str = "cpu",
                   resume: dict[str, Any] | None = None) -> Training:
    """The seeded untrained model (normalised by ``train``'s channel statistics) or, with ``resume``
    (a :meth:`Training.state`), the model as it was after that state's epoch."""
    device = torch.device(device)
    model = _initial_model(name, settings, train, device)
    optimizer = make_optimizer(model, settings.optimizer)
    if resume is None:
        mean, std = channel_stats(train)
        return Training(model, optimizer, mean, std)
    model.load_state_dict(resume["model"])
    optimizer.load_state_dict(resume["optimizer"])
    return Training(model, optimizer, resume["mean"], resume["std"], list(resume["history"]), resume["epoch"])


def train_epochs(name: str, training: Training, settings: TrainingSettings, train: ImageSet, test: ImageSet,
                 until: int, device: torch.device | str = "cpu", eval_batch_size: int = 256) -> Iterator[dict[str, Any]]:
    """Train the epochs after ``training.epoch`` up to ``until``, each at its scheduled learning rate
    and then evaluated on ``test``; after each, ``training`` holds it and its log row is yielded (the
    caller saves what it wants to keep). Deterministic for the seed: training in segments equals
    training in one go."""
    device = torch.device(device)
    for epoch in range(training.epoch + 1, until + 1):
        row = _train_and_evaluate(name, training.model, training.optimizer, train, test, training.mean, training.std,
                                  settings, epoch, device, eval_batch_size)
        training.history.append(row)
        training.epoch = epoch
        yield row


def checkpoint_meta(name: str, settings: TrainingSettings, dataset_name: str, dataset_kind: str, train: ImageSet,
                    test: ImageSet, training: Training, test_split: str | None = None) -> CheckpointMeta:
    """The meta of a checkpoint of ``training`` at its last epoch: what rebuilds the model, its data and
    normalisation, and its test metrics (``test_split``: how the test split was made, when it is not
    the dataset's own)."""
    row = training.history[-1]
    return CheckpointMeta(
        model=name, arch=settings.arch, params=settings.params,
        dataset=dataset_name, dataset_kind=dataset_kind, classes=train.classes,
        in_channels=train.channels, image_size=train.size[0], mean=training.mean, std=training.std,
        seed=settings.seed, test_images=len(test), test_split=test_split,
        per_class_images=torch.bincount(torch.as_tensor(test.labels), minlength=len(train.classes)).tolist(),
        epoch=training.epoch, test_accuracy=row["test_accuracy"], test_loss=row["test_loss"],
        test_top5_accuracy=row["test_top5_accuracy"], train_accuracy=row["train_accuracy"],
        train_loss=row["train_loss"], per_class_accuracy=row["per_class_accuracy"])


def _train_and_evaluate(name, model, optimizer, train, test, mean, std, settings: TrainingSettings, epoch, device,
                        eval_batch_size) -> dict[str, Any]:
    """One epoch of training at the scheduled learning rate, then the test metrics: the log row."""
    began = time.perf_counter()
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(settings.optimizer.lr, settings.schedule, epoch)
    train_loss, train_accuracy = train_epoch(model, optimizer, train, mean, std, settings, epoch, device)
    metrics = evaluate(model, ModelInputs(test, mean, std, eval_batch_size, device, show_progress=False))
    row = {
        "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
        "test_loss": metrics["loss"], "test_accuracy": metrics["accuracy"],
        "test_top5_accuracy": metrics["top5_accuracy"], "per_class_accuracy": metrics["per_class_accuracy"],
        "seconds": round(time.perf_counter() - began, 2),
    }
    log.info("%s epoch %d: train loss %.4f acc %.4f, test loss %.4f acc %.4f (%.1f s)", name, epoch,
             train_loss, train_accuracy, metrics["loss"], metrics["accuracy"], row["seconds"])
    return row
