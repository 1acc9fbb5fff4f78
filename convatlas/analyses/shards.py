"""The index in shards: each shard job indexes a contiguous range of the probe images and saves its
accumulators' state; a gather merges the states exactly.

Why the merge is exact: an image in a channel's overall top-k has fewer than k images ranked above
it anywhere, so fewer than k within its own shard: it is in its shard's top-k. Concatenating the
shards' kept lists in shard order (lower image indices first) and sorting stably keeps the rule of
the single pass, ties to the lower image index. Counts, maxima and histograms add or take the
maximum exactly; float sums are float64 and agree with the single pass up to summation order.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from .index import IndexPass, LayerAccumulator
from .levels import LevelSamples

TENSORS = ("values", "images", "ys", "xs", "total", "positive", "peak", "class_sums", "class_squares", "class_counts", "active",
           "histogram", "low_values", "low_images")
COUNTS = ("count", "images_seen")
PREDICTIONS = ("image", "label", "predicted", "probability")


def shard_indices(images: int, shard: int, shards: int) -> torch.Tensor:
    """The image indices of shard ``shard`` (0-based) of ``shards``: contiguous, sizes differing by one at most."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} does not exist: there are {shards} (0 to {shards - 1})")
    return torch.arange(shard * images // shards, (shard + 1) * images // shards)


def shard_state(accumulators: dict[str, LayerAccumulator], predictions: pd.DataFrame, shard: int, shards: int,
                images: int, embeddings: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Everything a gather needs from one shard, as plain arrays (an .npz without pickles)."""
    first = next(iter(accumulators.values()))
    state: dict[str, Any] = {"layers": np.asarray(list(accumulators)), "shard": shard, "shards": shards, "probe_images": images,
                             "k": first.k, "kept": first.kept, "classes": first.classes, "ranking": np.asarray(first.ranking)}
    for i, acc in enumerate(accumulators.values()):
        state[f"channels::{i}"] = acc.channels
        for name in TENSORS:
            state[f"{name}::{i}"] = getattr(acc, name).numpy()
        if acc.samples is not None:
            for name, array in acc.samples.state().items():
                state[f"samples_{name}::{i}"] = array
        for name in COUNTS:
            state[f"{name}::{i}"] = getattr(acc, name)
    for column in PREDICTIONS:
        state[f"predictions::{column}"] = predictions[column].to_numpy()
    if embeddings is not None:
        state["embeddings"] = embeddings
    return state


def _accumulators(state: dict[str, np.ndarray]) -> dict[str, LayerAccumulator]:
    accumulators = {}
    for i, name in enumerate(state["layers"].tolist()):
        acc = LayerAccumulator(int(state[f"channels::{i}"]), int(state["k"]), int(state["classes"]), str(state["ranking"]),
                               kept=int(state["kept"]) if "kept" in state else 0)
        for field in TENSORS:
            setattr(acc, field, torch.from_numpy(np.array(state[f"{field}::{i}"])))
        if f"samples_keys::{i}" in state:
            acc.samples = LevelSamples.from_state(acc.channels, {name: state[f"samples_{name}::{i}"]
                                                                 for name in ("keys", "images", "values", "ys", "xs")})
        for field in COUNTS:
            setattr(acc, field, int(state[f"{field}::{i}"]))
        accumulators[name] = acc
    return accumulators


def _keep(values: list[torch.Tensor], companions: list[list[torch.Tensor]], k: int, descending: bool):
    """The first ``k`` per row of the concatenated ``values`` under a stable sort, with the
    companion arrays reordered alike."""
    joined = torch.cat(values, dim=1)
    order = torch.sort(joined, dim=1, descending=descending, stable=True).indices[:, :k]
    return joined.gather(1, order), [torch.cat(parts, dim=1).gather(1, order) for parts in companions]


def merge_accumulators(parts: Sequence[LayerAccumulator]) -> LayerAccumulator:
    """One layer's accumulators of consecutive shards (in image order) merged into the single pass's."""
    first = parts[0]
    merged = LayerAccumulator(first.channels, first.k, first.classes, first.ranking, kept=first.kept)
    merged.values, (merged.images, merged.ys, merged.xs) = _keep(
        [p.values for p in parts], [[p.images for p in parts], [p.ys for p in parts], [p.xs for p in parts]], first.kept, True)
    merged.low_values, (merged.low_images,) = _keep([p.low_values for p in parts], [[p.low_images for p in parts]], first.k, False)
    for field in ("total", "positive", "class_sums", "class_squares", "class_counts", "active", "histogram"):
        setattr(merged, field, sum((getattr(p, field) for p in parts[1:]), getattr(first, field).clone()))
    merged.peak = torch.stack([p.peak for p in parts]).amax(dim=0)
    if all(p.samples is not None for p in parts):
        merged.samples = LevelSamples.merged([p.samples for p in parts])
    merged.count = sum(p.count for p in parts)
    merged.images_seen = sum(p.images_seen for p in parts)
    return merged


def merge_shards(states: Sequence[dict[str, np.ndarray]], names: Sequence[str] | None = None,
                 probe_images: int | None = None) -> IndexPass:
    """The accumulators and predictions of the whole probe set from every shard's state (any
    order); a clear error, naming the shard (``names``: e.g. its file), when one is missing, repeated
    or from another split, or when the shards index another number of images than ``probe_images``."""
    names = list(names) if names is not None else [f"shard {i}" for i in range(len(states))]
    by_shard = sorted(zip(states, names, strict=True), key=lambda pair: int(pair[0]["shard"]))
    shards, images = int(by_shard[0][0]["shards"]), int(by_shard[0][0]["probe_images"])
    if probe_images is not None and images != probe_images:
        raise ValueError(f"{by_shard[0][1]}: the shards index {images} images, the probe set has {probe_images}: "
                         "re-run the shard jobs (did datasets.*.probe_limit change?)")
    for position, (state, name) in enumerate(by_shard):
        if int(state["shards"]) != shards or int(state["probe_images"]) != images:
            raise ValueError(f"{name}: a shard of {int(state['shards'])} over {int(state['probe_images'])} images, "
                             f"but the first is of {shards} over {images}: re-run its shard job")
        if int(state["shard"]) != position:
            raise ValueError(f"{name}: shard {int(state['shard'])} where shard {position} was expected "
                             f"({len(states)} shard files for {shards} shards)")
    if len(by_shard) != shards:
        raise ValueError(f"{len(states)} shard files for {shards} shards")
    parts = [_accumulators(state) for state, _ in by_shard]
    layers = list(parts[0])
    for part, (_, name) in zip(parts, by_shard, strict=True):
        if list(part) != layers:
            raise ValueError(f"{name}: layers {list(part)} differ from the first shard's {layers}")
    accumulators = {layer: merge_accumulators([part[layer] for part in parts]) for layer in layers}
    predictions = pd.DataFrame({column: np.concatenate([state[f"predictions::{column}"] for state, _ in by_shard])
                                for column in PREDICTIONS})
    embeddings = (np.concatenate([state["embeddings"] for state, _ in by_shard])
                  if all("embeddings" in state for state, _ in by_shard) else None)
    if not np.array_equal(predictions.image.to_numpy(), np.arange(images)):
        raise ValueError(f"the shards do not cover the {images} probe images once each, in order")
    return IndexPass(accumulators, predictions, embeddings)
