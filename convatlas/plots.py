"""Plots as PNG files (matplotlib, Agg backend, written atomically)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .io import atomic_path  # noqa: E402


def _save(fig, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def training_curves(rows: Sequence[dict[str, Any]], path: str | os.PathLike, title: str = "") -> None:
    """Loss and accuracy per epoch, train and test, side by side."""
    epochs = [row["epoch"] for row in rows]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
    loss_ax.plot(epochs, [r["train_loss"] for r in rows], "o-", label="train")
    loss_ax.plot(epochs, [r["test_loss"] for r in rows], "s-", label="test")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    acc_ax.plot(epochs, [r["train_accuracy"] for r in rows], "o-", label="train")
    acc_ax.plot(epochs, [r["test_accuracy"] for r in rows], "s-", label="test")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def class_bars(values: Sequence[float], classes: Sequence[str], path: str | os.PathLike,
               ylabel: str, title: str = "") -> None:
    """One bar per class (e.g. per-class accuracy)."""
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(classes) + 1.5), 3.2))
    ax.bar(range(len(classes)), values, color="#4477aa")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set(ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)
