"""Saving and loading convatlas checkpoints (weights plus everything needed to use them).

A checkpoint is a ``torch.save`` zip of ``{"format", "version", "meta", "state_dict"}``; it is
always loaded with ``weights_only=True``. Torch is imported only by the functions that need it, so
publishing a checkpoint (a checked copy) costs no torch import.
"""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import CheckpointError
from ..core.io import atomic_path

if TYPE_CHECKING:
    import torch
    from torch import nn

FORMAT = "convatlas-checkpoint"
VERSION = 1
REQUIRED_META = ("arch", "params", "dataset", "classes", "in_channels", "image_size", "epoch", "mean", "std")


def save_checkpoint(path: str | os.PathLike, model: nn.Module, meta: dict[str, Any]) -> None:
    """Write weights and ``meta`` atomically; ``meta`` must hold only plain values."""
    import torch

    missing = [key for key in REQUIRED_META if key not in meta]
    if missing:
        raise ValueError(f"checkpoint meta lacks {missing}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, "meta": meta, "state_dict": state}, tmp)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The raw checkpoint dict, loaded with ``weights_only=True`` and checked for our format."""
    import torch

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
    (the normalisation the model expects); ``as_is`` marks a model built unmodified (pretrained
    weights analysed as they are, recorded with their SHA-256 under ``weights``). The user's own
    code (``arch: module:callable``) is imported again to rebuild the model.
    """
    from .registry import build_model

    payload = read_checkpoint(path)
    meta = payload["meta"]
    model = build_model(meta["arch"], meta["in_channels"], len(meta["classes"]), meta["image_size"], meta["params"],
                        as_is=meta.get("as_is", False))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {path} does not fit architecture {meta['arch']}: {error}") from error
    return model.to(device).eval(), meta


def check_checkpoint_file(path: str | os.PathLike) -> None:
    """Check, without torch, that ``path`` is a whole torch zip archive carrying our format marker."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            pickles = [name for name in archive.namelist() if name.endswith("/data.pkl") or name == "data.pkl"]
            marked = bool(pickles) and FORMAT.encode() in archive.read(pickles[0])
    except (OSError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"checkpoint {path} is corrupt: {error}") from error
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is corrupt: member {bad} fails its CRC check")
    if not marked:
        raise CheckpointError(f"{path} is not a convatlas checkpoint (no format marker {FORMAT!r})")


def publish_checkpoint(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Check that ``source`` is a whole convatlas checkpoint, then copy it to ``target`` atomically."""
    check_checkpoint_file(source)
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
