"""Typed result files: each knows its own keys, and reads and writes itself.

- :class:`IndexManifest` — the index run's ``layers.json``: epoch, classes, layers (shape and
  receptive field), how the images were labelled and where the weights came from;
- :class:`ModelSummary` — a model's ``summary.json``: what it is, its accuracy with each n, its
  training log and analysed layers;
- :class:`AblationExperiments` — a checkpoint's ``ablation/experiments.json``: each named
  experiment's :class:`ExperimentResult` with its matched random draws;
- :class:`FindingsReport` — a model's ``findings.json``: each Zeiler & Fergus claim tested;
- :class:`Projections` — a layer's ``deconv/<layer>.npz``: one array per kind of picture with a row
  per projected channel, the sanity checks and (first conv only) the filters;
- :class:`ChannelArrays` — any array file with a row per channel of its ``channels`` array (the
  maximised images);
- :class:`OcclusionStudy` — a checkpoint's ``occlusion.npz``: the occlusion maps per window, each
  image's strongest unit with its pictures, and the gradient attributions;
- :class:`InvarianceStrips`, :class:`CorrespondenceDesign`, :class:`FeatureMaps`,
  :class:`ClassImages` — the other arrays and designs that a later job or page reads.

No other module reads these files' keys.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..core.io import read_json, read_npz, write_json, write_npz

CHECK_PREFIX = "check_"


class ChannelRows:
    """Rows in the order of a ``channels`` array: ``row(c)`` is channel ``c``'s row."""

    channels: np.ndarray

    def _rows(self) -> dict[int, int]:
        if getattr(self, "_row_of", None) is None:
            self._row_of = {int(c): i for i, c in enumerate(self.channels)}
        return self._row_of

    def row(self, channel: int) -> int:
        """The row of ``channel``; KeyError naming it when it has none."""
        try:
            return self._rows()[int(channel)]
        except KeyError:
            raise KeyError(f"channel {channel} has no row (rows cover {len(self.channels)} channels)") from None

    def rows(self, channels: Iterable[int]) -> list[int]:
        return [self.row(c) for c in channels]

    def covers(self, channel: int) -> bool:
        return int(channel) in self._rows()


@dataclass
class Projections(ChannelRows):
    """A layer's projections: ``pictures[kind]`` is (n, k, h, w, depth), row i for ``channels[i]``."""

    channels: np.ndarray
    pictures: dict[str, np.ndarray] = field(default_factory=dict)
    checks: dict[str, np.ndarray] = field(default_factory=dict)  # check_tiles_<kind>, check_random_<kind>: one per row
    filters: np.ndarray | None = None  # (C, in, kh, kw): the first conv's weights, at its layer
    connections: np.ndarray | None = None  # (channels of the layer, channels of connections_from): row c for channel c
    connections_from: str | None = None  # the previous analysed layer
    feeds: np.ndarray | None = None  # (channels of the layer, channels of feeds_to): what each channel feeds each later one
    feeds_to: str | None = None  # the next analysed layer

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Projections:
        arrays = dict(arrays)
        channels = np.asarray(arrays.pop("channels"), dtype=np.int64)
        filters = arrays.pop("filters", None)
        connections = arrays.pop("connections", None)
        connections_from = str(arrays.pop("connections_from")) if "connections_from" in arrays else None
        feeds = arrays.pop("feeds", None)
        feeds_to = str(arrays.pop("feeds_to")) if "feeds_to" in arrays else None
        checks = {key: arrays.pop(key) for key in list(arrays) if key.startswith(CHECK_PREFIX)}
        return cls(channels, arrays, checks, filters, connections, connections_from, feeds, feeds_to)

    @classmethod
    def read(cls, path: str | os.PathLike) -> Projections:
        return cls.from_arrays(read_npz(path))

    @staticmethod
    def read_channels(path: str | os.PathLike) -> np.ndarray:
        """Only the channels projected (the small array; the pictures stay on disk)."""
        with np.load(path) as arrays:
            return arrays["channels"].astype(np.int64)

    @staticmethod
    def read_checks(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], bool]:
        """Only the sanity checks, and whether the file holds the filters."""
        with np.load(path) as arrays:
            return {key: arrays[key] for key in arrays.files if key.startswith(CHECK_PREFIX)}, "filters" in arrays.files

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {**self.pictures, **self.checks, "channels": np.asarray(self.channels, dtype=np.int64)}
        if self.filters is not None:
            arrays["filters"] = self.filters
        if self.connections is not None:
            arrays["connections"], arrays["connections_from"] = self.connections, np.asarray(self.connections_from)
        if self.feeds is not None:
            arrays["feeds"], arrays["feeds_to"] = self.feeds, np.asarray(self.feeds_to)
        return arrays

    def write(self, path: str | os.PathLike) -> None:
        write_npz(path, self.to_arrays(), compress=True)

    def top(self, kind: str, channels: Sequence[int], rank: int = 0) -> np.ndarray:
        """The ``rank``-th picture of ``kind`` for each of ``channels``: (len(channels), h, w, depth)."""
        return self.pictures[kind][self.rows(channels), rank]


@dataclass
class ChannelArrays(ChannelRows):
    """Arrays with a row per channel of ``channels`` (e.g. the maximised images: ``noise``, ``top1``)."""

    channels: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | os.PathLike) -> ChannelArrays:
        arrays = read_npz(path)
        channels = arrays.pop("channels", None)
        if channels is None:  # one row per channel of the layer
            channels = np.arange(len(next(iter(arrays.values()))) if arrays else 0)
        return cls(np.asarray(channels, dtype=np.int64), arrays)

    def write(self, path: str | os.PathLike) -> None:
        write_npz(path, {**self.arrays, "channels": np.asarray(self.channels, dtype=np.int64)})

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


@dataclass(frozen=True)
class LayerRecord:
    """An analysed layer as the index run recorded it: shape and receptive field (size, jump, start per axis)."""

    name: str
    kind: str
    shape: list[int]
    whole: bool
    rf_y: list[int]
    rf_x: list[int]

    @classmethod
    def of(cls, layer: Any) -> LayerRecord:
        """From a :class:`convatlas.nn.graph.Layer`."""
        field_ = layer.receptive_field
        return cls(layer.name, layer.kind, list(layer.shape), field_.whole,
                   [field_.y.size, field_.y.jump, field_.y.start], [field_.x.size, field_.x.jump, field_.x.start])

    def receptive_field(self):
        from ..core.geometry import Axis, ReceptiveField

        return ReceptiveField(Axis(*self.rf_y), Axis(*self.rf_x), whole=self.whole)


@dataclass
class IndexManifest:
    """What one index run covered (``layers.json``): its checkpoint's epoch, the images and how they
    were labelled, the classes, the layers, and where the weights came from."""

    epoch: int
    ranking: str
    top_k: int
    probe_images: int  # how many images were indexed
    classes: list[str]
    layers: list[LayerRecord]
    provenance: str | None = None  # for a model analysed as loaded: its weights' origin
    dataset: str | None = None  # the probe dataset indexed (None: the model's own)
    predicted_labels: bool = False  # the images' classes are the model's predictions
    shards: int = 1

    def layer(self, name: str) -> LayerRecord:
        for record in self.layers:
            if record.name == name:
                return record
        raise KeyError(f"layer {name!r} is not in the index run's manifest (it has {[r.name for r in self.layers]})")

    @classmethod
    def read(cls, path: str | os.PathLike) -> IndexManifest:
        data = read_json(path)
        return cls(
            epoch=int(data["epoch"]), ranking=data["ranking"], top_k=int(data["top_k"]),
            probe_images=int(data["probe_images"]), classes=list(data["classes"]),
            layers=[LayerRecord(**record) for record in data["layers"]], provenance=data.get("provenance"),
            dataset=data.get("dataset"), predicted_labels=data.get("labels", "true") == "predicted",
            shards=int(data.get("shards", 1)))

    def write(self, path: str | os.PathLike) -> None:
        write_json(path, {
            "epoch": self.epoch, "ranking": self.ranking, "top_k": self.top_k, "probe_images": self.probe_images,
            "classes": self.classes, "provenance": self.provenance, "dataset": self.dataset,
            "labels": "predicted" if self.predicted_labels else "true", "shards": self.shards,
            "layers": [asdict(record) for record in self.layers]})


@dataclass(frozen=True)
class SummaryLayer:
    """An analysed layer as a model page lists it."""

    name: str
    kind: str
    shape: list[int]
    channels: int
    receptive_field: int | None  # pixels a side (None: the whole image)


@dataclass
class ModelSummary:
    """What the index, model, comparison and findings pages show about a model (``summary.json``),
    from its last checkpoint and training log. Accuracies are fractions; ``per_class_images`` is the
    n of each class accuracy; ``provenance`` is set for a model analysed as loaded."""

    name: str
    arch: str
    params: dict[str, Any]
    class_name: str
    dataset: str
    dataset_kind: str
    classes: list[str]
    input_shape: list[int]
    parameters: int
    trainable_parameters: int
    epoch: int
    layers: list[SummaryLayer]
    train_log: list[dict[str, Any]] = field(default_factory=list)
    provenance: str | None = None
    test_accuracy: float | None = None
    test_images: int | None = None
    test_split: str | None = None
    test_top5_accuracy: float | None = None
    test_loss: float | None = None
    per_class_accuracy: list[float] = field(default_factory=list)
    per_class_images: list[int] | None = None

    @classmethod
    def read(cls, path: str | os.PathLike) -> ModelSummary:
        data = dict(read_json(path))
        data["layers"] = [SummaryLayer(**layer) for layer in data["layers"]]
        return cls(**data)

    def write(self, path: str | os.PathLike) -> None:
        write_json(path, asdict(self))


@dataclass
class FindingsReport:
    """A model's replication report (``findings.json``): each claim as
    :class:`convatlas.analyses.findings.Finding` records it (claim, test, estimate, interval, n, verdict)."""

    model: str
    epoch: int
    findings: list[dict[str, Any]]

    @property
    def verdicts(self) -> list[str]:
        """Each finding's verdict, in order."""
        return [finding["verdict"] for finding in self.findings]

    @classmethod
    def read(cls, path: str | os.PathLike) -> FindingsReport:
        data = read_json(path)
        return cls(data["model"], int(data["epoch"]), list(data["findings"]))

    def write(self, path: str | os.PathLike) -> None:
        write_json(path, asdict(self))


@dataclass(frozen=True)
class Flip:
    """An image an ablation turned from right to wrong: its index, true class and new prediction."""

    image: int
    label: int
    now: int


@dataclass
class ControlDraw:
    """A random draw of as many channels per layer as an experiment switched off, and what it cost."""

    channels: dict[str, list[int]]
    accuracy_after: float
    change_interval: list[float]


@dataclass
class ExperimentResult:
    """Channels switched off together (``channels``: layer -> channels) and what it did on ``images``
    images: accuracy before and after (overall and per class), the confusion matrices (rows: true
    class), the images that flipped to wrong, how many were recovered, the 95% interval of the change
    and the matched random draws it is compared with (``controls``; none for named or random ones)."""

    channels: dict[str, list[int]]
    accuracy_before: float
    accuracy_after: float
    class_accuracy_before: list[float]
    class_accuracy_after: list[float]
    confusion_before: list[list[int]]
    confusion_after: list[list[int]]
    flipped: list[Flip]
    recovered: int
    images: int
    change_interval: list[float]
    controls: list[ControlDraw] = field(default_factory=list)

    @property
    def change(self) -> float:
        """Accuracy after minus before (a fraction)."""
        return self.accuracy_after - self.accuracy_before

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentResult:
        data = dict(data)
        data["flipped"] = [Flip(**flip) for flip in data["flipped"]]
        data["controls"] = [ControlDraw(**control) for control in data.get("controls", [])]
        return cls(**data)


@dataclass
class AblationExperiments:
    """A checkpoint's named ablation experiments (``ablation/experiments.json``): the classes and
    number of images they were measured on, each experiment's result and its kind (``channels``,
    ``top_selectivity`` or ``random``)."""

    classes: list[str]
    images: int
    experiments: dict[str, ExperimentResult]
    kinds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | os.PathLike) -> AblationExperiments:
        data = read_json(path)
        return cls(list(data["classes"]), int(data["images"]),
                   {name: ExperimentResult.from_dict(result) for name, result in data["experiments"].items()},
                   dict(data.get("kinds", {})))

    def write(self, path: str | os.PathLike) -> None:
        write_json(path, asdict(self))


OCCLUSION_MAPS = ("activity", "probability", "predicted")  # per window: the feature map, true-class probability, class
ATTRIBUTION_KINDS = ("saliency", "guided", "gradcam")  # per class (true, predicted)


@dataclass
class OcclusionStudy:
    """The occlusion analysis of one checkpoint (``occlusion.npz``): for each occluded image (its
    index among the probe images, class, prediction and clean true-class probability), its strongest
    feature map at ``layer`` and that map's top unit (channel, y, x) with its deconvnet projection and
    gradient x input heatmap; per window, the maps of the feature's activity, the true-class
    probability and the predicted class over the square's positions; and, per class (true,
    predicted), the gradient attributions."""

    layer: str
    windows: list[int]
    stride: int
    images: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    probability: np.ndarray
    channels: np.ndarray
    units: np.ndarray  # (N, 3)
    projection: np.ndarray  # (N, H, W, C)
    heatmap: np.ndarray  # (N, H, W, 1)
    maps: dict[str, dict[int, np.ndarray]]  # activity | probability | predicted -> window -> (N, h, w)
    attributions: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # true | predicted -> kind -> maps
    field_boxes: np.ndarray | None = None  # (N, 4) the top unit's receptive field, added for the pages

    def map(self, kind: str, window: int, image: int) -> np.ndarray:
        """Image ``image``'s (row's) map of ``kind`` under squares of ``window`` px."""
        return self.maps[kind][window][image]

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> OcclusionStudy:
        windows = [int(w) for w in arrays["windows"]]
        attributions = {cls_kind: {kind: arrays[f"{kind}_{cls_kind}"] for kind in ATTRIBUTION_KINDS}
                        for cls_kind in ("true", "predicted") if f"saliency_{cls_kind}" in arrays}
        return cls(
            layer=str(arrays["layer"]), windows=windows, stride=int(arrays["stride"]), images=np.asarray(arrays["images"]),
            labels=np.asarray(arrays["labels"]), predicted=np.asarray(arrays["predicted"]),
            probability=np.asarray(arrays["probability"]), channels=np.asarray(arrays["channels"]),
            units=np.asarray(arrays["units"]), projection=arrays["projection"], heatmap=arrays["heatmap"],
            maps={kind: {w: arrays[f"{kind}_{w}"] for w in windows} for kind in OCCLUSION_MAPS},
            attributions=attributions, field_boxes=arrays.get("field_boxes"))

    @classmethod
    def read(cls, path: str | os.PathLike) -> OcclusionStudy:
        return cls.from_arrays(read_npz(path))

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "layer": np.asarray(self.layer), "windows": np.asarray(self.windows), "stride": np.asarray(self.stride),
            "images": self.images, "labels": self.labels, "predicted": self.predicted, "probability": self.probability,
            "channels": self.channels, "units": self.units, "projection": self.projection, "heatmap": self.heatmap,
            **{f"{kind}_{w}": values for kind, by_window in self.maps.items() for w, values in by_window.items()},
            **{f"{kind}_{cls_kind}": values for cls_kind, by_kind in self.attributions.items()
               for kind, values in by_kind.items()},
        }
        if self.field_boxes is not None:
            arrays["field_boxes"] = self.field_boxes
        return arrays

    def write(self, path: str | os.PathLike) -> None:
        write_npz(path, self.to_arrays())

    @staticmethod
    def read_images(path: str | os.PathLike) -> list[int]:
        """Only the occluded images' indices."""
        with np.load(path) as arrays:
            return [int(i) for i in arrays["images"]]


@dataclass
class InvarianceStrips:
    """The transformed copies the invariance page shows (``invariance.npz``): per transformation,
    uint8 (steps, images shown, C, H, W), and the first and top layer whose distances were measured."""

    strips: dict[str, np.ndarray]
    first_layer: str
    top_layer: str

    @classmethod
    def read(cls, path: str | os.PathLike) -> InvarianceStrips:
        arrays = read_npz(path)
        first, top = str(arrays.pop("first_layer")), str(arrays.pop("top_layer"))
        return cls(arrays, first, top)

    def write(self, path: str | os.PathLike) -> None:
        write_npz(path, {**self.strips, "first_layer": np.asarray(self.first_layer), "top_layer": np.asarray(self.top_layer)})


@dataclass
class CorrespondenceDesign:
    """What the correspondence analysis used (``correspondence.json``): the class, its images, the
    part boxes (``[top, left, bottom, right]``, end excluded) and the layers."""

    cls: str
    images: list[int]
    boxes: dict[str, list[int]]
    layers: list[str]

    @classmethod
    def read(cls, path: str | os.PathLike) -> CorrespondenceDesign:
        data = read_json(path)
        return cls(data["class"], [int(i) for i in data["images"]], {k: list(v) for k, v in data["boxes"].items()},
                   list(data["layers"]))

    def write(self, path: str | os.PathLike) -> None:
        write_json(path, {"class": self.cls, "images": self.images, "boxes": self.boxes, "layers": self.layers})


@dataclass
class FeatureMaps:
    """Every analysed layer's maps for the first probe images (``feature_maps.npz``): the images (uint8
    (N, C, H, W)), their labels and predicted classes, the class names and, per layer, (N, ...) maps."""

    images: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    classes: list[str]
    maps: dict[str, np.ndarray]

    @classmethod
    def read(cls, path: str | os.PathLike) -> FeatureMaps:
        arrays = read_npz(path)
        maps = {key[len("map "):]: value for key, value in arrays.items() if key.startswith("map ")}
        return cls(arrays["images"], arrays["labels"], arrays["predicted"], [str(c) for c in arrays["classes"]], maps)

    def write(self, path: str | os.PathLike) -> None:
        write_npz(path, {"images": self.images, "labels": self.labels, "predicted": self.predicted,
                         "classes": np.asarray(self.classes), **{f"map {name}": m for name, m in self.maps.items()}})


@dataclass
class ClassImages:
    """Images that maximise each chosen class's logit (``maximise/classes.npz``): [0, 1] pixels
    (N, H, W, C), the probability each reaches, the classes' indices and names."""

    images: np.ndarray
    probability: np.ndarray
    indices: np.ndarray
    classes: list[str]

    @classmethod
    def read(cls, path: str | os.PathLike) -> ClassImages:
        arrays = read_npz(path)
        return cls(arrays["images"], arrays["probability"], arrays["indices"], [str(c) for c in arrays["classes"]])

    @staticmethod
    def read_classes(path: str | os.PathLike) -> list[str]:
        with np.load(path) as arrays:
            return [str(c) for c in arrays["classes"]]

    def write(self, path: str | os.PathLike) -> None:
        write_npz(path, {"images": self.images, "probability": self.probability, "indices": self.indices,
                         "classes": np.asarray(self.classes)})
