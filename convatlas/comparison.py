"""The architecture comparison page: the models side by side, with transfer and linear probes."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from .io import read_json, read_npz
from .plots import probe_figure, transfer_figure
from .site import Renderer, model_dir


def _depth_picks(layers: list[dict[str, Any]], stats: pd.DataFrame) -> list[dict[str, Any]]:
    """The first, middle and last spatial analysed layer, each with its most selective live channel."""
    spatial = [layer for layer in layers if len(layer["shape"]) == 3]
    picks = []
    for label, position in (("first", 0), ("middle", len(spatial) // 2), ("last", len(spatial) - 1)):
        if not spatial:
            break
        layer = spatial[position]["name"]
        rows = stats[(stats.layer == layer) & ~stats.dead].sort_values("selectivity", ascending=False)
        if len(rows):
            picks.append({"depth": label, "layer": layer, "channel": int(rows.channel.iloc[0]),
                          "selectivity": float(rows.selectivity.iloc[0])})
    return picks


def render_comparison(
    models: list[str], epochs: dict[str, int], summaries: dict[str, str | os.PathLike],
    stats: dict[str, str | os.PathLike], probes: dict[str, str | os.PathLike], occlusions: dict[str, str | os.PathLike],
    transfers: dict[str, str | os.PathLike], template_dir: str | os.PathLike, site_dir: str | os.PathLike,
    title: str = "convatlas",
) -> Path:
    """Write ``compare.html`` (and its plots) from each model's summary, statistics and analyses."""
    site_dir = Path(site_dir)
    cards = []
    probe_tables = {}
    for model in models:
        summary = read_json(summaries[model])
        table = pd.read_parquet(stats[model])
        probe = pd.read_parquet(probes[model]).set_index("layer")
        probe_tables[model] = probe.reset_index()
        layers = []
        for layer in summary["layers"]:
            rows = table[table.layer == layer["name"]]
            layers.append({**layer, "dead": float(rows.dead.mean()) if len(rows) else float("nan"),
                           "selectivity": float(rows.selectivity[~rows.dead].mean()) if (~rows.dead).any() else float("nan"),
                           "probe": float(probe.accuracy.get(layer["name"], float("nan")))})
        occlusion = read_npz(occlusions[model])
        folder = f"{model_dir(model)}/epoch-{epochs[model]}"
        cards.append({
            "name": model, "summary": summary, "layers": layers, "folder": folder,
            "picks": _depth_picks(summary["layers"], table),
            "occluded": [int(i) for i in occlusion["images"][:3]],
        })
    plots = {}
    if transfers:
        transfer_figure({m: pd.read_parquet(p) for m, p in transfers.items()}, site_dir / "img" / "transfer.png")
        plots["transfer"] = "img/transfer.png"
    probe_figure(probe_tables, site_dir / "img" / "probe.png")
    plots["probe"] = "img/probe.png"
    transfer_rows = []
    for model, path in transfers.items():
        table = pd.read_parquet(path)
        grouped = table.groupby(["shots", "method"]).accuracy.agg(["mean", "std"]).reset_index()
        for shots, rows in grouped.groupby("shots"):
            by = rows.set_index("method")
            transfer_rows.append({"model": model, "shots": int(shots),
                                  "transfer": by.loc["transfer", "mean"], "transfer_std": by.loc["transfer", "std"],
                                  "scratch": by.loc["scratch", "mean"], "scratch_std": by.loc["scratch", "std"]})
    source = {m: float(pd.read_parquet(p).source_accuracy.iloc[0]) for m, p in transfers.items()}
    Renderer(template_dir, site_dir, title).render(
        "compare.html", "compare.html", cards=cards, plots=plots, transfer_rows=transfer_rows, source=source)
    return site_dir / "compare.html"
