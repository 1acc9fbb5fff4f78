"""Checkpoint training: train a configured model, saving checkpoints at the chosen epochs.

Training is deterministic for a seed on the CPU: the initial weights come from the seed, and every
epoch reseeds its own shuffling, augmentation and dropout from (seed, epoch). So an interrupted run
that resumes from the state saved after epoch E continues exactly as if it had never stopped.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..analyses.evaluate import evaluate
from ..core.logs import progress
from ..data.datasets import ImageSet, channel_stats
from ..data.transforms import augment_batch, normalise
from ..models import build_model
from ..models.checkpoint import save_checkpoint
from ..models.registry import in_fast_layout
from ..models.tv import load_weights
from .log import write_train_log
from .optim import learning_rate, make_optimizer
from .state import fingerprint, load_state, save_state

log = logging.getLogger(__name__)


def _epoch_seed(seed: int, epoch: int) -> int:
    return seed * 1_000_003 + epoch


def train_epoch(
    model: nn.Module, optimizer: torch.optim.Optimizer, train: ImageSet, mean, std,
    settings: dict[str, Any], epoch: int, device: torch.device,
) -> tuple[float, float]:
    """One pass over ``train`` in a seeded order; returns (mean loss, accuracy)."""
    seed = _epoch_seed(settings["seed"], epoch)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(train), generator=generator)
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    batches = train.batches(settings["batch_size"], order)
    steps = -(-len(train) // settings["batch_size"])
    for _, images, labels in progress(batches, f"epoch {epoch}", total=steps):
        images = augment_batch(images, settings["augment"], generator)
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


def _initial_model(name: str, model_config: dict[str, Any], train: ImageSet, device: torch.device) -> nn.Module:
    """The seeded untrained model for ``train``'s images and classes, with any configured weights."""
    torch.manual_seed(model_config["seed"])
    model = build_model(model_config["arch"], train.channels, len(train.classes), train.size[0], model_config["params"])
    if model_config.get("weights"):
        for note in load_weights(model, model_config["weights"]):
            log.info("%s: %s", name, note)
    return in_fast_layout(model.to(device), model_config["arch"])


def _resumable_state(name: str, model_config: dict[str, Any], state_dir: Path, expected: str,
                     epochs: list[int]) -> dict[str, Any] | None:
    """The saved state to resume from, if it fits this run (else None: start over): every checkpoint
    in ``epochs`` that it has passed must be saved. It may be past this run's last epoch (a later
    training segment ran): the caller then has nothing to train."""
    state = load_state(state_dir / "train_state.pt", expected)
    if state is not None and state["epoch"] > model_config["epochs"]:
        log.warning("%s: saved state is past the %d epochs asked for; starting over", name, model_config["epochs"])
        return None
    if state is not None and any(
        epoch <= state["epoch"] and not (state_dir / f"epoch-{epoch}.pt").is_file() for epoch in epochs
    ):
        log.warning("%s: saved state lacks checkpoints now asked for; starting over", name)
        return None
    return state


def train_model(
    name: str,
    model_config: dict[str, Any],
    dataset_name: str,
    dataset_config: dict[str, Any],
    train: ImageSet,
    test: ImageSet,
    epochs: list[int],
    log_path: str | Path,
    state_dir: str | Path,
    device: torch.device | str = "cpu",
    eval_batch_size: int = 256,
    until: int | None = None,
    tracked: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Train ``name`` up to epoch ``until`` (all its epochs when None); write ``state_dir/epoch-{E}.pt``
    for every E in ``epochs`` up to ``until`` and the log of epochs 1 to ``until``.

    The state after each epoch goes to ``state_dir`` too; a later call with the same configuration
    resumes from it, so training in segments (``until`` = 2, then 5) equals training in one go; a
    state saved for other ``tracked`` fingerprints (code, weights, data) is not resumed. Returns the
    training log rows.
    """
    device = torch.device(device)
    state_dir = Path(state_dir)
    expected = fingerprint(model_config, dataset_config, tracked)
    epochs = sorted(set(epochs))
    if not epochs or epochs[-1] > model_config["epochs"]:
        raise ValueError(f"checkpoint epochs {epochs} do not fit the {model_config['epochs']} epochs of {name}")
    until = model_config["epochs"] if until is None else until
    if not 1 <= until <= model_config["epochs"]:
        raise ValueError(f"cannot train {name} until epoch {until}: it trains for {model_config['epochs']} epochs")
    epochs = [epoch for epoch in epochs if epoch <= until]
    model = _initial_model(name, model_config, train, device)
    optimizer = make_optimizer(model, model_config["optimizer"])
    mean, std = channel_stats(train)
    history: list[dict[str, Any]] = []
    start = 0
    state = _resumable_state(name, model_config, state_dir, expected, epochs)
    if state is not None and state["epoch"] >= until:
        log.info("%s: epochs 1 to %d were trained before (%s)", name, until, state_dir / "train_state.pt")
        history = state["history"][:until]
        write_train_log(log_path, history)
        return history
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, start, mean, std = state["history"], state["epoch"], state["mean"], state["std"]
        log.info("%s: resuming after epoch %d from %s", name, start, state_dir / "train_state.pt")
    meta_base = {
        "model": name, "arch": model_config["arch"], "params": model_config["params"],
        "dataset": dataset_name, "dataset_kind": dataset_config["kind"], "classes": train.classes,
        "in_channels": train.channels, "image_size": train.size[0], "mean": mean, "std": std,
        "seed": model_config["seed"], "test_images": len(test), "test_split": test_split_note(dataset_config),
        "per_class_images": torch.bincount(torch.as_tensor(test.labels), minlength=len(train.classes)).tolist(),
    }
    for epoch in range(start + 1, until + 1):
        row = _train_and_evaluate(name, model, optimizer, train, test, mean, std, model_config, epoch, device,
                                  eval_batch_size)
        history.append(row)
        if epoch in epochs:
            meta = dict(meta_base, epoch=epoch, test_accuracy=row["test_accuracy"], test_loss=row["test_loss"],
                        test_top5_accuracy=row["test_top5_accuracy"], train_accuracy=row["train_accuracy"],
                        train_loss=row["train_loss"], per_class_accuracy=row["per_class_accuracy"])
            save_checkpoint(state_dir / f"epoch-{epoch}.pt", model, meta)
        save_state(state_dir / "train_state.pt", expected, epoch, history, model, optimizer, mean, std)
    write_train_log(log_path, history)
    return history


def test_split_note(dataset: dict[str, Any]) -> str | None:
    """How the test split was made, when it is not the dataset's own (an image folder's held-out share)."""
    share = dataset.get("held_out") if dataset.get("kind") == "imagefolder" else None
    return f"held out: {share:.0%} of each class folder, not trained on" if share else None


def _train_and_evaluate(name, model, optimizer, train, test, mean, std, model_config, epoch, device,
                        eval_batch_size) -> dict[str, Any]:
    """One epoch of training at the scheduled learning rate, then the test metrics: the log row."""
    began = time.perf_counter()
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(model_config["optimizer"]["lr"], model_config["schedule"], epoch)
    train_loss, train_accuracy = train_epoch(model, optimizer, train, mean, std, model_config, epoch, device)
    metrics = evaluate(model, test, mean, std, eval_batch_size, device)
    row = {
        "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
        "test_loss": metrics["loss"], "test_accuracy": metrics["accuracy"],
        "test_top5_accuracy": metrics["top5_accuracy"], "per_class_accuracy": metrics["per_class_accuracy"],
        "seconds": round(time.perf_counter() - began, 2),
    }
    log.info("%s epoch %d: train loss %.4f acc %.4f, test loss %.4f acc %.4f (%.1f s)", name, epoch,
             train_loss, train_accuracy, metrics["loss"], metrics["accuracy"], row["seconds"])
    return row
