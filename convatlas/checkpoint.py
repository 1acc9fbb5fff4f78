"""Saving and loading convatlas checkpoints (weights plus everything needed to use them)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import CheckpointError
from .io import atomic_path
from .models import build_model

FORMAT = "convatlas-checkpoint"
VERSION = 1
REQUIRED_META = ("arch", "params", "dataset", "classes", "in_channels", "image_size", "epoch", "mean", "std")


def save_checkpoint(path: str | os.PathLike, model: nn.Module, meta: dict[str, Any]) -> None:
    """Write weights and ``meta`` atomically; ``meta`` must hold only plain values."""
    missing = [key for key in REQUIRED_META if key not in meta]
    if missing:
        raise ValueError(f"checkpoint meta lacks {missing}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, "meta": meta, "state_dict": state}, tmp)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The raw checkpoint dict, loaded with ``weights_only=True`` and checked for our format."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt zip, pickle, or a disallowed global
        raise CheckpointError(f"checkpoint {path} is corrupt or not a safe checkpoint: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a convatlas checkpoint (no format marker {FORMAT!r})")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"checkpoint {path} has version {payload.get('version')}, expected {VERSION}")
    return payload


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Load a checkpoint: the model in eval mode on ``device`` and its meta.

    meta holds at least arch, params, dataset, classes, epoch, test_accuracy, mean and std
    (the normalisation the model expects).
    """
    payload = read_checkpoint(path)
    meta = payload["meta"]
    model = build_model(meta["arch"], meta["in_channels"], len(meta["classes"]), meta["image_size"], meta["params"])
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {path} does not fit architecture {meta['arch']}: {error}") from error
    return model.to(device).eval(), meta


def publish_checkpoint(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Check that ``source`` is a readable convatlas checkpoint, then copy it to ``target`` atomically."""
    read_checkpoint(source)
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
