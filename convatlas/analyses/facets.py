"""Facets of a channel: its top-N examples grouped by what the network makes of the whole image,
and a polysemanticity indicator.

Each probe image gets an embedding in the index pass: what the model's last linear layer receives
(its penultimate features), projected to at most :data:`EMBEDDING_DIM` dimensions by a seeded
Gaussian random projection (which keeps distances up to a small factor, Johnson–Lindenstrauss).
A channel's top-N images (``analysis.facet_examples``, 50 by default) are grouped by k-means on
their embeddings into 2 or 3 facets when the grouping is clear (the best mean silhouette is at
least :data:`MIN_SILHOUETTE`), else into one; a channel with fewer than :data:`MIN_FACET_IMAGES`
positive top images is one facet, too few to split. The indicator is the number of different most common
classes among the facets holding at least :data:`MIN_KIND_SHARE` of the images (``kinds``), with
the class entropy of the top-N beside it.

What it shows and what it does not: several kinds mean the channel's strongest images fall into
clearly separate groups, as the rest of the network sees them, of different classes. That is a
hint of polysemanticity, not a proof: the groups may share a visual feature the channel actually
detects (a texture on two classes), and one kind may hide several features that the penultimate
layer does not tell apart. Class labels name the groups; they are not what the channel detects.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pages read this module's constants without importing torch
    import torch
    from torch import nn

EMBEDDING_DIM = 32
EMBEDDING_SEED = 0
MAX_FACETS = 3
MIN_SILHOUETTE = 0.25  # a clear grouping; below it the channel's top images form one facet
MIN_FACET_IMAGES = 10  # fewer positive top images: one facet, not split
SHOWN_PER_FACET = 3
MIN_KIND_SHARE = 0.2  # a facet counts as a kind of its own when it holds at least this share of the top images


def random_projection(features: int, dim: int = EMBEDDING_DIM, seed: int = EMBEDDING_SEED) -> torch.Tensor | None:
    """A seeded (features, dim) Gaussian projection scaled by 1/sqrt(dim); None when the features
    are few enough to keep as they are."""
    import torch

    if features <= dim:
        return None
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(features, dim, generator=generator) / math.sqrt(dim)


def embed(features: torch.Tensor, projection: torch.Tensor | None) -> np.ndarray:
    """(N, features) penultimate features as (N, <= EMBEDDING_DIM) float32 embeddings."""
    flat = features.detach().float().flatten(1).cpu()
    return (flat if projection is None else flat @ projection).numpy().astype(np.float32)


def embedding_layer(model: nn.Module) -> str | None:
    """The module whose input is an image's embedding: the model's last linear layer (None without one)."""
    from ..nn.modules import last_linear

    try:
        return last_linear(model)[0]
    except ValueError:
        return None


def channel_facets(embeddings: np.ndarray, max_facets: int = MAX_FACETS, min_silhouette: float = MIN_SILHOUETTE,
                   seed: int = EMBEDDING_SEED) -> tuple[np.ndarray, float]:
    """The facet of each of a channel's top images (n, d), numbered by size (0 the largest), and the
    grouping's mean silhouette (NaN for a single facet)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(embeddings)
    best, best_score = np.zeros(n, dtype=np.int64), float("nan")
    if n < MIN_FACET_IMAGES or np.allclose(embeddings, embeddings[0]):
        return best, best_score
    for k in range(2, min(max_facets, n - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(embeddings.astype(np.float64))
        if len(np.unique(labels)) < 2:
            continue
        score = float(silhouette_score(embeddings, labels))
        if score >= min_silhouette and not score <= best_score:
            best, best_score = labels, score
    sizes = np.bincount(best)
    by_size = np.argsort(-sizes, kind="stable")
    return np.argsort(by_size)[best], best_score


def class_entropy(labels: np.ndarray, classes: int) -> float:
    """Entropy (bits) of the class distribution of ``labels``: 0 when all share one class."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0


def facet_table(layer: str, values: np.ndarray, images: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                embeddings: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """One row per (channel, facet) of a layer: ``values``, ``images``, ``ys``, ``xs`` (C, N) each
    channel's top-N; ``embeddings`` (images, d) and ``labels`` (images,) by probe image. Columns:
    layer, channel, facet, count, share, top_class, top_class_share, top_class_ties (classes as
    common as the top one, itself included: above 1, no class is the most common), examples / example_values /
    example_ys / example_xs (the facet's strongest images), and per channel: images (its positive
    top images), facets, kinds (different top classes among the facets of at least
    :data:`MIN_KIND_SHARE` of them), entropy (bits), silhouette."""
    rows = []
    for channel in range(len(values)):
        positive = values[channel] > 0
        chosen = np.asarray(images[channel])[positive]
        if not len(chosen):  # never fires among its top images: nothing to group
            continue
        assignment, silhouette = channel_facets(embeddings[chosen])
        chosen_labels = labels[chosen]
        tops, major = [], []
        for facet in range(int(assignment.max()) + 1):
            members = np.nonzero(assignment == facet)[0]  # in rank order: strongest first
            counts = np.bincount(chosen_labels[members], minlength=len(classes))
            top = int(counts.argmax())
            tops.append(top)
            if len(members) >= MIN_KIND_SHARE * len(chosen):
                major.append(top)
            shown = members[:SHOWN_PER_FACET]
            rows.append({"layer": layer, "channel": channel, "facet": facet, "count": len(members),
                         "share": len(members) / len(chosen), "top_class": top,
                         "top_class_share": counts[top] / len(members),
                         "top_class_ties": int((counts == counts[top]).sum()),  # classes as common as it
                         "examples": chosen[shown].astype(np.int64),
                         "example_values": values[channel][positive][shown].astype(np.float32),
                         "example_ys": ys[channel][positive][shown].astype(np.int32),
                         "example_xs": xs[channel][positive][shown].astype(np.int32)})
        for row in rows[-len(tops):]:
            row.update(images=len(chosen), facets=len(tops), kinds=max(1, len(set(major))),
                       entropy=class_entropy(chosen_labels, len(classes)), silhouette=silhouette)
    return pd.DataFrame(rows, columns=["layer", "channel", "facet", "count", "share", "top_class", "top_class_share", "top_class_ties",
                                       "examples", "example_values", "example_ys", "example_xs", "images", "facets",
                                       "kinds", "entropy", "silhouette"])
