"""Local weight files: read safely, loaded as they are (for analysis), and fingerprinted."""
from __future__ import annotations

import hashlib
import os
from typing import Any

import torch
from torch import nn

from ..core.errors import ConfigError

LISTED = 8  # keys named per kind of mismatch in an error


def read_state_dict(path: str | os.PathLike, key: str) -> dict[str, torch.Tensor]:
    """The state dict in ``path`` (plain, or under ``state_dict``), loaded with ``weights_only=True``."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise ConfigError(key, f"cannot load weights file {path}: {error}") from error
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(key, f"weights file {path} holds no state dict of tensors")
    return state


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return ", ".join(names[:LISTED]) + more


def load_as_is(model: nn.Module, path: str | os.PathLike, key: str) -> None:
    """Load ``path`` into ``model`` exactly: every key present, none unexpected, every shape equal;
    otherwise a ConfigError naming ``key`` that lists what does not fit."""
    state = read_state_dict(path, key)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
              if k in state and state[k].shape != own[k].shape]
    problems = []
    if missing:
        problems.append(f"missing keys: {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listed(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches (file vs model): {_listed(shapes)}")
    if problems:
        raise ConfigError(key, f"weights file {path} does not fit the model: " + "; ".join(problems))
    model.load_state_dict(state)


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_record(path: str | os.PathLike) -> dict[str, Any]:
    """What a checkpoint records of the weights it was made from."""
    return {"file": str(path), "sha256": file_sha256(path)}
