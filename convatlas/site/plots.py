"""Plots as PNG files (matplotlib, Agg backend, written atomically)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..core.io import atomic_path  # noqa: E402


def _save(fig, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def training_curves(rows: Sequence[dict[str, Any]], path: str | os.PathLike, title: str = "") -> None:
    """Loss and accuracy per epoch, train and test, side by side (a note when nothing was trained)."""
    if not rows:
        fig, ax = plt.subplots(figsize=(4, 1), layout="constrained")
        ax.text(0.5, 0.5, "not trained here", ha="center", va="center")
        ax.axis("off")
        _save(fig, path)
        return
    epochs = [row["epoch"] for row in rows]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
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
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(classes) + 1.5), 3.2), layout="constrained")
    ax.bar(range(len(classes)), values, color="#4477aa")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set(ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def occlusion_figure(image, projection, windows, maps: dict, classes, true_label: int, path, title: str = "",
                     picture_title: str = "projection of the\nstrongest feature map") -> None:
    """Zeiler & Fergus Fig. 7 for one image: per window, (a) the strongest feature map's summed
    activity, (b) the true-class probability, (c) the most probable class, beside the image and
    a picture of that feature map's top activation (``projection``, titled ``picture_title``)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    rows = max(2, len(windows))  # the first column holds the image and the unit's picture: two rows at least
    fig, axes = plt.subplots(rows, 4, figsize=(11, 2.6 * rows), squeeze=False, layout="constrained")
    for r in range(len(windows), rows):  # a single window: its row, and an empty one beside the picture
        for c in (1, 2, 3):
            axes[r, c].axis("off")
    # colours for the classes predicted anywhere in these maps only (a 1000-class model predicts few)
    shown = sorted({int(v) for window in windows for v in np.unique(maps["predicted"][window])})
    base = plt.get_cmap("tab20" if len(shown) > 10 else "tab10").colors
    palette = [base[i % len(base)] for i in range(len(shown))]
    position = {c: i for i, c in enumerate(shown)}
    cmap = ListedColormap(palette)
    norm = BoundaryNorm(np.arange(len(shown) + 1) - 0.5, len(shown))
    axes[0, 0].imshow(image, interpolation="nearest")
    axes[0, 0].set_title(f"input ({classes[true_label]})")
    axes[1, 0].imshow(projection, interpolation="nearest")
    axes[1, 0].set_title(picture_title)
    for r in range(rows):
        axes[r, 0].axis("off")
    for r, window in enumerate(windows):
        im = axes[r, 1].imshow(maps["activity"][window], cmap="viridis", interpolation="nearest")
        fig.colorbar(im, ax=axes[r, 1], fraction=0.046)
        axes[r, 1].set_title(f"{window} px: feature map activity")
        im = axes[r, 2].imshow(maps["probability"][window], cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        fig.colorbar(im, ax=axes[r, 2], fraction=0.046)
        axes[r, 2].set_title(f"p({classes[true_label]})")
        predicted = np.vectorize(position.__getitem__, otypes=[np.int64])(np.asarray(maps["predicted"][window], dtype=np.int64))
        axes[r, 3].imshow(predicted, cmap=cmap, norm=norm, interpolation="nearest")
        axes[r, 3].set_title("most probable class")
        for c in (1, 2, 3):
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
    handles = [Patch(color=palette[i], label=classes[c]) for i, c in enumerate(shown)]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(5, len(handles)), frameon=False)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def invariance_figure(table, path, transform: str, unit: str, first_layer: str, top_layer: str, labelled: int = 8) -> None:
    """Zeiler & Fergus Fig. 5 for one transformation: first-layer distance, top-layer distance and
    true-class probability, one curve per image (named in the legend up to ``labelled`` images;
    beyond, thin grey lines and their mean in black)."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), layout="constrained")
    columns = ("first_distance", "top_distance", "probability")
    images = table["image"].nunique()
    named = images <= labelled
    for image, rows in table.groupby("image"):
        rows = rows.sort_values("value")
        label = f"{image}: {rows['label'].iloc[0]}"
        for ax, column in zip(axes, columns, strict=True):
            if named:
                ax.plot(rows["value"], rows[column], "o-", ms=3, label=label)
            else:
                ax.plot(rows["value"], rows[column], "-", lw=0.7, color="0.65", alpha=0.7)
    if not named:
        means = table.groupby("value")[list(columns)].mean()
        for ax, column in zip(axes, columns, strict=True):
            ax.plot(means.index, means[column], "o-", ms=3, lw=2, color="black", label=f"mean of {images} images")
            ax.plot([], [], "-", lw=0.7, color="0.65", label="each image")
    axes[0].set(title=f"{first_layer}: distance", xlabel=unit, ylabel="‖f(x) − f(Tx)‖ / ‖f(x)‖")
    axes[1].set(title=f"{top_layer}: distance", xlabel=unit)
    axes[2].set(title="probability of the true class", xlabel=unit, ylim=(-0.02, 1.02))
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[2].legend(fontsize=7)
    fig.suptitle(transform)
    _save(fig, path)


def confusion_difference(before, after, classes, path, title: str = "") -> None:
    """After minus before confusion counts (rows: true class, columns: predicted), diverging colours."""
    diff = np.asarray(after) - np.asarray(before)
    bound = max(1, int(np.abs(diff).max()))
    size = max(4.0, 0.5 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85), layout="constrained")
    im = ax.imshow(diff, cmap="RdBu_r", vmin=-bound, vmax=bound)
    for (r, c), value in np.ndenumerate(diff):
        if value:
            ax.text(c, r, f"{value:+d}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true class", title=title)
    fig.colorbar(im, ax=ax, fraction=0.046, label="images (after − before)")
    _save(fig, path)


TRANSFER_METHODS = {  # the transfer table's methods: what each is called on the page, and its line style
    "transfer": ("frozen conv features", "o-"),
    "last_hidden": ("frozen last hidden layer", "v-."),
    "random": ("frozen untrained conv features", "^:"),
    "scratch": ("trained from scratch", "s--"),
}


def transfer_figure(tables: dict, path) -> None:
    """Accuracy versus images per class for each transfer method, mean and range over draws."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    for model, table in tables.items():
        for method, (name, style) in TRANSFER_METHODS.items():
            if not (table.method == method).any():
                continue
            rows = table[table.method == method].groupby("shots")["accuracy"]
            mean, low, high = rows.mean(), rows.min(), rows.max()
            line, = ax.plot(mean.index, mean.values, style, label=f"{model}: {name}")
            ax.fill_between(mean.index, low.values, high.values, color=line.get_color(), alpha=0.15)
    ax.set_xscale("log")
    shots = sorted({int(s) for table in tables.values() for s in table.shots})
    ax.set_xticks(shots, [str(s) for s in shots])
    ax.minorticks_off()
    ax.set(xlabel="training images per new class", ylabel="test accuracy on the new classes",
           title="a new softmax on frozen features vs. training from scratch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def probe_figure(tables: dict, path) -> None:
    """Linear-probe accuracy per analysed layer, one panel per model with its layers named below."""
    fig, axes = plt.subplots(ncols=len(tables), sharey=True,
                             figsize=(max(4.5, 3.2 * len(tables)), 3.8), squeeze=False, layout="constrained")
    for ax, (model, table) in zip(axes[0], tables.items(), strict=True):
        ax.plot(range(len(table)), table["accuracy"], "o-")
        ax.set_xticks(range(len(table)), table["layer"], rotation=40, ha="right", fontsize=7)
        ax.set_title(model)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("linear probe test accuracy")
    fig.suptitle("where features become class-specific")
    _save(fig, path)


def attribution_figure(image, occlusion_map, window: int, rows: dict, path, title: str = "") -> None:
    """Per class (true, predicted): saliency, guided backpropagation and Grad-CAM over the image,
    beside the image and its occlusion map (true-class probability) for comparison."""
    fig, axes = plt.subplots(len(rows), 4, figsize=(10, 2.7 * len(rows)), squeeze=False, layout="constrained")
    grey = image.mean(axis=2)
    for r, (label, maps) in enumerate(rows.items()):
        if r == 0:
            axes[r, 0].imshow(image, interpolation="nearest")
            axes[r, 0].set_title("input")
        else:
            axes[r, 0].imshow(occlusion_map, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
            axes[r, 0].set_title(f"occlusion ({window} px):\np(true class)")
        axes[r, 1].imshow(maps["saliency"], cmap="gray", interpolation="nearest")
        axes[r, 1].set_title("saliency" if r == 0 else "")
        axes[r, 1].set_ylabel(f"for {label}")  # the class the gradients are of: one label per row
        guided = maps["guided"]
        scale = float(np.abs(guided).max()) or 1.0
        axes[r, 2].imshow(np.clip(0.5 + guided / (2 * scale), 0, 1).squeeze(), cmap="gray" if guided.shape[2] == 1 else None,
                          vmin=0, vmax=1, interpolation="nearest")
        axes[r, 2].set_title("guided backprop" if r == 0 else "")
        axes[r, 3].imshow(grey, cmap="gray", interpolation="nearest")
        axes[r, 3].imshow(maps["gradcam"], cmap="jet", alpha=0.5, interpolation="bilinear")
        axes[r, 3].set_title("Grad-CAM" if r == 0 else "")
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    if title:
        fig.suptitle(title)
    _save(fig, path)


def run_timeline(jobs, lanes: Sequence[int], stages: Sequence[str], training_end: float | None, path) -> None:
    """A run's jobs as bars on lanes (jobs side by side on different lanes), minutes since the run's
    first job started on x, coloured by stage; a line where the last training job ended."""
    start = float(jobs.start.min())
    colours = {stage: plt.get_cmap("tab10")(i % 10) for i, stage in enumerate(stages)}
    rows = max(lanes) + 1 if len(lanes) else 1
    fig, ax = plt.subplots(figsize=(11, 0.9 + 0.32 * rows), layout="constrained")
    wall = max(1.0, float(jobs.end.max()) - start)
    for (_, job), lane in zip(jobs.iterrows(), lanes, strict=True):
        ax.barh(lane, (job.end - job.start) / 60, left=(job.start - start) / 60, height=0.8,
                color=colours.get(job.stage, "grey"), edgecolor="white", linewidth=0.8)
        label = f"{job.rule} {job.job}"
        if (job.end - job.start) / wall * 950 > 4.6 * len(label) + 8:  # name the jobs whose bar holds the name (~950 px axes)
            ax.text((job.start - start + (job.end - job.start) / 2) / 60, lane, label,
                    ha="center", va="center", fontsize=7, color="white", clip_on=True)
    if training_end is not None:
        ax.axvline((training_end - start) / 60, color="black", linestyle="--", linewidth=1)
        ax.text((training_end - start) / 60, rows - 0.4, " training ends", va="bottom", fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[s]) for s in stages]
    fig.legend(handles, stages, ncols=min(len(stages), 8), loc="outside lower center", fontsize=8, frameon=False)
    ax.set(xlabel="minutes since the first job started", ylabel="lane", ylim=(-0.6, rows + 0.2))
    ax.set_yticks(range(rows))
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    _save(fig, path)
