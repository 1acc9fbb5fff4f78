"""The atlas's replication report: each Zeiler & Fergus claim the atlas measures, tested on one
model with its n, a 95% interval and a verdict (no torch: it reads the analyses' tables).

Every claim is put as a quantity that is positive when the claim holds, with a bootstrap interval
over the independent units (images, or channels); the verdict is ``reproduced`` when the interval
lies above 0, ``not reproduced`` when it lies below, ``inconclusive`` when it holds 0, and ``not
measured`` when the atlas did not run what the claim needs.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..results.artifacts import OcclusionStudy
from .statistics import bootstrap_interval, direction_verdict, mean_interval, paired_difference

VERDICTS = ("reproduced", "not reproduced", "inconclusive", "not measured")
MIN_UNITS = 5  # fewer independent units (images) give no interval and no verdict but inconclusive


def signed(value: float, digits: int = 2) -> str:
    """A signed number with a true minus sign ("0.00", unsigned, where it rounds to 0)."""
    text = f"{value:+.{digits}f}"
    if float(text) == 0:
        return text[1:]
    return text.replace("-", "−")


def p_text(p: float) -> str:
    """A p-value in fixed notation."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


@dataclass
class Finding:
    """One claim of Zeiler & Fergus, as measured on one model."""

    key: str  # table1, fig5_layers, fig5_output, fig7, fig4, table3
    reference: str  # where the paper makes it, e.g. "Table 1"
    claim: str  # the claim, in the paper's sense
    verdict: str = "not measured"
    measured: str = ""  # what this model shows, with its numbers
    test: str = ""  # the quantity, its unit (images, channels) and n
    estimate: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    n: int = 0
    n_of: str = "images"  # what n counts
    unit: str = ""  # how the estimate reads, e.g. "probability", "points of error"
    differs: str = ""  # how this measurement differs from the paper's
    rows: list[dict] = field(default_factory=list)  # the detail table
    columns: list[str] = field(default_factory=list)
    evidence: str | None = None  # the page it comes from (a layout key, filled in by the page job)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def result(self) -> str:
        """The estimate and its 95% interval as text (points for a change of error, else 2 decimals)."""
        if self.verdict == "not measured" or not np.isfinite(self.estimate):
            return "–"
        scale, digits, suffix = (100, 2, " points") if self.unit == "points of error" else (1, 2, "")
        if not np.isfinite(self.low) and not np.isfinite(self.high):
            return f"{signed(self.estimate * scale, digits)}{suffix} (no interval: n too small)"
        low = signed(self.low * scale, digits) if np.isfinite(self.low) else "?"
        high = signed(self.high * scale, digits) if np.isfinite(self.high) else "?"
        return f"{signed(self.estimate * scale, digits)}{suffix} (95% {low} to {high})"


CLAIMS = {
    "table1": ("Table 1", "Occluding the same part in different images changes lower-layer features more consistently than "
               "occluding random places; at the top layer the difference shrinks towards chance."),
    "fig5_layers": ("Fig. 5", "Small translations, rotations and scalings change the first layer's features a lot and the top "
                    "layer's features less."),
    "fig5_output": ("Fig. 5", "The output is stable under translation and scaling, but not under rotation."),
    "fig7": ("Fig. 7", "Covering the object makes the probability of the true class drop; covering the background does not."),
    "fig4": ("Fig. 4", "Lower layers settle within a few epochs; upper layers only later."),
    "table3": ("Table 3", "The architecture matters: removing layers (and so depth) or narrowing them raises the error, "
               "widening middle layers lowers it."),
}


def verdict_counts(verdicts) -> dict[str, int]:
    """How many of ``verdicts`` say each verdict, in the order of :data:`VERDICTS` (absent ones left out)."""
    verdicts = list(verdicts)
    return {verdict: verdicts.count(verdict) for verdict in VERDICTS if verdict in verdicts}


def too_few(finding: Finding) -> Finding:
    """``finding`` with no interval and an inconclusive verdict when it rests on fewer than
    :data:`MIN_UNITS` images (a bootstrap over 2 or 3 images says nothing about their spread)."""
    if finding.n_of == "images" and finding.n < MIN_UNITS and finding.verdict != "not measured":
        finding.low = finding.high = float("nan")
        finding.verdict = "inconclusive"
        finding.measured += (f" Only {finding.n} image{'s' if finding.n != 1 else ''}: too few for an interval or a verdict "
                             f"(at least {MIN_UNITS}).")
    return finding


def _finding(key: str, **values) -> Finding:
    reference, claim = CLAIMS[key]
    return Finding(key, reference, claim, **values)


def not_measured(key: str, why: str) -> Finding:
    return _finding(key, measured=why)


# Table 1 ------------------------------------------------------------------------------------------


def _pair_matrices(pairs: pd.DataFrame, layer: str, images: int) -> tuple[np.ndarray, np.ndarray]:
    """(parts, random): each pair's distance averaged over the named parts, and over the random draws."""
    out = []
    for chosen in (pairs[(pairs.layer == layer) & (pairs.part != "random")], pairs[(pairs.layer == layer) & (pairs.part == "random")]):
        matrix = np.full((images, images), np.nan)
        mean = chosen.groupby(["first", "second"])["distance"].mean()
        for (i, j), d in mean.items():
            matrix[i, j] = matrix[j, i] = d
        out.append(matrix)
    return out[0], out[1]


def _relative_gap(parts: np.ndarray, random: np.ndarray, idx: np.ndarray) -> float:
    """1 - (mean part distance / mean random distance) over the pairs of distinct images among ``idx``."""
    a, b = np.triu_indices(len(idx), 1)
    i, j = idx[a], idx[b]
    keep = i != j
    if not keep.any():
        return float("nan")
    p, r = parts[i[keep], j[keep]].mean(), random[i[keep], j[keep]].mean()
    return float(1 - p / r) if r > 0 else float("nan")


def correspondence_finding(pairs: pd.DataFrame | None, layers: Sequence[str] | None = None, seed: int = 0) -> Finding:
    """Table 1 from :func:`convatlas.analyses.correspondence.correspondence_pairs`: the relative gap
    g = 1 - Delta(parts) / Delta(random) per layer (0: parts no more consistent than chance). The
    claim holds when g at the first analysed layer is above 0 and the top layer keeps less than half
    of it (g_first - 2 g_top > 0: "towards chance"), each with its bootstrap interval over images
    (pairs of distinct resampled images)."""
    if pairs is None or pairs.empty:
        return not_measured("table1", "The correspondence analysis is not in this configuration (add a correspondence: section "
                            "naming parts of one class).")
    if not (pairs.part == "random").any():
        return not_measured("table1", "The correspondence analysis ran without its random control (correspondence.random_draws: 0).")
    layers = list(layers or dict.fromkeys(pairs.layer))
    images = int(max(pairs["first"].max(), pairs["second"].max())) + 1
    matrices = {layer: _pair_matrices(pairs, layer, images) for layer in layers}
    rows = []
    everyone = np.arange(images)
    for number, layer in enumerate(layers):
        parts, random = matrices[layer]
        low, high = (bootstrap_interval(lambda idx, parts=parts, random=random: _relative_gap(parts, random, idx), images,
                                        seed=seed + number) if images >= MIN_UNITS else (float("nan"), float("nan")))
        rows.append({"layer": layer, "parts": float(np.nanmean(parts[np.triu_indices(images, 1)])),
                     "random": float(np.nanmean(random[np.triu_indices(images, 1)])),
                     "gap": _relative_gap(parts, random, everyone), "gap_low": low, "gap_high": high})
    first, top = layers[0], layers[-1]

    def difference(idx):  # > 0: the top layer keeps less than half the first layer's gap
        return _relative_gap(*matrices[first], idx) - 2 * _relative_gap(*matrices[top], idx)

    estimate = difference(everyone)
    low, high = bootstrap_interval(difference, images, seed=seed)
    pairs_count = images * (images - 1) // 2
    first_row, top_row = rows[0], rows[-1]
    if first_row["gap_low"] <= 0:  # lower layers must first treat parts more consistently than chance
        verdict = "not reproduced" if first_row["gap_high"] < 0 else "inconclusive"
    else:
        verdict = direction_verdict(low, high)
    def gap_text(row: dict) -> str:
        interval = f" (95% {row['gap_low']:.0%} to {row['gap_high']:.0%})" if np.isfinite(row["gap_low"]) else ""
        return f"{row['gap']:.0%}{interval}"

    measured = (f"At {first}, occluding the same part changes features {gap_text(first_row)} more consistently than "
                f"random boxes (relative gap); at {top}, {gap_text(top_row)}.")
    if verdict == "not reproduced" and first_row["gap_low"] > 0:
        measured += (" Parts stay well below chance at the top layer, unlike Zeiler & Fergus's layer 7: the top layer "
                     "still treats the same part alike across images.")
    return _finding("table1", verdict=verdict, measured=measured,
                    unit="relative gap", test=f"Relative gap at {first} minus twice that at {top} (> 0: the top keeps less than half), bootstrap over "
                         f"{images} images ({pairs_count} pair{'s' if pairs_count != 1 else ''})",
                    estimate=float(estimate), low=low, high=high, n=images, rows=rows,
                    columns=["layer", "parts", "random", "gap"],
                    differs=f"Zeiler & Fergus used 5 dog images and 3 parts at layers 5 and 7 of an ImageNet model; here "
                            f"{images} images of one class, {pairs[pairs.part != 'random'].part.nunique()} parts and the "
                            f"analysed layers {first} to {top}.")


# Fig. 5 -------------------------------------------------------------------------------------------

IDENTITY = {"translation": 0.0, "rotation": 0.0, "scale": 1.0}


def _offset(kind: str, value: float) -> float:
    """How far a step is from the identity (px, degrees, or |log scale|)."""
    if kind == "rotation":
        angle = value % 360
        return min(angle, 360 - angle)
    if kind == "scale":
        return abs(float(np.log(value))) if value > 0 else float("inf")
    return abs(value)


def smallest_steps(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of each transformation's smallest non-identity steps (both directions where there are two)."""
    chosen = []
    for kind, rows in table.groupby("transform", sort=False):
        offsets = rows["value"].map(lambda v, kind=kind: _offset(kind, v))
        moving = offsets[offsets > 1e-9]
        if len(moving):
            chosen.append(rows[np.isclose(offsets, moving.min())])
    return pd.concat(chosen) if chosen else table.iloc[:0]


def invariance_layer_finding(table: pd.DataFrame | None, first: str = "", top: str = "", seed: int = 0) -> Finding:
    """Fig. 5, features: per image, the mean over each transformation's smallest steps of the first
    layer's relative feature distance minus the top layer's, bootstrapped over images."""
    if table is None or table.empty:
        return not_measured("fig5_layers", "The invariance analysis is not in this configuration (add an invariance: section).")
    small = smallest_steps(table)
    per_image = (small.first_distance - small.top_distance).groupby(small.image).mean()
    estimate, low, high = mean_interval(per_image.to_numpy(), seed=seed)
    rows = []
    for kind, rows_of in small.groupby("transform", sort=False):
        steps = ", ".join(f"{v:g}" for v in sorted(set(rows_of.value)))
        rows.append({"transform": kind, "steps": steps, "first": float(rows_of.first_distance.mean()),
                     "top": float(rows_of.top_distance.mean())})
    return _finding("fig5_layers", verdict=direction_verdict(low, high),
                    measured=f"At the smallest steps, {first} moves by {small.first_distance.mean():.2f} of its norm and {top} "
                             f"by {small.top_distance.mean():.2f} (mean over transformations and images).",
                    unit="share of the feature norm", test=f"First-layer minus top-layer relative distance, bootstrap over {len(per_image)} images",
                    estimate=estimate, low=low, high=high, n=len(per_image), rows=rows, columns=["transform", "steps", "first", "top"],
                    differs="Zeiler & Fergus plotted layer 1 and layer 7 of an ImageNet model on 5 images; here the first and "
                            f"the last analysed layers ({first}, {top}).")


def invariance_output_finding(table: pd.DataFrame | None, seed: int = 0) -> Finding:
    """Fig. 5, output: per image, the mean true-class probability over the non-identity steps of
    translation and of scaling, each minus that over rotation; the claim holds when both are positive
    (its estimate and interval: the smaller of the two)."""
    if table is None or table.empty:
        return not_measured("fig5_output", "The invariance analysis is not in this configuration (add an invariance: section).")
    moved = table[[_offset(k, v) > 1e-9 for k, v in zip(table["transform"], table["value"], strict=True)]]
    kinds = set(moved["transform"])
    if not {"rotation"} <= kinds or not kinds & {"translation", "scale"}:
        return not_measured("fig5_output", "It needs rotation and translation or scaling steps besides the identity.")
    means = moved.groupby(["image", "transform"])["probability"].mean().unstack()
    identity = table[[_offset(k, v) <= 1e-9 for k, v in zip(table["transform"], table["value"], strict=True)]]
    rows, results = [], {}
    for kind in ("translation", "scale", "rotation"):
        if kind in means:
            mean, low, high = mean_interval(means[kind].to_numpy(), seed=seed)
            values = sorted(set(moved[moved["transform"] == kind].value))
            rows.append({"transform": kind, "steps": f"{values[0]:g} to {values[-1]:g}", "probability": mean,
                         "low": low, "high": high})
    for kind in ("translation", "scale"):
        if kind in means:
            results[kind] = mean_interval((means[kind] - means["rotation"]).to_numpy(), seed=seed)
    weakest = min(results, key=lambda k: results[k][1])
    estimate, low, high = results[weakest]
    verdicts = {k: direction_verdict(r[1], r[2]) for k, r in results.items()}
    verdict = ("reproduced" if all(v == "reproduced" for v in verdicts.values())
               else "not reproduced" if any(v == "not reproduced" for v in verdicts.values()) else "inconclusive")
    unchanged = float(identity.probability.mean()) if len(identity) else float("nan")
    parts = ", ".join(f"{r['transform']} {r['probability']:.2f}" for r in rows)
    return _finding("fig5_output", verdict=verdict,
                    measured=f"Mean true-class probability over the transformed copies: {parts} (untransformed {unchanged:.2f}).",
                    unit="probability", test=f"Probability under {weakest} minus under rotation (the smaller margin), bootstrap over {len(means)} images",
                    estimate=estimate, low=low, high=high, n=len(means), rows=rows, columns=["transform", "steps", "probability"],
                    differs="Stability is relative here: the ranges are the configured steps, and a model trained without "
                            "augmentation on centred images may lose much probability under every transformation.")


# Fig. 7 -------------------------------------------------------------------------------------------


def object_mask(image: np.ndarray, border: int = 2, tolerance: float = 0.1, uniform: float = 0.6) -> np.ndarray | None:
    """The object's pixels of a uint8 (C, H, W) image on a uniform background: those that differ from
    the median colour of the outer ``border`` pixels by more than ``tolerance`` of the range. None
    when the background is not uniform (fewer than ``uniform`` of the border pixels within
    ``tolerance`` of their median; an object may touch the border), where background and object
    cannot be told apart without a mask."""
    pixels = image.astype(np.float64) / 255.0
    channels, height, width = pixels.shape
    ring = np.ones((height, width), dtype=bool)
    ring[border:height - border, border:width - border] = False
    values = pixels[:, ring]  # (C, border pixels)
    background = np.median(values, axis=1)
    near = (np.abs(values - background[:, None]) <= tolerance).all(axis=0)
    if near.mean() < uniform:
        return None
    return (np.abs(pixels - background[:, None, None]) > tolerance).any(axis=0)


def window_coverage(mask: np.ndarray, window: int, stride: int) -> np.ndarray:
    """For each grey square of the occlusion maps (centred on the stride grid, clipped at the borders):
    the share of its pixels on the object."""
    height, width = mask.shape
    integral = np.pad(mask.astype(np.float64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    ys = np.clip(np.arange(0, height, stride) - window // 2, 0, height)
    xs = np.clip(np.arange(0, width, stride) - window // 2, 0, width)
    ye = np.clip(np.arange(0, height, stride) - window // 2 + window, 0, height)
    xe = np.clip(np.arange(0, width, stride) - window // 2 + window, 0, width)
    total = integral[ye][:, xe] - integral[ys][:, xe] - integral[ye][:, xs] + integral[ys][:, xs]
    area = (ye - ys)[:, None] * (xe - xs)[None, :]
    return total / np.maximum(area, 1)


def occlusion_finding(study: OcclusionStudy | None, pictures: np.ndarray | None, seed: int = 0) -> Finding:
    """Fig. 7: per image, the mean drop of the true-class probability over squares at least half on
    the object minus that over squares wholly on the background, with the largest window,
    bootstrapped over images. The object is found only on uniform backgrounds (:func:`object_mask`)."""
    if study is None:
        return not_measured("fig7", "The occlusion analysis is not in this configuration (add an occlusion: section).")
    window, stride = max(study.windows), study.stride
    differences, object_drops, background_drops, skipped = [], [], [], 0
    for m in range(len(study.images)):
        mask = object_mask(pictures[m])
        if mask is None:
            skipped += 1
            continue
        coverage = window_coverage(mask, window, stride)
        drop = float(study.probability[m]) - study.map("probability", window, m)
        on, off = coverage >= 0.5, coverage == 0
        if not on.any() or not off.any():
            skipped += 1
            continue
        object_drops.append(float(drop[on].mean()))
        background_drops.append(float(drop[off].mean()))
        differences.append(object_drops[-1] - background_drops[-1])
    if len(differences) < 3:
        return not_measured("fig7", f"Only {len(differences)} of {len(study.images)} occluded images have a uniform "
                            "background, where object and background can be told apart without masks (at least 3 needed).")
    estimate, low, high = mean_interval(differences, seed=seed)
    larger = sum(d > 0 for d in differences)
    measured = (f"With a {window} px square, covering the object lowers the true-class probability by "
                f"{np.mean(object_drops):.2f} on average, covering the background by {np.mean(background_drops):.2f}; "
                f"the object costs more in {larger} of {len(differences)} images.")
    if skipped:
        measured += f" {skipped} image{'s' if skipped > 1 else ''} without a uniform background or a clear object left out."
    return _finding("fig7", verdict=direction_verdict(low, high), measured=measured,
                    unit="probability", test=f"Object minus background probability drop, bootstrap over {len(differences)} images",
                    estimate=estimate, low=low, high=high, n=len(differences),
                    differs="Zeiler & Fergus showed three images; the object here is the pixels that differ from a uniform "
                            "background (no masks), a square counts as on the object when at least half of it is.")


# Fig. 4 -------------------------------------------------------------------------------------------


def evolution_finding(table: pd.DataFrame | None, seed: int = 0) -> Finding:
    """Fig. 4 from :func:`convatlas.analyses.evolution.settling`: per channel, the correlation over
    probe images of its response at an earlier checkpoint with that at the last; the claim's
    quantity is the mean at the earliest checkpoint of the first layer minus that of the top layer,
    bootstrapped over channels (each layer resampled on its own)."""
    if table is None or table.empty:
        return not_measured("fig4", "It needs checkpoints at two epochs or more (models.<name>.epochs).")
    layers = list(dict.fromkeys(table.layer))
    earliest = int(table.epoch.min())
    last = int(table.last_epoch.iloc[0])
    rows = []
    for layer in layers:
        row = {"layer": layer}
        for epoch in sorted(set(table.epoch)):
            values = table[(table.layer == layer) & (table.epoch == epoch)].correlation.dropna().to_numpy()
            row[f"epoch {epoch}"] = float(values.mean()) if len(values) else float("nan")
        rows.append(row)
    first = table[(table.layer == layers[0]) & (table.epoch == earliest)].correlation.dropna().to_numpy()
    top = table[(table.layer == layers[-1]) & (table.epoch == earliest)].correlation.dropna().to_numpy()
    if len(first) < 2 or len(top) < 2:
        return not_measured("fig4", "Too few live channels at the first or the top layer.")
    generator = np.random.default_rng(seed)
    draws = [first[generator.integers(0, len(first), len(first))].mean() - top[generator.integers(0, len(top), len(top))].mean()
             for _ in range(2000)]
    low, high = (float(v) for v in np.percentile(draws, [2.5, 97.5]))
    estimate = float(first.mean() - top.mean())
    images = int(table.images.iloc[0])
    return _finding("fig4", verdict=direction_verdict(low, high),
                    measured=f"Correlation of each channel's responses at epoch {earliest} with those at epoch {last}: "
                             f"{first.mean():.2f} at {layers[0]}, {top.mean():.2f} at {layers[-1]} (mean over live channels).",
                    unit="correlation", test=f"First-layer minus top-layer mean correlation at epoch {earliest}, bootstrap over "
                         f"{len(first)} and {len(top)} channels, responses on {images} probe images",
                    estimate=estimate, low=low, high=high, n=len(first) + len(top), n_of="channels", rows=rows,
                    columns=["layer", *[f"epoch {e}" for e in sorted(set(table.epoch))]],
                    differs=f"Zeiler & Fergus trained 70 epochs and showed projections at epochs 1 to 64; here the checkpoints "
                            f"are epochs {', '.join(str(e) for e in sorted(set(table.epoch)))} and {last}, and "
                            "settling is measured as the correlation of responses, not judged by eye.")


# Table 3 ------------------------------------------------------------------------------------------


def variants_finding(variants: pd.DataFrame | None, model: str) -> Finding:
    """Table 3 from the variants table (base model first): each variant's paired change of test
    error against the base, McNemar's test, and whether it goes the way Zeiler & Fergus found for a
    variant of its kind (fewer weight layers or, as deep, fewer parameters: worse; more: better)."""
    if variants is None or len(variants) < 2:
        return not_measured("table3", f"No architecture variants of {model} are configured (variants: {model}: ...).")
    base = variants.iloc[0]
    rows, verdicts = [], []
    for _, variant in variants.iloc[1:].iterrows():
        change = paired_difference(variant.test_correct, base.test_correct)  # base accuracy minus variant's = error change
        low, high = change.interval
        depth = int(variant.get("weight_layers", 0)) - int(base.get("weight_layers", 0))
        smaller = depth < 0 or (depth == 0 and variant.parameters < base.parameters)
        larger = depth > 0 or (depth == 0 and variant.parameters > base.parameters)
        expected = "higher" if smaller else "lower" if larger else None
        directed = (low, high) if expected == "higher" else (-high, -low)
        verdict = direction_verdict(*directed) if expected else "inconclusive"
        verdicts.append(verdict)
        rows.append({"variant": variant.model, "weight layers": signed(depth, 0) if depth else "same", "parameters": int(variant.parameters),
                     "change": change.difference, "low": low, "high": high, "p": change.p_value,
                     "Zeiler & Fergus expect": f"{expected} error" if expected else "–", "verdict": verdict})
    verdict = ("not reproduced" if "not reproduced" in verdicts else "reproduced" if all(v == "reproduced" for v in verdicts)
               else "inconclusive")
    n = int(base.test_images)
    parts = "; ".join(f"{r['variant']}: {signed(r['change'] * 100)} points (95% {signed(r['low'] * 100)} to "
                      f"{signed(r['high'] * 100)}, McNemar {p_text(r['p'])})" for r in rows)
    worst = min(rows, key=lambda r: r["low"] if r["Zeiler & Fergus expect"] == "higher error" else -r["high"])
    return _finding("table3", verdict=verdict, measured=f"Test error against {base.model} (epoch {int(base.epoch)}): {parts}.",
                    unit="points of error", test=f"Paired change of test error on the same {n:,} test images, per variant (McNemar's exact test)",
                    estimate=worst["change"], low=worst["low"], high=worst["high"], n=n, n_of="test images", rows=rows,
                    columns=["variant", "weight layers", "parameters", "change", "Zeiler & Fergus expect", "verdict"],
                    differs="Zeiler & Fergus compared variants trained to convergence on ImageNet; these are trained "
                            f"{int(base.epoch)} epochs each, as the base is here, on this model's dataset.")


def findings(model: str, correspondence: tuple[pd.DataFrame, Sequence[str]] | None = None,
             invariance: tuple[pd.DataFrame, str, str] | None = None,
             occlusion: tuple[dict, np.ndarray] | None = None, evolution: pd.DataFrame | None = None,
             variants: pd.DataFrame | None = None) -> list[Finding]:
    """Every claim, in the paper's order of the page (None: the analysis is not configured)."""
    table, first, top = invariance if invariance is not None else (None, "", "")
    return [too_few(finding) for finding in (
        correspondence_finding(*(correspondence or (None,))),
        invariance_layer_finding(table, first, top),
        invariance_output_finding(table),
        occlusion_finding(*(occlusion or (None, None))),
        evolution_finding(evolution),
        variants_finding(variants, model),
    )]
