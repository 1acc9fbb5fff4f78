"""Sanity checks of projection pictures (Adebayo et al. 2018, "Sanity checks for saliency maps"):
does a method's picture of a unit depend on the image, and on the learned weights?

- **Image dependence** of a channel: the median Pearson correlation between its top-k tiles as the
  page shows them (display tiles; correlation ignores each tile's own contrast scaling). Near 1:
  the k pictures are one picture, whatever the images (a deconvnet without max-pool switches
  rectifies the signal by its own sign and never sees the image: Mahendran & Vedaldi 2016).
- **Model dependence**: the Spearman rank correlation of the signed projections (over the unit's
  receptive field) between the trained model and the same model with every layer the
  projection passes through, the analysed layer and all below it, re-initialised as the model's own
  code initialises them (the end of Adebayo's cascading randomisation for this layer); same images,
  same units, each seeded with 1. Near 1: the picture is the same without the learned weights
  (guided backpropagation largely reconstructs the image: Adebayo et al., Nie et al. 2018).

This module holds the scores and verdicts (no torch: page jobs read them);
:mod:`convatlas.analyses.randomisation` computes them with the model.

A layer's method passes when its median tile correlation is below :data:`IMAGE_THRESHOLD` and its
median rank correlation with the randomised model below :data:`MODEL_THRESHOLD` (the values issue
24 suggests; between them lie the Zeiler & Fergus nets' deconvnet and the identical pictures).
"""
from __future__ import annotations

import numpy as np

IMAGE_THRESHOLD = 0.9  # median tile correlation below it: the pictures differ with the image
MODEL_THRESHOLD = 0.5  # rank correlation with the randomised model below it: they depend on the weights
SAMPLED_CHANNELS = 8  # channels per layer whose units are projected through the randomised model too


HEATMAP_METHODS = ("relevance", "gradient_input")  # pictures stored as a heatmap, shown as the patch masked by it
BRANCHES = ("trunk", "shortcut")  # kinds ``<method>_<branch>``: a projection through one path of a shortcut sum


def split_kind(kind: str) -> tuple[str, str]:
    """A kind of picture as (method, branch): ``deconvnet_trunk`` -> (deconvnet, trunk), ``relevance`` ->
    (relevance, both)."""
    for branch in BRANCHES:
        if kind.endswith(f"_{branch}"):
            return kind[: -len(branch) - 1], branch
    return kind, "both"


def is_branch(kind: str) -> bool:
    """Whether ``kind`` is a trunk or shortcut grid (never a lead picture)."""
    return split_kind(kind)[1] != "both"


def tile_correlation(tiles: np.ndarray) -> float:
    """The median Pearson correlation over pairs of ``tiles`` (k, ...); tiles without contrast (a
    blank, e.g. a rank the channel has no example for) are left out; NaN with fewer than two."""
    flat = tiles.reshape(len(tiles), -1).astype(np.float64)
    flat = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(flat, axis=1)
    kept = flat[norms > 1e-9] / norms[norms > 1e-9, None]
    if len(kept) < 2:
        return float("nan")
    correlations = kept @ kept.T
    return float(np.median(correlations[np.triu_indices(len(kept), 1)]))


def tile_correlations(grids: np.ndarray) -> np.ndarray:
    """:func:`tile_correlation` of every channel's tiles: ``grids`` (n, k, ...) -> (n,)."""
    return np.asarray([tile_correlation(tiles) for tiles in grids], dtype=np.float64)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """The ranks of ``values`` (1 to n), tied values sharing their average rank (as Spearman's
    correlation ranks them)."""
    values = np.ravel(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two arrays of values (average ranks for ties); NaN when either
    is constant."""
    ranks_a, ranks_b = average_ranks(a), average_ranks(b)
    if ranks_a.std() == 0 or ranks_b.std() == 0:
        return float("nan")
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def passes(tile_corr: float, model_corr: float) -> bool:
    """Whether a layer's method passes both checks, judged on the scores as pages show them (two
    decimals: a shown 0.50 fails "below 0.5"); a NaN score fails: nothing to go by."""
    return bool(round(tile_corr, 2) < IMAGE_THRESHOLD and round(model_corr, 2) < MODEL_THRESHOLD)


def layer_verdicts(checks: dict[str, np.ndarray], live: np.ndarray | None = None) -> list[dict]:
    """Per picture kind of a layer: the median tile correlation over its (live) channels, the median
    rank correlation with the randomised model over its sampled channels, how many channels each
    median is over, and whether it passes."""
    verdicts = []
    for key in checks:
        if not key.startswith("check_tiles_"):
            continue
        kind = key[len("check_tiles_"):]
        tiles = np.asarray(checks[key], dtype=np.float64)
        randomised = np.asarray(checks.get(f"check_random_{kind}", np.full(len(tiles), np.nan)), dtype=np.float64)
        keep = np.ones(len(tiles), bool) if live is None else np.asarray(live, bool)
        tiles, randomised = tiles[keep & ~np.isnan(tiles)], randomised[keep & ~np.isnan(randomised)]
        tile_median = float(np.median(tiles)) if len(tiles) else float("nan")
        random_median = float(np.median(randomised)) if len(randomised) else float("nan")
        verdicts.append({"kind": kind, "tile_correlation": tile_median, "tile_channels": len(tiles),
                         "random_correlation": random_median, "random_channels": len(randomised),
                         "passes": passes(tile_median, random_median)})
    return verdicts


def margin(verdict: dict) -> float:
    """How far a kind of picture stays inside both thresholds: the larger of its two scores as a share
    of its threshold (smaller is better; below 1 passes, as shown to two decimals)."""
    return max(round(verdict["tile_correlation"], 2) / IMAGE_THRESHOLD,
               round(verdict["random_correlation"], 2) / MODEL_THRESHOLD)


def lead_picture(verdicts: list[dict], forced: str = "auto") -> str:
    """What a layer's channel pages lead with: ``forced`` unless ``auto``; else the deconvnet where
    it passes both checks (Zeiler & Fergus's own picture), otherwise the kind that passes by the
    widest :func:`margin`, and the image patches where none does. Trunk and shortcut grids never lead."""
    if forced != "auto":
        return forced
    passing = [v for v in verdicts if v["passes"] and not is_branch(v["kind"])]
    if any(v["kind"] == "deconvnet" for v in passing):
        return "deconvnet"
    return min(passing, key=margin)["kind"] if passing else "patches"


def layer_lead(checks: dict[str, np.ndarray], first_layer: bool, forced: str = "auto",
               live: np.ndarray | None = None) -> tuple[list[dict], str | None]:
    """A layer's verdicts and what its channel pages lead with, as every page decides it: "filter" at
    the first conv's layer (a unit's projection is its filter scaled by its activation), else the
    checks' choice (:func:`lead_picture`) where they were stored, None where they were not."""
    if first_layer:
        return [], "filter"
    if not checks:
        return [], None
    verdicts = layer_verdicts(checks, live)
    return verdicts, lead_picture(verdicts, forced)
