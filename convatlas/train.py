"""Checkpoint training: train a configured model, saving checkpoints at the chosen epochs.

Training is deterministic for a seed on the CPU: the initial weights come from the seed, and every
epoch reseeds its own shuffling, augmentation and dropout from (seed, epoch). So an interrupted run
that resumes from the state saved after epoch E continues exactly as if it had never stopped.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .checkpoint import save_checkpoint
from .data import ImageSet, augment_batch, channel_stats, normalise
from .evaluate import evaluate
from .io import atomic_path
from .models import build_model
from .models.tv import load_weights

log = logging.getLogger(__name__)
STATE_FORMAT = "convatlas-train-state"
LOG_COLUMNS = ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"]


def make_optimizer(model: nn.Module, settings: dict[str, Any]) -> torch.optim.Optimizer:
    """SGD with momentum or Adam, from the ``optimizer`` config block."""
    if settings["name"] == "adam":
        return torch.optim.Adam(
            model.parameters(), lr=settings["lr"], betas=tuple(settings["betas"]),
            eps=settings["eps"], weight_decay=settings["weight_decay"],
        )
    return torch.optim.SGD(
        model.parameters(), lr=settings["lr"], momentum=settings["momentum"],
        nesterov=settings["nesterov"] and settings["momentum"] > 0, weight_decay=settings["weight_decay"],
    )


def learning_rate(base: float, schedule: dict[str, Any] | None, epoch: int) -> float:
    """The step schedule: ``base * gamma ** ((epoch - 1) // step_epochs)`` for 1-based epochs."""
    if not schedule:
        return base
    return base * schedule.get("gamma", 0.5) ** ((epoch - 1) // schedule["step_epochs"])


def _fingerprint(model_config: dict[str, Any], dataset_config: dict[str, Any]) -> str:
    """What a saved training state must match to be resumed (anything that changes the result)."""
    relevant = {k: v for k, v in model_config.items() if k not in ("checkpoints", "epochs")}
    text = json.dumps({"model": relevant, "dataset": dataset_config}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


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
    progress = tqdm(batches, total=steps, desc=f"epoch {epoch}", file=sys.stderr,
                    mininterval=1.0 if sys.stderr.isatty() else 15.0)
    for _, images, labels in progress:
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


def _write_log(path: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\t".join(LOG_COLUMNS) + "\n")
            for row in rows:
                handle.write("\t".join(f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c]) for c in LOG_COLUMNS) + "\n")


def _load_state(path: Path, fingerprint: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a state that cannot be read is not worth dying for: start over
        log.warning("ignoring unreadable training state %s (%s); starting over", path, error)
        return None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or state.get("fingerprint") != fingerprint:
        log.warning("training state %s belongs to another configuration; starting over", path)
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
) -> list[dict[str, Any]]:
    """Train ``name``; write ``state_dir/epoch-{E}.pt`` for every E in ``epochs`` and the log.

    The state after each epoch goes to ``state_dir`` too; a later call with the same configuration
    resumes from it. Returns the training log rows.
    """
    device = torch.device(device)
    state_dir = Path(state_dir)
    state_path = state_dir / "train_state.pt"
    fingerprint = _fingerprint(model_config, dataset_config)
    epochs = sorted(set(epochs))
    if not epochs or epochs[-1] > model_config["epochs"]:
        raise ValueError(f"checkpoint epochs {epochs} do not fit the {model_config['epochs']} epochs of {name}")

    torch.manual_seed(model_config["seed"])
    model = build_model(model_config["arch"], train.channels, len(train.classes), train.size[0], model_config["params"])
    if model_config.get("weights"):
        for note in load_weights(model, model_config["weights"]):
            log.info("%s: %s", name, note)
    model.to(device)
    optimizer = make_optimizer(model, model_config["optimizer"])
    mean, std = channel_stats(train)
    history: list[dict[str, Any]] = []
    start = 0

    state = _load_state(state_path, fingerprint)
    if state is not None and state["epoch"] > model_config["epochs"]:
        log.warning("%s: saved state is past the %d epochs asked for; starting over", name, model_config["epochs"])
        state = None
    if state is not None and any(
        epoch <= state["epoch"] and not (state_dir / f"epoch-{epoch}.pt").is_file() for epoch in epochs
    ):
        log.warning("%s: saved state lacks checkpoints now asked for; starting over", name)
        state = None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, start, mean, std = state["history"], state["epoch"], state["mean"], state["std"]
        log.info("%s: resuming after epoch %d from %s", name, start, state_path)

    meta_base = {
        "model": name, "arch": model_config["arch"], "params": model_config["params"],
        "dataset": dataset_name, "dataset_kind": dataset_config["kind"], "classes": train.classes,
        "in_channels": train.channels, "image_size": train.size[0], "mean": mean, "std": std,
        "seed": model_config["seed"],
    }
    for epoch in range(start + 1, model_config["epochs"] + 1):
        began = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(model_config["optimizer"]["lr"], model_config["schedule"], epoch)
        train_loss, train_accuracy = train_epoch(model, optimizer, train, mean, std, model_config, epoch, device)
        metrics = evaluate(model, test, mean, std, eval_batch_size, device)
        row = {
            "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
            "test_loss": metrics["loss"], "test_accuracy": metrics["accuracy"],
            "test_top5_accuracy": metrics["top5_accuracy"],
            "per_class_accuracy": metrics["per_class_accuracy"],
            "seconds": round(time.perf_counter() - began, 2),
        }
        history.append(row)
        log.info("%s epoch %d: train loss %.4f acc %.4f, test loss %.4f acc %.4f (%.1f s)", name, epoch,
                 train_loss, train_accuracy, metrics["loss"], metrics["accuracy"], row["seconds"])
        if epoch in epochs:
            meta = dict(meta_base, epoch=epoch, test_accuracy=metrics["accuracy"], test_loss=metrics["loss"],
                        test_top5_accuracy=metrics["top5_accuracy"], train_accuracy=train_accuracy,
                        train_loss=train_loss, per_class_accuracy=metrics["per_class_accuracy"])
            save_checkpoint(state_dir / f"epoch-{epoch}.pt", model, meta)
        with atomic_path(state_path) as tmp:
            torch.save({
                "format": STATE_FORMAT, "fingerprint": fingerprint, "epoch": epoch, "history": history,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "mean": mean, "std": std,
            }, tmp)
    _write_log(Path(log_path), history)
    return history
