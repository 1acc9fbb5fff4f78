"""Saving and loading convatlas checkpoints (weights plus everything needed to use them).

A checkpoint is a ``torch.save`` zip of ``{"format", "version", "meta", "state_dict"}``; it is
always loaded with ``weights_only=True``. Torch is imported only by the functions that need it, so
publishing a checkpoint (a checked copy) costs no torch import.
"""
from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import asdict, dataclass, field, fields
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


@dataclass(frozen=True)
class CheckpointMeta:
    """What a checkpoint carries beside its weights, as torchvision's weight objects do: how to
    rebuild the model (arch, params, as_is), its classes and input (channels, size, the normalisation
    it expects), where it came from, and what was measured. Stored in the file as a plain dict."""

    arch: str
    params: dict[str, Any]
    dataset: str  # the name of the dataset it was trained (or analysed) on
    classes: list[str]
    in_channels: int
    image_size: int
    epoch: int
    mean: list[float]
    std: list[float]
    model: str = ""  # the configured model's name
    as_is: bool = False  # built unmodified (pretrained weights analysed as they are)
    pretrained: bool = False  # not trained here
    weights: dict[str, Any] | None = None  # the weights file and its SHA-256, when one was loaded
    label_map: list[int] | None = None  # a pretrained model's output class of each dataset class
    predicted_labels: list[int] | None = None  # unlabelled images: the model's prediction for each
    dataset_kind: str | None = None
    seed: int | None = None
    test_images: int | None = None
    test_split: str | None = None  # how the test split was made, when not the dataset's own
    test_accuracy: float | None = None
    test_loss: float | None = None
    test_top5_accuracy: float | None = None
    per_class_accuracy: list[float] | None = None
    per_class_images: list[int] | None = None  # each class accuracy's n
    train_accuracy: float | None = None
    train_loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # anything else the file recorded

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.in_channels, self.image_size, self.image_size

    @classmethod
    def from_dict(cls, meta: dict[str, Any]) -> CheckpointMeta:
        """From the dict stored in a file; a ValueError names the keys it lacks."""
        missing = [key for key in REQUIRED_META if key not in meta]
        if missing:
            raise ValueError(f"checkpoint meta lacks {missing}")
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in meta.items() if k in known},
                   extra={k: v for k, v in meta.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        """The plain dict stored in the file (what ``weights_only`` loading accepts)."""
        stored = asdict(self)
        return {**{k: v for k, v in stored.items() if k != "extra"}, **stored["extra"]}


def save_checkpoint(path: str | os.PathLike, model: nn.Module, meta: CheckpointMeta | dict[str, Any]) -> None:
    """Write weights and ``meta`` atomically; ``meta`` must hold only plain values."""
    import torch

    meta = meta if isinstance(meta, CheckpointMeta) else CheckpointMeta.from_dict(meta)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, "meta": meta.to_dict(), "state_dict": state}, tmp)


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


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, CheckpointMeta]:
    """Load a checkpoint: the model in eval mode on ``device`` and its :class:`CheckpointMeta`. The
    user's own code (``arch: module:callable``) is imported again to rebuild the model."""
    from .registry import build_model

    payload = read_checkpoint(path)
    try:
        meta = CheckpointMeta.from_dict(payload["meta"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} has an unreadable meta: {error}") from error
    model = build_model(meta.arch, meta.in_channels, len(meta.classes), meta.image_size, meta.params, as_is=meta.as_is)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {path} does not fit architecture {meta.arch}: {error}") from error
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
