"""The architecture comparison page: the models side by side, with transfer and linear probes."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd

from ...analyses.statistics import paired_difference
from ...results.artifacts import ModelSummary, SummaryLayer
from .. import layout
from ..plots import TRANSFER_METHODS, probe_figure, transfer_figure
from ..render import Renderer

OCCLUDED_SHOWN = 3  # occlusion figures per model


def _depth_picks(layers: list[SummaryLayer], stats: pd.DataFrame,
                 covered: dict[str, set[int]] | None = None, leads: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The first, middle and last spatial analysed layer, each with its most selective channel (of
    those whose selectivity is defined) among those with projections (``covered``: layer -> channels; None: all)
    and the picture its page leads with (``leads``: layer -> deconvnet, guided, filter or patches)."""
    spatial = [layer for layer in layers if len(layer.shape) == 3]
    picks = []
    for label, position in (("first", 0), ("middle", len(spatial) // 2), ("last", len(spatial) - 1)):
        if not spatial:
            break
        layer = spatial[position].name
        key = "selectivity_low" if "selectivity_low" in stats else "selectivity"  # noise does not rank high
        rows = stats[stats.layer == layer].dropna(subset=["selectivity"]).sort_values(key, ascending=False)
        if covered is not None and layer in covered:
            rows = rows[rows.channel.isin(covered[layer])]
        if len(rows):
            picks.append({"depth": label, "layer": layer, "channel": int(rows.channel.iloc[0]),
                          "selectivity": float(rows.selectivity.iloc[0]), "lead": (leads or {}).get(layer, "deconvnet")})
    return picks


def _model_card(model: str, epoch: int, summary: ModelSummary, stats: pd.DataFrame, probes: pd.DataFrame,
                occluded: list[int], covered: dict[str, set[int]] | None = None,
                leads: dict[str, str] | None = None) -> dict[str, Any]:
    probe = probes.set_index("layer")
    layers = []
    for layer in summary.layers:
        rows = stats[stats.layer == layer.name]
        layers.append({**asdict(layer), "dead": float(rows.dead.mean()) if len(rows) else float("nan"),
                       "selectivity": float(rows.selectivity.mean()) if rows.selectivity.notna().any() else None,
                       "selective": int(rows.selectivity.notna().sum()),  # channels whose selectivity is defined
                       "probe": float(probe.accuracy.get(layer.name, float("nan")))})
    probe_images = int(probes["test_images"].iloc[0]) if "test_images" in probes and len(probes) else None
    return {"name": model, "epoch": epoch, "summary": summary, "layers": layers, "probe_images": probe_images,
            "picks": _depth_picks(summary.layers, stats, covered, leads), "occluded": occluded[:OCCLUDED_SHOWN]}


READING_PAIRS = {  # reading key -> (method, the method it is compared with)
    "over_random": ("transfer", "random"),
    "over_scratch": ("transfer", "scratch"),
    "last_over_conv": ("last_hidden", "transfer"),
}


def _paired_wins(table: pd.DataFrame, method: str, other: str) -> dict[str, int] | None:
    """Over the budgets, where ``method`` is ahead of ``other`` (the 95% t interval of their
    difference over the draws, which give both the same few images, lies above 0), where it is
    behind (below 0), and how many budgets there are; None when either was not measured."""
    from ...analyses.statistics import t_interval

    wide = table.pivot_table(index=["shots", "draw"], columns="method", values="accuracy")
    if method not in wide or other not in wide:
        return None
    intervals = [t_interval(d) for _, d in (wide[method] - wide[other]).groupby(level="shots")]
    return {"wins": sum(low > 0 for _, low, _ in intervals), "losses": sum(high < 0 for _, _, high in intervals),
            "budgets": len(intervals)}


def transfer_reading(transfers: dict[str, pd.DataFrame]) -> dict[str, dict[str, dict[str, int] | None]]:
    """Per model and comparison of :data:`READING_PAIRS`: at how many budgets one method beats the
    other in every draw, and at how many it loses in every draw."""
    return {model: {key: _paired_wins(table, *pair) for key, pair in READING_PAIRS.items()}
            for model, table in transfers.items()}


def _transfer_rows(transfers: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Per model and budget: each method's mean accuracy over the draws with its 95% t interval."""
    from ...analyses.statistics import t_interval

    rows = []
    for model, table in transfers.items():
        for shots, group in table.groupby("shots"):
            row = {"model": model, "shots": int(shots)}
            for method in TRANSFER_METHODS:
                accuracies = group[group.method == method].accuracy
                mean, low, high = t_interval(accuracies) if len(accuracies) else (None, None, None)
                if mean is not None and low == low:  # an accuracy's interval stays within [0, 1] (NaN: one draw)
                    low, high = max(0.0, low), min(1.0, high)
                row[method], row[f"{method}_low"], row[f"{method}_high"] = mean, low, high
            rows.append(row)
    return rows


def excited_most(stats: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Per layer, for probe datasets ``name -> channel statistics`` (the model's own first): how many
    channels each dataset gives the largest maximum activation (ties to the earlier dataset), and
    each dataset's median maximum over the channels."""
    names = list(stats)
    own = stats[names[0]]
    rows = []
    for layer in own.layer.unique():
        peaks = pd.DataFrame({name: table[table.layer == layer].set_index("channel")["max"] for name, table in stats.items()})
        winners = peaks.to_numpy().argmax(axis=1)  # the first of equal maxima
        rows.append({"layer": layer, "channels": len(peaks),
                     "datasets": [{"name": name, "most": int((winners == i).sum()), "median_max": float(peaks[name].median())}
                                  for i, name in enumerate(names)]})
    return rows


def paired_comparisons(summaries: dict[str, ModelSummary], predictions: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Every pair of models whose predictions cover the same labelled images: the accuracy difference
    (second minus first) with its paired 95% interval and McNemar's p, whether it is within noise, and
    whether the two were trained for different numbers of epochs (an unequal budget)."""
    rows = []
    names = [m for m in summaries if m in predictions and summaries[m].test_accuracy is not None]  # labelled
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a = predictions[first].sort_values("image")
            b = predictions[second].sort_values("image")
            if len(a) != len(b) or not (a.image.to_numpy() == b.image.to_numpy()).all() or \
                    not (a.label.to_numpy() == b.label.to_numpy()).all():
                continue  # other images or other labels: no paired comparison
            diff = paired_difference((a.label == a.predicted).to_numpy(), (b.label == b.predicted).to_numpy())
            low, high = diff.interval
            epochs = (summaries[first].epoch, summaries[second].epoch)
            rows.append({"first": first, "second": second, "n": diff.n, "difference": diff.difference, "low": low,
                         "high": high, "p": diff.p_value, "noise": diff.within_noise,
                         "only_first": diff.only_first, "only_second": diff.only_second,
                         "epochs": epochs, "unequal": epochs[0] != epochs[1] and not (summaries[first].provenance
                                                                                      or summaries[second].provenance)})
    return rows


def render_comparison(
    renderer: Renderer, epochs: dict[str, int], summaries: dict[str, ModelSummary], stats: dict[str, pd.DataFrame],
    probes: dict[str, pd.DataFrame], occluded: dict[str, list[int]], transfers: dict[str, pd.DataFrame],
    probe_sets: dict[str, dict[str, pd.DataFrame | None]] | None = None,
    covered: dict[str, dict[str, set[int]]] | None = None,
    leads: dict[str, dict[str, str]] | None = None,
    predictions: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Write ``compare.html`` (and its plots) from each model's summary, channel statistics, linear
    probes, occluded images and transfer table (the last three may be empty: sections left out); with ``probe_sets`` (model -> probe dataset ->
    channel statistics, None for the model's own), which dataset excites each channel most; the
    picks at corresponding depths are among the channels with projections (``covered``), each shown
    with the picture its page leads with (``leads``: model -> layer -> kind; default the deconvnet);
    ``predictions`` (model -> its predictions table on its analysed images) give the paired accuracy
    differences of models measured on the same images."""
    no_probes = pd.DataFrame({"layer": pd.Series(dtype=str), "accuracy": pd.Series(dtype=float)})
    cards = [_model_card(m, epochs[m], summaries[m], stats[m], probes.get(m, no_probes), occluded.get(m, []),
                         (covered or {}).get(m), (leads or {}).get(m))
             for m in summaries]
    plots = {}
    if transfers:
        plots["transfer"] = layout.compare_image("transfer")
        transfer_figure(transfers, renderer.path(plots["transfer"]))
    measured = {m: table for m, table in probes.items() if len(table) and table.accuracy.notna().any()}
    if measured:  # models without labels have no probes
        plots["linear_probes"] = layout.compare_image("linear-probes")
        probe_figure(measured, renderer.path(plots["linear_probes"]))
    rows = _transfer_rows(transfers)
    source = {m: float(table.source_accuracy.iloc[0]) for m, table in transfers.items()}
    first = next(iter(transfers.values()), None)
    transfer_classes = ({"source": str(first.source_classes.iloc[0]), "target": str(first.target_classes.iloc[0]),
                         "images": int(first.test_images.iloc[0])}
                        if first is not None and "target_classes" in first else None)
    excitation = {model: excited_most({name: stats[model] if table is None else table for name, table in sets.items()})
                  for model, sets in (probe_sets or {}).items()}
    measured_methods = {method for table in transfers.values() for method in table.method.unique()}
    renderer.render("compare.html", layout.compare_page(), cards=cards, plots=plots,
                    transfer_methods={m: name for m, (name, _) in TRANSFER_METHODS.items() if m in measured_methods},
                    source_class_count=(int(first.source_class_count.iloc[0])
                                        if first is not None and "source_class_count" in first else None),
                    transfer_rows=rows, reading=transfer_reading(transfers), source=source, transfer_classes=transfer_classes,
                    transfer_draws=int(first.draw.max()) + 1 if first is not None else 0, excitation=excitation,
                    cards_by_name={c["name"]: c for c in cards}, has_probes=bool(probes),
                    differences=paired_comparisons(summaries, predictions or {}),
                    has_occlusion=any(c["occluded"] for c in cards))
