"""The resumable training state: saved after every epoch, resumed only by the same configuration."""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch

from ..core.io import atomic_path

log = logging.getLogger(__name__)
STATE_FORMAT = "convatlas-train-state"


def fingerprint(model: dict[str, Any], dataset: dict[str, Any], tracked: dict[str, Any] | None = None) -> str:
    """What a saved training state must match to be resumed: the sha256 of the model's and dataset's
    settings that change the result (the train job chooses them) and the ``tracked`` fingerprints of
    its code, weights and data (:mod:`convatlas.workflow.tracking`)."""
    text = json.dumps({"model": model, "dataset": dataset, "tracked": tracked or {}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def load_state(path: Path, expected: str) -> dict[str, Any] | None:
    """The state saved at ``path`` if it belongs to the configuration ``expected``, else None."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a state that cannot be read is not worth dying for: start over
        log.warning("ignoring unreadable training state %s (%s); starting over", path, error)
        return None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or state.get("fingerprint") != expected:
        log.warning("training state %s belongs to another configuration; starting over", path)
        return None
    return state


def save_state(path: Path, expected: str, state: dict[str, Any]) -> None:
    """Save a training's state (:meth:`convatlas.train.loop.Training.state`: epoch, history, model,
    optimizer, mean, std) for the configuration ``expected``, atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": STATE_FORMAT, "fingerprint": expected, **state}, tmp)


def resumable_state(name: str, total_epochs: int, state_dir: Path, expected: str,
                    epochs: list[int]) -> dict[str, Any] | None:
    """The state saved in ``state_dir`` to resume from, if it fits this run of ``total_epochs``
    (else None: start over): every checkpoint in ``epochs`` that it has passed must be saved. It may
    be past this segment's last epoch (a later training segment ran): the caller then has nothing
    to train."""
    state = load_state(state_dir / "train_state.pt", expected)
    if state is not None and state["epoch"] > total_epochs:
        log.warning("%s: saved state is past the %d epochs asked for; starting over", name, total_epochs)
        return None
    if state is not None and any(
        epoch <= state["epoch"] and not (state_dir / f"epoch-{epoch}.pt").is_file() for epoch in epochs
    ):
        log.warning("%s: saved state lacks checkpoints now asked for; starting over", name)
        return None
    return state
