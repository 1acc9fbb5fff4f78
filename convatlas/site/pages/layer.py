"""The layer and channel pages of one (model, epoch, layer): one job renders every channel.

Per layer: ``index.html`` (a card per channel, sortable and filterable, thumbnails packed in one
sprite sheet; the Zeiler & Fergus overview of projections beside patches for a sample of
channels; feature-evolution strips; the first layer's filters) and ``channel-{c}.html`` per channel
(its top-k receptive-field patches with value, image, true and predicted class, beside their
deconvnet projections; the full images with the box drawn; class-selectivity bars; evolution).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...analyses.channel_selection import spread
from ...analyses.connections import strongest
from ...analyses.facets import MIN_FACET_IMAGES
from ...analyses.responses import MIN_ACTIVE_FRACTION, MIN_ACTIVE_IMAGES, magnitude_floor, min_active_images
from ...analyses.sanity import HEATMAP_METHODS, IMAGE_THRESHOLD, MODEL_THRESHOLD, is_branch, layer_lead
from ...analyses.statistics import within_noise
from ...core.geometry import ReceptiveField
from ...results.artifacts import ChannelArrays, LayerRecord, Projections
from .. import layout
from ..histogram import histogram_chart
from ..images import (
    SMALL,
    THUMB,
    display_factor,
    display_shape,
    draw_box,
    fit,
    grid,
    pixels,
    receptive_patch,
    relevance_masked,
    resize_nearest,
    save_png,
    signed_to_rgb,
    stretched,
    tile_rgb,
    to_rgb,
    upscale,
)
from ..render import Renderer

SPRITE_COLUMNS = 32
CONNECTIONS_SHOWN = 5  # connected channels listed per direction on a channel page
GAP = 2
CARD_TEXT_WIDTH = 106  # px beside a card's thumbnail ("off: −0.1 points" fits)
MOSAIC_COLUMNS = 16
PROJECTION_TITLES = {
    "deconvnet": "deconvnet projections",
    "guided": "guided backpropagation",
    "gradient_input": "gradient × input (masking the patches)",
    "relevance": "LRP relevance (masking the patches)",
    "deconvnet_trunk": "deconvnet through the trunk only",
    "deconvnet_shortcut": "deconvnet through the shortcut only",
}


def sample_channels(channels: int, count: int) -> list[int]:
    """Up to ``count`` channel numbers spread evenly over ``range(channels)``."""
    return spread(channels, count)


@dataclass
class ProbeView:
    """Another probe dataset of the model (``models.<m>.probe``) as a layer page shows it."""

    name: str
    index: pd.DataFrame
    stats: pd.DataFrame
    predictions: pd.DataFrame
    pictures: Any  # its images fitted to the model's input: .images(indices) -> uint8 (N, C, H, W)
    images: int  # how many images were indexed
    predicted_labels: bool = False  # the images' classes are the model's predictions
    projections: Projections | None = None  # its projections, one row per channel projected


@dataclass
class LayerPage:
    """Everything one layer's pages show."""

    model: str
    epoch: int
    layer: str
    info: LayerRecord  # the layer as the index run recorded it
    layer_names: Sequence[str]
    page_epochs: Sequence[int]  # epochs whose pages exist (for links)
    index: pd.DataFrame
    stats: pd.DataFrame
    predictions: pd.DataFrame
    pictures: Any  # the analysed split: .size, .images(indices) -> uint8 (N, C, H, W)
    classes: Sequence[str]  # the model's output classes (labels and predictions in predictions.parquet)
    projections: Projections | None = None  # pictures, sanity checks and (first conv) filters; its rows cover ``covered``
    evolution: dict[int, np.ndarray] = field(default_factory=dict)  # epoch -> (n, h, w, in) top-1 projection, rows of ``covered``
    ablation: pd.DataFrame | None = None  # per-channel ablation: accuracy, accuracy_drop, class_accuracy
    maximised: ChannelArrays | None = None  # "noise" (and "top1"): (N, H, W, in) images in [0, 1], a row per channel
    covered: Sequence[int] | None = None  # the channels with projections, maximisation and ablation (None: the projected ones, or all)
    overview_channels: int = 16
    evolution_channels: int = 8
    dataset: str = "probe"  # the name of the model's own dataset (the first probe set)
    probe_images: int = 0  # how many of its images were indexed
    predicted_labels: bool = False  # the images have no labels of the model's classes: they are its predictions
    probes: Sequence[ProbeView] = ()  # the model's other probe datasets
    lead: str = "auto"  # deconv.lead: what channel pages lead with (auto: by the checks)
    levels: pd.DataFrame | None = None  # examples at several levels of each channel's responses (analyses.levels)
    facets: pd.DataFrame | None = None  # each channel's top images grouped into facets (analyses.facets)


def _score(value: float) -> str:
    return "–" if value != value else f"{value:.2f}"


def _why_it_fails(verdict: dict[str, Any]) -> str | None:
    """One clause on why a kind of picture fails the sanity checks (None when it passes)."""
    if verdict["passes"]:
        return None
    title, reasons = verdict["title"], []
    if not verdict["tile_correlation"] < IMAGE_THRESHOLD:
        reasons.append(f"nearly one picture whatever the image (median tile correlation {_score(verdict['tile_correlation'])})")
    if not verdict["random_correlation"] < MODEL_THRESHOLD:
        reasons.append("hardly changed by re-initialising the learned weights (rank correlation "
                       f"{_score(verdict['random_correlation'])})")
    return f"{title}: " + " and ".join(reasons)


@dataclass
class _Geometry:
    """Sizes of one layer's pictures: receptive field, upscaling, grid cells."""

    height: int
    width: int
    field: ReceptiveField
    columns: int

    @property
    def rf(self) -> tuple[int, int]:
        return self.field.size(self.height, self.width)

    def cell(self, context: bool = False) -> tuple[int, int]:
        """The shown size of a patch (or, with ``context``, of a whole image): see display_shape."""
        return display_shape(self.height, self.width) if context else display_shape(*self.rf)

    def patch(self, picture: np.ndarray) -> np.ndarray:
        """A patch or a projection tile (uint8 RGB) at its shown size."""
        return fit(picture, self.cell())

    def whole(self, picture: np.ndarray, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """A whole image (uint8 RGB) at its shown size, with ``box`` drawn (2 px wide as shown)."""
        shown = self.cell(context=True)
        if box is not None:
            factor = shown[0] // self.height
            if factor >= 1 and shown == (self.height * factor, self.width * factor):
                return draw_box(picture, box, factor)
            picture = draw_box(picture, box, 1, thickness=max(2, round(2 * self.height / shown[0])))
        return fit(picture, shown)

    def offset(self, rank: int, context: bool = False) -> tuple[int, int]:
        """(x, y) of rank's cell in its grid image."""
        h, w = self.cell(context)
        return (rank % self.columns) * (w + GAP), (rank // self.columns) * (h + GAP)


def _filter_images(weights: np.ndarray) -> list[np.ndarray]:
    """Each filter (in, kh, kw) normalised around grey and upscaled to about 48 px."""
    factor = display_factor(max(weights.shape[2:]), THUMB)
    return [upscale(signed_to_rgb(w.transpose(1, 2, 0)), factor) for w in weights]




def _class_counts(predictions: pd.DataFrame, images: int, classes: int) -> list[int]:
    """How many of the first ``images`` analysed images belong to each class (the ablation's images)."""
    labels = predictions.loc[predictions["image"] < images, "label"].to_numpy()
    return np.bincount(labels, minlength=classes).tolist()


def _ablation_effect(row: pd.Series, classes: Sequence[str], counts: Sequence[int] | None = None) -> dict[str, Any]:
    """Accuracy with the channel switched off, overall (with the 95% interval of the change and the
    number of images) and per class (with ``counts``, its images), against the unablated model."""
    base = float(row["base_accuracy"])
    low, high = -float(row["drop_high"]), -float(row["drop_low"])  # of the change, ablated - base
    return {"accuracy": float(row["accuracy"]), "drop": float(row["accuracy_drop"]), "base": base,
            "change": -float(row["accuracy_drop"]), "low": low, "high": high, "noise": bool(within_noise(low, high)),
            "images": int(row["images"]), "lost": int(row["lost"]), "gained": int(row["gained"]),
            "classes": [{"name": c, "accuracy": float(a), "base": float(b), "images": n}
                        for c, a, b, n in zip(classes, row["class_accuracy"], row["base_class_accuracy"],
                                              counts or [None] * len(classes), strict=True)]}


def _card(info: pd.Series, classes: Sequence[str], channel: int) -> dict[str, Any]:
    means = [float(m) for m in info["class_means"]]
    top_mean = max([m for m in means if m == m] + [1e-12])
    selectivity = float(info["selectivity"])
    defined = selectivity == selectivity  # NaN: fires too rarely or too weakly (responses.ranked_channels)
    low, high = (float(info.get("selectivity_low", np.nan)), float(info.get("selectivity_high", np.nan))) if defined else (None, None)
    return {
        "channel": int(channel), "max": float(info["max"]), "mean": float(info["mean"]),
        "fraction_positive": float(info["fraction_positive"]), "active_fraction": float(info["active_fraction"]),
        "selectivity": selectivity if defined else None,
        "selectivity_low": low if low == low else None, "selectivity_high": high if high == high else None,
        "undefined_because": None if defined else (
            "weak" if float(info["max"]) < float(info.get("magnitude_floor", 0.0))
            else "rare" if "active_images" not in info or int(info["active_images"]) < MIN_ACTIVE_IMAGES
            or float(info["active_fraction"]) < MIN_ACTIVE_FRACTION
            else "classes"),  # fires often and strongly enough, but too few images a class for an interval
        "dead": bool(info["dead"]), "top_class": "" if info["dead"] else classes[int(info["top_class"])], "ablation": None,
        "sprite_x": (channel % SPRITE_COLUMNS) * THUMB, "sprite_y": (channel // SPRITE_COLUMNS) * THUMB,
        "class_bars": [] if info["dead"] else sorted(
            ({"name": c, "mean": m, "percent": max(0.0, 100 * m / top_mean)}
             for c, m in zip(classes, means, strict=True) if m == m),  # classes with images only
            key=lambda bar: -bar["mean"])[:CLASS_BARS],
        "histogram": histogram_chart(info["histogram"]) if "histogram" in info else None,
    }


CLASS_BARS = 20  # the classes a channel page lists, strongest first
NEARLY_DEAD = 0.01  # a channel whose largest activation is below this fraction of its layer's largest


def live_channels(stats: pd.DataFrame, channels: Sequence[int]) -> list[int]:
    """Of ``channels``, those neither dead nor nearly dead (largest activation under 1% of the layer's
    largest): the ones worth showing in the layer's overview samples."""
    peak = float(stats["max"].max()) if len(stats) else 0.0
    by_channel = stats.set_index("channel")
    return [c for c in channels if not by_channel.at[c, "dead"] and by_channel.at[c, "max"] >= NEARLY_DEAD * peak]


def _excited_most(own: str, own_max: float, probes: Sequence[dict[str, Any]]) -> str | None:
    """The probe dataset with the largest maximum activation of a channel (None without other datasets;
    ties go to the model's own dataset, then to the first listed)."""
    if not probes:
        return None
    best, name = own_max, own
    for section in probes:
        if section["max"] > best:
            best, name = section["max"], section["name"]
    return name


class _Source:
    """One probe dataset's top-k rows of the layer with the pictures and classes they show."""

    def __init__(self, layer: str, index: pd.DataFrame, stats: pd.DataFrame, predictions: pd.DataFrame, pictures: Any,
                 levels: pd.DataFrame | None = None, facets: pd.DataFrame | None = None):
        self.index = index[index.layer == layer].sort_values(["channel", "rank"])
        self.stats = stats[stats.layer == layer].sort_values("channel").reset_index(drop=True)
        self.levels = (levels[levels.layer == layer].sort_values(["channel", "level", "rank"], ascending=[True, False, True])
                       if levels is not None else None)
        self.level_rows = dict(tuple(self.levels.groupby("channel", sort=False))) if self.levels is not None else {}
        lowest = [np.asarray(v) for v in self.stats["lowest_images"]] if "lowest_images" in self.stats else []
        level_images = [self.levels["image"].to_numpy()] if self.levels is not None else []
        self.facets = facets[facets.layer == layer] if facets is not None else None
        self.facet_rows = dict(tuple(self.facets.groupby("channel", sort=False))) if self.facets is not None else {}
        facet_images = [np.asarray(e) for e in self.facets["examples"]] if self.facets is not None else []
        needed = np.unique(np.concatenate([self.index["image"].to_numpy(), *lowest, *level_images,
                                           *facet_images]).astype(np.int64))
        self.pictures = dict(zip(needed.tolist(), (to_rgb(img) for img in pictures.images(needed)), strict=True))
        self.names = {int(i): pictures.name(int(i)) for i in needed}  # as every page names the image
        by_image = predictions.set_index("image")
        self.label, self.predicted = by_image["label"], by_image["predicted"]
        self.rows = {int(c): rows for c, rows in self.index.groupby("channel", sort=True)}


class _LayerWriter:
    """Writes one layer's images and pages."""

    def __init__(self, page: LayerPage, renderer: Renderer):
        self.page, self.renderer = page, renderer
        self.own = _Source(page.layer, page.index, page.stats, page.predictions, page.pictures, page.levels, page.facets)
        self.index, self.stats = self.own.index, self.own.stats
        self.others = [(probe, _Source(page.layer, probe.index, probe.stats, probe.predictions, probe.pictures))
                       for probe in page.probes]
        self.probe_thumbs: dict[str, list[np.ndarray]] = {probe.name: [] for probe in page.probes}
        self.classes = list(page.classes)
        self.k = int(self.index["rank"].max()) + 1 if len(self.index) else 0
        height, width = page.pictures.size, page.pictures.size
        self.geometry = _Geometry(height, width, page.info.receptive_field(), int(np.ceil(np.sqrt(self.k))))
        self.ext = layout.picture_ext(max(height, width))  # JPEG for photos, PNG for small images
        self.projections = page.projections or Projections(np.zeros(0, dtype=np.int64))
        self.methods = [m for m in PROJECTION_TITLES if m in self.projections.pictures]
        self.maximised = [kind for kind in ("noise", "top1") if page.maximised is not None and kind in page.maximised]
        self.covered = (list(page.covered) if page.covered is not None
                        else self.projections.channels.tolist() if page.projections is not None else list(range(len(self.stats))))
        self.covered_set = set(self.covered)
        self.verdicts, self.lead, self.failing = self._checked_methods()
        self.ablation = page.ablation.set_index("channel") if page.ablation is not None else None
        filters = self.projections.filters
        self.filters = _filter_images(filters) if filters is not None else None

    def _checked_methods(self) -> tuple[list[dict[str, Any]], str, list[str]]:
        """The sanity-check verdict of each kind of picture, what the channel pages lead with, and the
        kinds that fail (shown only on request, trunk and shortcut grids not at all); ``self.methods``
        becomes the passing kinds, the lead first. At the first conv's layer a unit's projection is its
        filter times its activation (both methods), so the filter is shown once instead. Projections
        stored without checks keep the former order."""
        page = self.page
        dead = set(self.stats.channel[self.stats.dead].tolist())
        verdicts, lead = layer_lead(self.projections.checks, self.projections.filters is not None, page.lead,
                                    np.asarray([c not in dead for c in self.covered]))
        if lead == "filter":
            self.methods = []
            return [], lead, []
        if lead is None:
            return [], self.methods[0] if self.methods else "patches", []
        verdicts = [v for v in verdicts if v["kind"] in self.methods]
        for verdict in verdicts:
            verdict.update(title=PROJECTION_TITLES[verdict["kind"]], leads=verdict["kind"] == lead,
                           tile_text=_score(verdict["tile_correlation"]), random_text=_score(verdict["random_correlation"]))
            verdict["why"] = _why_it_fails(verdict)
            verdict["main"] = not is_branch(verdict["kind"])  # not a trunk or shortcut grid
        passing = [v["kind"] for v in verdicts if v["passes"] or v["kind"] == lead]
        failing = [m for m in self.methods if m not in passing and not is_branch(m)]
        self.methods = sorted(passing, key=lambda m: m != lead)
        return verdicts, lead, failing

    def _maximised(self, channel: int) -> bool:
        """Whether the channel is covered and has maximised images."""
        return self.page.maximised is not None and channel in self.covered_set and self.page.maximised.covers(channel)

    def image_path(self, name: str) -> Path:
        page = self.page
        return self.renderer.path(layout.layer_image(page.model, page.epoch, page.layer, name, self.ext))

    def common(self) -> dict[str, Any]:
        page, g = self.page, self.geometry
        position = list(page.layer_names).index(page.layer)
        return {
            "model": page.model, "epoch": page.epoch, "layer": page.layer, "info": page.info,
            "other_epochs": [e for e in page.page_epochs if e != page.epoch],
            "methods": [{"key": m, "title": PROJECTION_TITLES[m]} for m in self.methods],
            "failing": [{"key": m, "title": PROJECTION_TITLES[m]} for m in self.failing],
            "lead": self.lead, "verdicts": self.verdicts, "branch_checks": any(is_branch(v["kind"]) for v in self.verdicts), "thresholds": {"image": IMAGE_THRESHOLD, "model": MODEL_THRESHOLD},
            "evolution_epochs": sorted(page.evolution), "k": self.k, "rf": g.rf, "ext": self.ext,
            "cell": g.cell(), "context_cell": g.cell(context=True),
            "previous_layer": page.layer_names[position - 1] if position > 0 else None,
            "next_layer": page.layer_names[position + 1] if position + 1 < len(page.layer_names) else None,
        }

    def top_entries(self, source: _Source, rows: pd.DataFrame) -> tuple[list[dict[str, Any]], list[np.ndarray], list[np.ndarray]]:
        """A channel's top-k entries of one probe dataset, with their patches and their images in
        context: only those with a positive response (a channel that fires on fewer than k images
        has no more examples; the rest of a top k would be arbitrary picks among silent images)."""
        g = self.geometry
        patches, contexts, tops = [], [], []
        for row in rows[rows.value > 0].itertuples():
            image = source.pictures[row.image]
            box, origin, size = g.field.unit_geometry(row.y, row.x, g.height, g.width)
            patches.append(receptive_patch(image, box, origin, size))
            contexts.append(g.whole(image, box))
            label, predicted = int(source.label[row.image]), int(source.predicted[row.image])
            tops.append({
                "rank": row.rank, "place": row.rank + 1, "value": float(row.value), "image": int(row.image),
                "name": source.names[int(row.image)], "label": self.classes[label], "predicted": self.classes[predicted], "correct": label == predicted,
                "offset": g.offset(row.rank), "context_offset": g.offset(row.rank, context=True),
            })
        return tops, patches, contexts

    def save_grids(self, name: str, patches: list[np.ndarray], projections: dict[str, np.ndarray], methods: Sequence[str]) -> None:
        """A channel's patch grid and its projection grids, saved as ``{name}-patches`` and ``{name}-{method}``."""
        g = self.geometry
        save_png(grid([g.patch(p) for p in patches], g.columns, GAP), self.image_path(f"{name}-patches"))
        for method in methods:
            if method in HEATMAP_METHODS:  # the patch, masked by the unit's heatmap
                cells = [g.patch(relevance_masked(patch, heat)) for patch, heat in zip(patches, projections[method], strict=False)]
            else:
                cells = [g.patch(tile_rgb(p)) for p in projections[method]]
            save_png(grid(cells, g.columns, GAP), self.image_path(f"{name}-{method}"))

    def probe_sections(self, channel: int) -> list[dict[str, Any]]:
        """The channel's top-k on each other probe dataset (grids written), for its page."""
        sections = []
        for probe, source in self.others:
            rows = source.rows.get(channel)
            if rows is None:
                continue
            tops, patches, _ = self.top_entries(source, rows)
            stats = source.stats.iloc[channel]
            if not tops:  # it never fires on this dataset
                self.probe_thumbs[probe.name].append(np.full((THUMB, THUMB, 3), 128, dtype=np.uint8))
                sections.append({"name": probe.name, "images": probe.images, "predicted_labels": probe.predicted_labels, "tops": [],
                                 "max": float(stats["max"]), "mean": float(stats["mean"]), "methods": []})
                continue
            self.probe_thumbs[probe.name].append(resize_nearest(patches[0], THUMB))
            projected = probe.projections is not None and probe.projections.covers(channel)
            methods = [m for m in self.methods if m in probe.projections.pictures] if projected else []
            self.save_grids(f"{channel}-on-{probe.name}", patches,
                            {m: probe.projections.pictures[m][probe.projections.row(channel)] for m in methods}, methods)
            sections.append({"name": probe.name, "images": probe.images, "predicted_labels": probe.predicted_labels, "tops": tops,
                             "max": float(stats["max"]), "mean": float(stats["mean"]),
                             "methods": [{"key": m, "title": PROJECTION_TITLES[m]} for m in methods]})
        return sections

    def channel_images(self, channel: int, rows: pd.DataFrame) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Write one channel's grids; return its top-k entries and its strongest patch."""
        page, g = self.page, self.geometry
        tops, patches, contexts = self.top_entries(self.own, rows)
        covered = channel in self.covered_set
        methods = self.methods if covered else []
        shown = methods + (self.failing if covered else [])
        self.save_grids(str(channel), patches, {m: self.projections.pictures[m][self.projections.row(channel)] for m in shown}, shown)
        save_png(grid(contexts, g.columns, GAP), self.image_path(f"{channel}-context"))
        epochs = sorted(page.evolution) if covered else []
        if epochs:
            row = self.covered.index(channel)
            strip = [g.patch(tile_rgb(page.evolution[e][row])) for e in epochs]
            save_png(grid(strip, len(strip), GAP), self.image_path(f"{channel}-evolution"))
        for kind in self.maximised if self._maximised(channel) else []:
            image = page.maximised[kind][page.maximised.row(channel)]
            shown = stretched(image) if kind == "noise" else pixels(image)
            save_png(g.whole(shown), self.image_path(f"{channel}-max-{kind}"))
        return tops, patches[0]

    def across_range(self, channel: int) -> list[dict[str, Any]]:
        """The channel's examples at each level of its positive responses (highest level first), their
        patches written as one grid: a row per level."""
        levels = self.own.levels
        if levels is None:
            return []
        rows = self.own.level_rows.get(channel)
        if rows is None:
            return []
        g = self.geometry
        h, w = g.cell()
        out, patches, columns = [], [], int(rows["rank"].max()) + 1
        for row_number, (level, group) in enumerate(rows.groupby("level", sort=False)):
            entries = []
            for row in group.itertuples():
                image = self.own.pictures[int(row.image)]
                box, origin, size = g.field.unit_geometry(int(row.y), int(row.x), g.height, g.width)
                patches.append((row_number, int(row.rank), g.patch(receptive_patch(image, box, origin, size))))
                label, predicted = int(self.own.label[int(row.image)]), int(self.own.predicted[int(row.image)])
                entries.append({"value": float(row.value), "image": int(row.image), "name": self.own.names[int(row.image)],
                                "label": self.classes[label], "predicted": self.classes[predicted], "correct": label == predicted,
                                "offset": (int(row.rank) * (w + GAP), row_number * (h + GAP))})
            first = group.iloc[0]
            low, high = float(first.bin_low), float(first.bin_high)
            top = float(self.own.rows[channel].value.iloc[0]) if channel in self.own.rows else 0.0  # the strongest response
            out.append({"level": float(level), "percentile": round(float(level) * 100), "low": low, "high": min(high, top),
                        "share": (low / top, min(high, top) / top) if top > 0 else None,
                        "positives": int(first.positives), "entries": entries})
        sheet = np.full((len(out) * (h + GAP) - GAP, columns * (w + GAP) - GAP, 3), 255, dtype=np.uint8)
        for row_number, rank, picture in patches:
            y, x = row_number * (h + GAP), rank * (w + GAP)
            sheet[y:y + h, x:x + w] = picture
        save_png(sheet, self.image_path(f"{channel}-levels"))
        merged: list[dict[str, Any]] = []  # levels in one bin (few images) share one row
        for level in out:
            if merged and merged[-1]["low"] == level["low"]:
                merged[-1]["percentiles"].append(level["percentile"])
            else:
                merged.append({**level, "percentiles": [level["percentile"]]})
        for level in merged:
            level["label"] = " and ".join(f"{p}th" for p in level["percentiles"]) + " percentile"
        return merged

    def _linked(self, layer: str, channel: int, strength: float) -> dict[str, Any]:
        page = self.page
        return {"layer": layer, "channel": channel, "strength": strength,
                "page": layout.channel_page(page.model, page.epoch, layer, channel),
                "sprite": layout.layer_image(page.model, page.epoch, layer, "sprite", self.ext),
                "sprite_x": (channel % SPRITE_COLUMNS) * THUMB, "sprite_y": (channel // SPRITE_COLUMNS) * THUMB}

    def connected(self, channel: int, images: int) -> dict[str, Any]:
        """The channels of the previous analysed layer that contribute most to this one (``reads``) and
        those of the next analysed layer it contributes to most (``feeds``), each with its signed
        strength (analyses.connections), strongest first; ``images``: the channel's positive top
        images the strengths are averaged over."""
        out: dict[str, Any] = {"images": images}
        mine = self.projections
        if mine.connections is not None and channel < len(mine.connections):
            ranked = strongest(mine.connections[channel][None], CONNECTIONS_SHOWN)[0]
            out["reads"] = {"layer": mine.connections_from,
                            "entries": [self._linked(mine.connections_from, j, v) for j, v in ranked]}
        if mine.feeds is not None and channel < len(mine.feeds):
            ranked = strongest(mine.feeds[channel][None], CONNECTIONS_SHOWN)[0]
            out["feeds"] = {"layer": mine.feeds_to, "entries": [self._linked(mine.feeds_to, i, v) for i, v in ranked]}
        return out if len(out) > 1 else {}

    def strongest_connections(self, count: int = 12) -> list[dict[str, Any]]:
        """The layer's strongest connections from the previous analysed layer, strongest first."""
        mine = self.projections
        if mine.connections is None:
            return []
        order = np.argsort(-np.abs(mine.connections), axis=None, kind="stable")[:count]
        rows, columns = np.unravel_index(order, mine.connections.shape)
        return [{"from": self._linked(mine.connections_from, int(j), float(mine.connections[i, j])),
                 "to": self._linked(self.page.layer, int(i), float(mine.connections[i, j]))}
                for i, j in zip(rows, columns, strict=True) if mine.connections[i, j] != 0]

    def channel_facets(self, channel: int) -> dict[str, Any] | None:
        """The channel's facets (their share, top class and strongest examples, the patches written
        as one grid: a row per facet) and its polysemanticity indicator; None without facets."""
        facets = self.own.facets
        if facets is None:
            return None
        rows = self.own.facet_rows.get(channel)
        if rows is None:
            return None
        g = self.geometry
        h, w = g.cell()
        out, columns = [], max(len(e) for e in rows.examples)
        sheet = np.full((len(rows) * (h + GAP) - GAP, columns * (w + GAP) - GAP, 3), 255, dtype=np.uint8)
        for row_number, row in enumerate(rows.itertuples()):
            entries = []
            for j, (image, value, y, x) in enumerate(zip(row.examples, row.example_values, row.example_ys, row.example_xs,
                                                         strict=True)):
                picture = self.own.pictures[int(image)]
                box, origin, size = g.field.unit_geometry(int(y), int(x), g.height, g.width)
                top, left = row_number * (h + GAP), j * (w + GAP)
                sheet[top:top + h, left:left + w] = g.patch(receptive_patch(picture, box, origin, size))
                label = int(self.own.label[int(image)])
                entries.append({"value": float(value), "image": int(image), "name": self.own.names[int(image)],
                                "label": self.classes[label], "offset": (left, top)})
            out.append({"facet": int(row.facet), "count": int(row.count), "share": float(row.share),
                        "top_class": self.classes[int(row.top_class)], "top_class_share": float(row.top_class_share),
                        "ties": int(getattr(row, "top_class_ties", 1)),
                        "entries": entries})
        save_png(sheet, self.image_path(f"{channel}-facets"))
        first = rows.iloc[0]
        return {"facets": out, "images": int(first.images), "kinds": int(first.kinds), "entropy": float(first.entropy),
                "too_few": int(first.images) < MIN_FACET_IMAGES, "min_split": MIN_FACET_IMAGES,
                "silhouette": None if first.silhouette != first.silhouette else float(first.silhouette)}

    def least(self, channel: int) -> dict[str, Any] | None:
        """The images the channel responds to least, written as one grid, where the ranking allows:
        not when they all tie (a ReLU channel silent on many images has no least-activating ones)."""
        info = self.stats.iloc[channel]
        if "lowest_values" not in info or len(info["lowest_values"]) == 0:
            return None
        values, images = np.asarray(info["lowest_values"]), np.asarray(info["lowest_images"])
        if values.min() == values.max():
            return {"tied": float(values[0]), "silent": int(np.asarray(info["histogram"])[0]) if "histogram" in info else None}
        g = self.geometry
        save_png(grid([g.whole(self.own.pictures[int(i)]) for i in images], g.columns, GAP),
                 self.image_path(f"{channel}-least"))
        return {"tied": None, "entries": [
            {"value": float(v), "image": int(i), "name": self.own.names[int(i)],
             "label": self.classes[int(self.own.label[int(i)])],
             "offset": g.offset(rank, context=True)} for rank, (v, i) in enumerate(zip(values, images, strict=True))]}

    def reached(self, channel: int) -> dict[str, float] | None:
        """The channel's mean activation on its optimised image and on its top-1 dataset image."""
        maximised = self.page.maximised
        if not self._maximised(channel) or "reference" not in maximised:
            return None
        row = maximised.row(channel)
        after, reference = float(maximised["after"][row]), float(maximised["reference"][row])
        return {"after": after, "reference": reference, "ratio": after / reference if reference > 0 else None}

    def reach_summary(self) -> dict[str, Any] | None:
        """Over the live channels with a maximised image: how many it excites more than their top-1
        dataset image, and the median ratio of the two mean activations."""
        dead = set(self.stats.channel[self.stats.dead].tolist())
        ratios = [r["ratio"] for c in self.covered if self._maximised(c) and c not in dead
                  for r in [self.reached(c)] if r is not None and r["ratio"] is not None]
        if not ratios:
            return None
        return {"channels": len(ratios), "beyond": sum(r > 1 for r in ratios), "median": float(np.median(ratios))}

    def layer_images(self, thumbs: list[np.ndarray]) -> None:
        """The sprite sheet of card thumbnails, the filter mosaic and the maximised mosaic."""
        page, g = self.page, self.geometry
        save_png(grid(thumbs, SPRITE_COLUMNS, gap=0) if thumbs else np.zeros((1, 1, 3), np.uint8), self.image_path("sprite"))
        for name, probe_thumbs in self.probe_thumbs.items():
            if probe_thumbs:
                save_png(grid(probe_thumbs, SPRITE_COLUMNS, gap=0), self.image_path(f"sprite-{name}"))
        if self.filters is not None:
            save_png(grid(self.filters, min(MOSAIC_COLUMNS, len(self.filters)), GAP), self.image_path("filters"))
        if self.maximised:
            shown = display_shape(g.height, g.width, SMALL, largest=SMALL)
            dead = set(self.stats.channel[self.stats.dead].tolist())
            grey = np.full((*shown, 3), 128, dtype=np.uint8)
            mosaic = [grey if c in dead else fit(stretched(page.maximised["noise"][page.maximised.row(c)]), shown)
                      for c in self.covered if self._maximised(c)]  # a dead channel's cell stays grey
            save_png(grid(mosaic, min(MOSAIC_COLUMNS, len(mosaic)), GAP), self.image_path("maximised"))

    def write(self) -> None:
        page = self.page
        common = self.common()
        channels = len(self.stats)
        thumbs, cards = [], []
        for channel, rows in self.index.groupby("channel", sort=True):
            card = _card(self.stats.iloc[channel], self.classes, channel)
            if self.filters is not None:  # the weights: shown for dead channels too
                save_png(self.filters[channel], self.image_path(f"{channel}-filter"))
            if card["dead"]:  # never positive: its "top" images are arbitrary ties at zero; none are shown
                tops = []
                thumbs.append(np.full((THUMB, THUMB, 3), 128, dtype=np.uint8))
            else:
                tops, strongest = self.channel_images(channel, rows)
                thumbs.append(resize_nearest(strongest, THUMB))
            if self.ablation is not None and channel in self.ablation.index:
                row = self.ablation.loc[channel]
                counts = _class_counts(page.predictions, int(row["images"]), len(self.classes))
                card["ablation"] = _ablation_effect(row, self.classes, counts)
            facets = None if card["dead"] else self.channel_facets(channel)
            card["kinds"], card["entropy"] = (facets["kinds"], facets["entropy"]) if facets else (None, None)
            probes = self.probe_sections(channel)
            card["probe_max"] = [section["max"] for section in probes]
            card["excited_most"] = _excited_most(page.dataset, card["max"], probes)
            cards.append(card)
            covered = channel in self.covered_set and not card["dead"]
            self.renderer.render(
                "channel.html", layout.channel_page(page.model, page.epoch, page.layer, channel),
                **{**common, "methods": common["methods"] if covered else [], "failing": common["failing"] if covered else [],
                   "evolution_epochs": common["evolution_epochs"] if covered else []},
                channel=card, tops=tops, probes=probes, own={"name": page.dataset, "images": page.probe_images,
                                                          "min_active": min_active_images(page.probe_images)},
                has_filter=self.filters is not None,
                maximised=self.maximised if self._maximised(channel) and not card["dead"] else [],
                reached=self.reached(channel), least=None if card["dead"] else self.least(channel),
                across=[] if card["dead"] else self.across_range(channel), top_value=float(tops[0]["value"]) if tops else 0.0,
                facets=facets, connected=self.connected(channel, int((rows.value > 0).sum())),
                facets_missing=facets is None and self.own.facets is not None and bool(len(self.own.facets))
                and not card["dead"],
                previous_channel=channel - 1 if channel > 0 else None,
                next_channel=channel + 1 if channel + 1 < channels else None)
        self.layer_images(thumbs)
        live = live_channels(self.stats, self.covered)
        self.renderer.render(
            "layer.html", layout.layer_page(page.model, page.epoch, page.layer), **common, cards=cards,
            thumb=THUMB, card_width=THUMB + CARD_TEXT_WIDTH, classes=self.classes,
            dead_fraction=float(self.stats["dead"].mean()) if channels else 0.0,
            overview=[live[i] for i in spread(len(live), page.overview_channels)],
            evolution=[live[i] for i in spread(len(live), page.evolution_channels)] if page.evolution else [],
            covered=self.covered if len(self.covered) < channels else None,
            has_filters=self.filters is not None, has_ablation=page.ablation is not None, has_facets=any(c["kinds"] is not None for c in cards),
            connections=self.strongest_connections(),
            min_active=min_active_images(page.probe_images), probe_images=page.probe_images,
            magnitude_floor=magnitude_floor(self.stats["max"].to_numpy()),
            ablation_images=int(page.ablation["images"].iloc[0]) if page.ablation is not None and len(page.ablation) else None,
            has_maximised=bool(self.maximised), reach=self.reach_summary(), mosaic_columns=min(MOSAIC_COLUMNS, sum(map(self._maximised, self.covered)) or 1),
            probe_sets=self.probe_sets(cards),
        )

    def probe_sets(self, cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each probe dataset (the model's own first): its size, its labels and how many channels it excites most."""
        page = self.page
        if not page.probes:
            return []
        sets = [{"name": page.dataset, "images": page.probe_images, "predicted_labels": page.predicted_labels, "sprite": "sprite"}]
        sets += [{"name": p.name, "images": p.images, "predicted_labels": p.predicted_labels, "sprite": f"sprite-{p.name}"} for p in page.probes]
        for entry in sets:
            entry["most"] = sum(1 for card in cards if card["excited_most"] == entry["name"])
        return sets


def render_layer(page: LayerPage, renderer: Renderer) -> Path:
    """Write the layer page, every channel page and their images; return the layer folder."""
    _LayerWriter(page, renderer).write()
    return renderer.path(layout.layer_dir(page.model, page.epoch, page.layer))
