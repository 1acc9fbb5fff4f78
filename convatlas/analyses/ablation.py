"""Ablation: switch channels off (their output forced to zero) and measure what breaks, per class.

Per-channel ablation of a layer computes everything up to the layer once for the test images, then
runs only the rest of the network, once per channel, with that channel zeroed; channels are batched
together. The rest of the network is a copy of the model's fx graph that starts at the layer (plus
any earlier activation it still needs, such as a ResNet block's shortcut input). Where the layer
feeds a conv or linear layer through channel-wise ops only, the cut moves past that linear op: it
runs once, and each channel's share of its output is subtracted (exact, and most of the cost of the
rest of a network is often that op).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..core.errors import ConfigError
from ..data.model_inputs import ModelInputs
from ..nn.graph import ModelGraph
from ..nn.hooks import forward_hooks
from ..nn.surgery import LayerSplit, next_linear
from ..results.artifacts import ExperimentResult, Flip
from .statistics import change_interval

MAX_PASS_VALUES = 4_000_000  # activation values in one batched pass of ablated copies


@torch.no_grad()
def channel_ablation(
    model: nn.Module,
    layer: str,
    inputs: ModelInputs,
    channels_per_pass: int = 16,
    graph: ModelGraph | None = None,
    channels: Sequence[int] | None = None,
    subtract_shares: bool = True,
) -> pd.DataFrame:
    """Accuracy with each channel of ``layer`` (or each of ``channels``) switched off alone.

    Where the layer's output reaches a conv or linear layer only through channel-wise ops (ReLUs,
    pools, a flatten; see :func:`~convatlas.nn.surgery.next_linear`), that layer runs once per
    batch and each channel's share is subtracted from its output (``subtract_shares=False``: run it
    per channel too, for comparison); the rest of the network runs per channel.

    One row per channel: ``channel, accuracy, accuracy_drop``, ``images`` (how many it was measured
    on), ``lost`` and ``gained`` (images right before and wrong after, and the other way round),
    ``drop_low, drop_high`` (the 95% interval of the drop, see :func:`convatlas.analyses.statistics.change_interval`)
    and ``class_accuracy`` (an array: the accuracy on each class); the unablated accuracies are in ``DataFrame.attrs``.
    """
    model.eval()
    graph = graph or ModelGraph(model, inputs.shape)
    linear = next_linear(graph, layer) if subtract_shares else None
    if linear is None:  # zero the channel at the layer and run the rest
        split = LayerSplit(model, graph, layer)
    else:  # cut after the next linear op: its output less the channel's share, then the rest
        split = LayerSplit(model, graph, layer, at=linear.node, also=(linear.input_node,))
    classes = len(inputs.classes)
    chosen_channels = list(range(graph.layer(layer).channels)) if channels is None else list(channels)
    correct = torch.zeros(len(chosen_channels), classes, dtype=torch.long)
    base_correct = torch.zeros(classes, dtype=torch.long)
    lost = torch.zeros(len(chosen_channels), dtype=torch.long)
    gained = torch.zeros(len(chosen_channels), dtype=torch.long)
    counts = torch.bincount(inputs.labels, minlength=classes)
    for batch in inputs.batches(f"ablate {layer}"):
        labels = batch.labels.to(batch.inputs.device)
        outputs = split.head(batch.inputs)
        if linear is None:
            activation, others = outputs[0], outputs[1:]
        else:
            activation, others, linear_input = outputs[0], outputs[1:-1], outputs[-1]
        base = split.tail(activation, *others).argmax(dim=1) == labels
        base_correct += torch.bincount(labels[base].cpu(), minlength=classes)
        n = len(labels)
        channels_last = activation.ndim == 4 and activation.is_contiguous(memory_format=torch.channels_last)
        # batch channels only while the ablated copies stay small (early layers have large maps)
        per_pass = max(1, min(channels_per_pass, MAX_PASS_VALUES // max(1, activation[0].numel() * n)))
        if any(not isinstance(o, torch.Tensor) for o in others):
            per_pass = 1  # an earlier value such as x.size(0) fixes the batch: copies cannot be stacked
        for start in range(0, len(chosen_channels), per_pass):
            chosen = torch.as_tensor(chosen_channels[start:start + per_pass], device=activation.device)
            k = len(chosen)
            if linear is None:
                ablated = activation.repeat(k, *([1] * (activation.ndim - 1)))
                rows = torch.arange(k * n, device=activation.device)
                ablated[rows, chosen.repeat_interleave(n)] = 0
            else:
                ablated = (activation.unsqueeze(0) - linear.share(linear_input, chosen)).flatten(0, 1)
            if channels_last:  # stacking copies in torch's default layout: back to the model's
                ablated = ablated.contiguous(memory_format=torch.channels_last)
            repeated = [o.repeat(k, *([1] * (o.ndim - 1))) if isinstance(o, torch.Tensor) and k > 1 else o
                        for o in others]
            hits = (split.tail(ablated, *repeated).argmax(dim=1) == labels.repeat(k)).view(k, n)
            for j in range(k):
                correct[start + j] += torch.bincount(labels[hits[j]].cpu(), minlength=classes)
            lost[start:start + k] += (base & ~hits).sum(dim=1).cpu()
            gained[start:start + k] += (~base & hits).sum(dim=1).cpu()
    base_accuracy = float(base_correct.sum()) / len(inputs)
    per_class = correct.double() / counts.clamp(min=1).double()
    table = pd.DataFrame({
        "channel": np.asarray(chosen_channels, dtype=np.int32),
        "accuracy": (correct.sum(dim=1).double() / len(inputs)).numpy(),
    })
    table["accuracy_drop"] = base_accuracy - table["accuracy"]
    table["images"] = len(inputs)
    table["lost"], table["gained"] = lost.numpy(), gained.numpy()
    change_low, change_high = change_interval(table["lost"], table["gained"], len(inputs))
    table["drop_low"], table["drop_high"] = -change_high, -change_low
    table["class_accuracy"] = list(per_class.numpy())  # one array per channel, indexed by class
    table.attrs["base_accuracy"] = base_accuracy
    table.attrs["base_class_accuracy"] = (base_correct.double() / counts.clamp(min=1).double()).tolist()
    return table


@contextlib.contextmanager
def switched_off(model: nn.Module, channels: dict[str, Sequence[int]]) -> Iterator[None]:
    """Within the block, the given channels of each layer output zero."""
    def zero(name: str, output: torch.Tensor) -> None:
        output[:, list(channels[name])] = 0

    # forward hooks that change the output in place: the next layer sees the zeros
    with forward_hooks(model, list(channels), zero):
        yield


def named_channels(channels: dict[str, Sequence[int]], stats: pd.DataFrame, layers: Sequence[str],
                   key: str) -> dict[str, list[int]]:
    """``channels`` ({layer: [channel, ...]}) checked against the analysed ``layers``; a ConfigError
    names ``key`` (where the caller read them) for an unknown layer or channel."""
    stats = stats[stats.layer.isin(layers)]
    chosen = {}
    for layer, numbers in channels.items():
        known = stats[stats.layer == layer]
        if known.empty:
            raise ConfigError(key, f"layer {layer!r} is not analysed ({', '.join(layers)})")
        bad = [c for c in numbers if not 0 <= c < len(known)]
        if bad:
            raise ConfigError(key, f"{layer} has no channel {bad[0]} (it has {len(known)})")
        chosen[layer] = sorted(set(numbers))
    return chosen


def most_selective_channels(stats: pd.DataFrame, layers: Sequence[str], count: int) -> dict[str, list[int]]:
    """The ``count`` most class-selective channels across ``layers``, among those whose selectivity is
    defined (NaN for channels firing too rarely or too weakly), ranked by the lower end of its 95%
    interval where stored, so that noise does not rank high."""
    stats = stats[stats.layer.isin(layers)]
    key = "selectivity_low" if "selectivity_low" in stats else "selectivity"
    picked = stats.dropna(subset=["selectivity"]).sort_values([key, "layer", "channel"], ascending=[False, True, True])
    return _per_layer(picked.head(count), layers)


def random_channels(stats: pd.DataFrame, layers: Sequence[str], count: int, seed: int = 0) -> dict[str, list[int]]:
    """``count`` channels drawn uniformly without replacement across ``layers`` (seeded)."""
    stats = stats[stats.layer.isin(layers)]
    return _per_layer(stats.sample(n=min(count, len(stats)), random_state=seed), layers)


def _per_layer(picked: pd.DataFrame, layers: Sequence[str]) -> dict[str, list[int]]:
    chosen: dict[str, list[int]] = {}
    for row in picked.itertuples():
        chosen.setdefault(row.layer, []).append(int(row.channel))
    return {layer: sorted(chosen[layer]) for layer in layers if layer in chosen}


CONTROL_DRAWS = 10  # random draws matched layer by layer to a selective experiment (its control)
CONTROL_SEED = 0


def matched_controls(chosen: dict[str, Sequence[int]], stats: pd.DataFrame, draws: int = CONTROL_DRAWS,
                     seed: int = CONTROL_SEED) -> list[dict[str, list[int]]]:
    """``draws`` random sets of channels with as many in each layer as ``chosen`` has, drawn among
    that layer's other channels whose selectivity is ranked (so they fire as often and as strongly as
    selective ones may: :func:`convatlas.analyses.responses.ranked_channels`), or among its other
    live channels where too few are ranked, or among all its other channels where too few are live. Matching by layer keeps a draw from being a handful of
    early-layer channels whose loss costs much whatever they select."""
    rng = np.random.default_rng(seed)
    controls = []
    for _ in range(draws):
        draw = {}
        for layer, channels in chosen.items():
            rows = stats[(stats.layer == layer) & ~stats.channel.isin(list(channels))]
            pool = rows[rows.selectivity.notna()].channel.to_numpy()
            if len(pool) < len(channels):
                pool = rows[~rows.dead.astype(bool)].channel.to_numpy()
            if len(pool) < len(channels):
                pool = rows.channel.to_numpy()  # a small layer with dead channels: any other channel
            picked = rng.choice(pool, size=min(len(channels), len(pool)), replace=False) if len(pool) else []
            draw[layer] = sorted(int(c) for c in picked)
        controls.append(draw)
    return controls


@torch.no_grad()
def intact_predictions(model: nn.Module, inputs: ModelInputs) -> torch.Tensor:
    """The unablated model's predicted class of every image, in order."""
    model.eval()
    return torch.cat([model(batch.inputs).argmax(1).cpu() for batch in inputs.batches()])


@torch.no_grad()
def run_experiment(model: nn.Module, channels: dict[str, Sequence[int]], inputs: ModelInputs,
                   before: torch.Tensor | None = None) -> ExperimentResult:
    """Predictions before and after switching ``channels`` off together, with per-class accuracy,
    confusion matrices (rows: true class, columns: predicted) and the images that flip; ``before``:
    the intact model's predictions when already known (:func:`intact_predictions`), so that only
    the ablated model runs."""
    model.eval()
    known = before
    before, after = [], []
    for batch in inputs.batches():
        if known is None:
            before.append(model(batch.inputs).argmax(1).cpu())
        with switched_off(model, channels):
            after.append(model(batch.inputs).argmax(1).cpu())
    before, after, labels = (torch.cat(before) if known is None else known), torch.cat(after), inputs.labels
    k = len(inputs.classes)

    def confusion(predicted: torch.Tensor) -> np.ndarray:
        return torch.bincount(labels * k + predicted, minlength=k * k).view(k, k).numpy()

    def per_class(predicted: torch.Tensor) -> list[float]:
        return [float((predicted[labels == c] == c).double().mean()) if (labels == c).any() else float("nan") for c in range(k)]

    flips = torch.nonzero((before == labels) & (after != labels)).flatten()
    recovered = int(((before != labels) & (after == labels)).sum())
    low, high = change_interval(len(flips), recovered, len(labels))
    return ExperimentResult(
        channels={layer: list(map(int, chans)) for layer, chans in channels.items()},
        accuracy_before=float((before == labels).double().mean()),
        accuracy_after=float((after == labels).double().mean()),
        class_accuracy_before=per_class(before), class_accuracy_after=per_class(after),
        confusion_before=confusion(before).tolist(), confusion_after=confusion(after).tolist(),
        flipped=[Flip(int(i), int(labels[i]), int(after[i])) for i in flips],
        recovered=recovered, images=len(labels), change_interval=[float(low), float(high)],
    )


def with_base_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The per-channel table with the unablated accuracies (``attrs``) as columns ``base_accuracy``
    and ``base_class_accuracy`` (an array indexed by class), as stored in Parquet."""
    base = table.attrs
    table = table.copy()
    table.attrs = {}
    table["base_accuracy"] = base["base_accuracy"]
    table["base_class_accuracy"] = [np.asarray(base["base_class_accuracy"], dtype=np.float64)] * len(table)
    return table
