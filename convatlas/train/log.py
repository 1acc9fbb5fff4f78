"""The training log, ``results/{model}/train/log-{E}.tsv`` (epochs 1 to E): one row per epoch, no torch to read it."""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ..core.io import atomic_path

LOG_COLUMNS = ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"]


def write_train_log(path: str | os.PathLike, rows: list[dict[str, Any]]) -> None:
    """Write the log's columns for every row, atomically."""
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\t".join(LOG_COLUMNS) + "\n")
            for row in rows:
                handle.write("\t".join(f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c]) for c in LOG_COLUMNS) + "\n")


def read_train_log(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a training log with numbers parsed."""
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [{key: (int(value) if key == "epoch" else float(value)) for key, value in row.items()} for row in rows]
