"""Activation indexing: one streaming pass keeps each channel's top-k images and its statistics.

Forward hooks on every analysed layer reduce each batch's activations at once; nothing but the
running top-k (C x k per layer) and per-channel sums is kept, so memory is bounded however large
the probe set is.

Ranking: each image gets one score per channel, the maximum over positions (default, as Zeiler &
Fergus), or the mean or L2 norm of the channel's map. (y, x) is always where the map is largest.
Ties are broken by the lower image index, so results are deterministic.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.model_inputs import ModelInputs
from ..nn.graph import Layer
from ..nn.hooks import forward_hooks, input_hooks
from .facets import embed, embedding_layer, facet_table, random_projection
from .levels import LevelSamples, image_keys, level_examples
from .responses import (
    HISTOGRAM_BINS,
    count_bins,
    histogram_bins,
    magnitude_floor,
    ranked_channels,
    selectivity_index,
    selectivity_interval,
)

RANKINGS = ("max", "mean", "l2")


class IndexPass(NamedTuple):
    """What one pass over the probe images gathers."""

    accumulators: dict[str, LayerAccumulator]  # per layer: top images, statistics, level samples
    predictions: pd.DataFrame  # per image: label, predicted class, its probability
    embeddings: np.ndarray | None  # per image (rows in image order): its embedding, for facets


def channel_scores(flat: torch.Tensor, peak: torch.Tensor, sums: torch.Tensor, ranking: str = "max") -> torch.Tensor:
    """The ranking score per (image, channel) from the flattened maps (N, C, positions):
    the maximum over positions, the mean, or the L2 norm of the map."""
    if ranking == "max":
        return peak
    if ranking == "mean":
        return sums / flat.shape[2]
    if ranking == "l2":
        return flat.norm(dim=2)
    raise ValueError(f"unknown ranking {ranking!r}; use one of {', '.join(RANKINGS)}")


@dataclass
class LayerAccumulator:
    """Running top-k and statistics of one layer's channels."""

    channels: int
    k: int
    classes: int
    ranking: str = "max"
    keys: torch.Tensor | None = None  # every probe image's sampling key (levels.image_keys); None: no level samples
    kept: int = 0  # how many top images to keep (at least k: the facets' examples); the index shows the first k
    values: torch.Tensor = field(init=False)
    images: torch.Tensor = field(init=False)
    ys: torch.Tensor = field(init=False)
    xs: torch.Tensor = field(init=False)

    def __post_init__(self):
        self.kept = max(self.k, self.kept)
        c, k = self.channels, 0
        self.values = torch.empty((c, k))
        self.images = torch.empty((c, k), dtype=torch.long)
        self.ys = torch.empty((c, k), dtype=torch.long)
        self.xs = torch.empty((c, k), dtype=torch.long)
        self.total = torch.zeros(c, dtype=torch.float64)
        self.positive = torch.zeros(c, dtype=torch.float64)
        self.count = 0  # activations per channel seen (images x positions)
        self.peak = torch.full((c,), -torch.inf, dtype=torch.float64)
        self.class_sums = torch.zeros((self.classes, c), dtype=torch.float64)  # of rectified responses
        self.class_squares = torch.zeros((self.classes, c), dtype=torch.float64)  # of their squares
        self.class_counts = torch.zeros(self.classes, dtype=torch.float64)
        self.active = torch.zeros(c, dtype=torch.long)  # images with a positive response
        self.histogram = torch.zeros((c, HISTOGRAM_BINS), dtype=torch.long)
        self.images_seen = 0
        self.low_values = torch.empty((c, 0))  # the k lowest scores, ascending, and their images
        self.low_images = torch.empty((c, 0), dtype=torch.long)
        self.samples = LevelSamples(c) if self.keys is not None else None  # examples across the range

    def update(self, activations: torch.Tensor, image_indices: torch.Tensor, labels: torch.Tensor) -> None:
        """Fold one batch (N, C, H, W) or (N, C) of activations into the running state."""
        activations = activations.detach().float().cpu()
        n, c = activations.shape[:2]
        flat = activations.reshape(n, c, -1)
        width = activations.shape[3] if activations.ndim == 4 else 1
        peak = flat.amax(dim=2)
        sums = flat.sum(dim=2)
        labels = labels.cpu()
        self.total += sums.double().sum(dim=0)
        self.positive += flat.sign().clamp_(min=0).sum(dim=2).double().sum(dim=0)  # faster than (flat > 0).sum()
        self.count += n * flat.shape[2]
        self.peak = torch.maximum(self.peak, peak.double().amax(dim=0))
        scores = channel_scores(flat, peak, sums, self.ranking)
        rectified = scores.clamp(min=0).double()
        self.class_sums.index_add_(0, labels, rectified)
        self.class_squares.index_add_(0, labels, rectified * rectified)
        self.class_counts += torch.bincount(labels, minlength=self.classes).double()
        self.active += (scores > 0).sum(dim=0)
        bins = histogram_bins(scores)
        self.histogram += count_bins(bins)
        self.images_seen += n
        if self.samples is not None:
            image_indices = image_indices.cpu()
            self.samples.update(bins, scores, self.keys[image_indices], image_indices, flat, width)
        self._merge(scores.T, flat, width, image_indices.cpu())
        self._merge_lowest(scores.T, image_indices.cpu())

    def _merge_lowest(self, scores: torch.Tensor, image_indices: torch.Tensor) -> None:
        """Keep the k lowest scores (C, N) per channel; a stable ascending sort over [kept, batch]
        breaks ties by the lower image index."""
        values = torch.cat([self.low_values, scores], dim=1)
        images = torch.cat([self.low_images, image_indices.expand(self.channels, -1)], dim=1)
        order = torch.sort(values, dim=1, stable=True).indices[:, : self.k]
        self.low_values, self.low_images = values.gather(1, order), images.gather(1, order)

    def _merge(self, scores: torch.Tensor, flat: torch.Tensor, width: int, image_indices: torch.Tensor) -> None:
        """Merge a batch's scores (C, N) into the kept top-k.

        Only channels whose batch maximum beats their k-th kept score can change (an equal score
        loses: the kept image has the lower index). Among the candidates, a stable descending sort
        over [kept, batch] breaks ties by the lower image index, as kept images come first and the
        batch is in index order. Positions are found only for the images that enter.
        """
        n = scores.shape[1]
        if self.values.shape[1] < self.kept:
            rows = torch.arange(self.channels)
        else:
            rows = (scores.amax(dim=1) > self.values[:, -1]).nonzero().squeeze(1)
            if rows.numel() == 0:
                return
        kept = self.values.shape[1]
        values = torch.cat([self.values[rows], scores[rows]], dim=1)
        source = torch.cat([torch.full((len(rows), kept), -1), torch.arange(n).expand(len(rows), n)], dim=1)
        order = torch.sort(values, dim=1, descending=True, stable=True).indices[:, : self.kept]
        width_k = order.shape[1]
        from_batch = source.gather(1, order)
        kept_slot = order.clamp(max=max(kept - 1, 0))
        fresh = from_batch >= 0
        images = torch.where(fresh, image_indices[from_batch.clamp(min=0)],
                             self.images[rows].gather(1, kept_slot) if kept else from_batch)
        ys = self.ys[rows].gather(1, kept_slot) if kept else torch.zeros_like(order)
        xs = self.xs[rows].gather(1, kept_slot) if kept else torch.zeros_like(order)
        r, j = fresh.nonzero(as_tuple=True)
        where = flat[from_batch[r, j], rows[r]].argmax(dim=1)
        ys, xs = ys.clone(), xs.clone()
        ys[r, j] = where // width
        xs[r, j] = where % width
        new_values = values.gather(1, order)
        if width_k == kept:
            self.values[rows], self.images[rows], self.ys[rows], self.xs[rows] = new_values, images, ys, xs
        else:  # still filling up: every row is updated
            self.values, self.images, self.ys, self.xs = new_values, images, ys, xs

    def class_means(self) -> torch.Tensor:
        """(classes, C) mean rectified response per class (NaN for a class without images)."""
        return self.class_sums / self.class_counts.view(-1, 1)

    def ranked(self) -> np.ndarray:
        """Which channels fire often and strongly enough for their selectivity to be defined."""
        return ranked_channels(self.active.numpy(), self.peak.numpy(), self.images_seen)

    def selectivity(self) -> np.ndarray:
        """Class selectivity per channel, NaN where not :meth:`ranked` (see :mod:`convatlas.analyses.responses`)."""
        index = selectivity_index(self.class_means().numpy(), self.active.numpy(), self.images_seen)
        return np.where(self.ranked(), index, np.nan)

    def selectivity_interval(self) -> tuple[np.ndarray, np.ndarray]:
        """The 95% bootstrap interval of each channel's selectivity (NaN where not :meth:`ranked`)."""
        low, high = selectivity_interval(self.class_sums.numpy(), self.class_squares.numpy(), self.class_counts.numpy())
        ranked = self.ranked()
        return np.where(ranked, low, np.nan), np.where(ranked, high, np.nan)


def _layer_frames(name: str, acc: LayerAccumulator, class_names: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = acc.values.shape[0]
    k = min(acc.k, acc.values.shape[1])
    index = pd.DataFrame({
        "layer": name,
        "channel": np.repeat(np.arange(c), k).astype(np.int32),
        "rank": np.tile(np.arange(k), c).astype(np.int32),
        "value": acc.values[:, :k].reshape(-1).numpy().astype(np.float32),
        "image": acc.images[:, :k].reshape(-1).numpy().astype(np.int64),
        "y": acc.ys[:, :k].reshape(-1).numpy().astype(np.int32),
        "x": acc.xs[:, :k].reshape(-1).numpy().astype(np.int32),
    })
    means = acc.class_means().numpy()
    low, high = acc.selectivity_interval()
    stats = pd.DataFrame({
        "layer": name,
        "channel": np.arange(c, dtype=np.int32),
        "mean": (acc.total / max(1, acc.count)).numpy(),
        "fraction_positive": (acc.positive / max(1, acc.count)).numpy(),
        "max": acc.peak.numpy(),
        "active_fraction": acc.active.numpy() / max(1, acc.images_seen),
        "selectivity": np.where(np.isnan(low), np.nan, acc.selectivity()),  # no interval (too few images a class): undefined
        "selectivity_low": low,  # 95% bootstrap interval
        "selectivity_high": high,
        "active_images": acc.active.numpy().astype(np.int64),
        "magnitude_floor": np.full(c, magnitude_floor(acc.peak.numpy())),  # the layer's: see responses.ranked_channels
        "dead": (acc.peak <= 0).numpy(),
        "top_class": np.nan_to_num(means, nan=-np.inf).argmax(axis=0).astype(np.int32),
        "class_means": list(means.T.astype(np.float32)),  # one array per channel, indexed by class
        "histogram": list(acc.histogram.numpy()),
        "lowest_values": list(acc.low_values.numpy().astype(np.float32)),  # ascending
        "lowest_images": list(acc.low_images.numpy().astype(np.int64)),
    })
    return index, stats


@torch.no_grad()
def index_pass(
    model: nn.Module,
    layers: Sequence[Layer],
    inputs: ModelInputs,
    k: int = 9,
    ranking: str = "max",
    predicted_labels: bool = False,
    indices: torch.Tensor | None = None,
    kept: int = 0,
    levels: bool = True,
) -> IndexPass:
    """One batched pass over the images (or only those at ``indices``, ascending): each layer's
    accumulated top-k (the top ``kept`` when more, for facets) and statistics, and the predictions
    of the images seen, and each image's embedding (:mod:`convatlas.analyses.facets`; rows in image
    order, None when the model has no linear layer).
    With ``predicted_labels`` (images whose classes are not the model's), each image's class is the
    model's prediction. ``levels``: keep each channel's examples across its range (analyses.levels)."""
    if ranking not in RANKINGS:
        raise ValueError(f"unknown ranking {ranking!r}; use one of {', '.join(RANKINGS)}")
    model.eval()
    classes = len(inputs.classes)
    keys = image_keys(len(inputs)) if levels else None  # for each channel's examples across its range
    accumulators = {layer.name: LayerAccumulator(layer.channels, k, classes, ranking, keys, kept) for layer in layers}
    embedding_at = embedding_layer(model)
    embedded: list[np.ndarray] = []
    projection: list[torch.Tensor | None] = []

    def keep_embedding(_: str, features: torch.Tensor) -> None:
        if not projection:
            projection.append(random_projection(features[0].numel()))
        embedded.append(embed(features, projection[0]))

    order = torch.arange(len(inputs)) if indices is None else torch.as_tensor(indices, dtype=torch.long)
    seen, predicted, probability = [], [], []
    current: dict[str, torch.Tensor] = {}

    held: dict[str, torch.Tensor] = {}  # by prediction: each layer's output until the batch is classified

    def fold(name: str, output: torch.Tensor) -> None:
        if predicted_labels:
            held[name] = output.detach().clone()  # a later in-place op may change the output
        else:
            accumulators[name].update(output, current["indices"], current["labels"])

    with forward_hooks(model, list(accumulators), fold), input_hooks(model, [embedding_at] if embedding_at else [],
                                                                     keep_embedding):
        for batch in inputs.batches("index", order):
            batch_indices = batch.indices
            current.update(indices=batch_indices, labels=batch.labels)
            logits = model(batch.inputs)
            probs = logits.float().softmax(dim=1)
            top = probs.max(dim=1)
            seen.append(batch_indices)
            predicted.append(top.indices.cpu())
            probability.append(top.values.cpu())
            for name, output in held.items():
                accumulators[name].update(output, batch_indices, top.indices)
            held.clear()
    seen_indices = torch.cat(seen) if seen else torch.zeros(0, dtype=torch.long)
    predicted_classes = torch.cat(predicted) if predicted else torch.zeros(0, dtype=torch.long)
    predictions = pd.DataFrame({
        "image": seen_indices.numpy().astype(np.int64),
        "label": (predicted_classes if predicted_labels else inputs.labels[seen_indices]).numpy().astype(np.int32),
        "predicted": predicted_classes.numpy().astype(np.int32),
        "probability": (torch.cat(probability) if probability else torch.zeros(0)).numpy().astype(np.float32),
    })
    return IndexPass(accumulators, predictions, np.concatenate(embedded) if embedded else None)


def facet_tables(accumulators: dict[str, LayerAccumulator], embeddings: np.ndarray, labels: np.ndarray,
                 classes: Sequence[str]) -> pd.DataFrame:
    """Every layer's channel facets from its top images (``facets.parquet``; see
    :mod:`convatlas.analyses.facets`). ``embeddings`` and ``labels`` by probe image."""
    frames = [facet_table(name, acc.values.numpy(), acc.images.numpy(), acc.ys.numpy(), acc.xs.numpy(), embeddings,
                          labels, classes) for name, acc in accumulators.items()]
    return pd.concat(frames, ignore_index=True) if frames else facet_table("", np.zeros((0, 0)), *[np.zeros((0, 0))] * 3,
                                                                            np.zeros((0, 1)), np.zeros(0, np.int64), classes)


def level_table(accumulators: dict[str, LayerAccumulator]) -> pd.DataFrame:
    """Every channel's examples at the levels of its positive responses (``levels.parquet``; see
    :mod:`convatlas.analyses.levels`)."""
    return pd.concat([level_examples(name, acc.samples, acc.histogram.numpy()) for name, acc in accumulators.items()
                      if acc.samples is not None], ignore_index=True)


def index_tables(accumulators: dict[str, LayerAccumulator], classes: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The top-k index and the channel statistics of accumulated layers (``index.parquet``,
    ``channel_stats.parquet``)."""
    index_frames, stats_frames = zip(*(_layer_frames(n, a, classes) for n, a in accumulators.items()), strict=True)
    return pd.concat(index_frames, ignore_index=True), pd.concat(stats_frames, ignore_index=True)


def build_index(
    model: nn.Module,
    layers: Sequence[Layer],
    inputs: ModelInputs,
    k: int = 9,
    ranking: str = "max",
    predicted_labels: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One batched pass over the images: the top-k index, channel statistics and predictions.

    Returns ``(index, channel_stats, predictions)``; see docs/analyses.md for their columns. With
    ``predicted_labels`` (images whose classes are not the model's), each image's class is the
    model's prediction: per-class statistics are over predicted classes, named ``inputs.classes``.
    """
    accumulators, predictions, _ = index_pass(model, layers, inputs, k, ranking, predicted_labels)
    return (*index_tables(accumulators, inputs.classes), predictions)
