"""What the workflow plans before any job runs: input shapes and analysed layers per model.

Everything here is derived from the config alone (an untrained model is built and traced), so the
Snakefile can lay out one job per (model, epoch, layer).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..analyses.part_boxes import part_box
from ..core.errors import ConfigError, LayerError
from ..data.sources import analysed_count, dataset_classes
from .config import checkpoint_epochs
from .datasets import dataset_spec
from .input_scaling import occlusion_positions, resolved_occlusion, scaled_windows


def dataset_shape(dataset: dict[str, Any]) -> tuple[int, int, int]:
    """(channels, height, width) of a dataset's images as the model sees them."""
    kind, size = dataset["kind"], dataset.get("image_size")
    if kind in ("fashion-mnist", "mnist"):
        channels, native = 1, 28
    elif kind == "cifar10":
        channels, native = 3, 32
    elif kind == "synthetic":
        params = dataset_spec(dataset).synthetic
        channels, native = params.channels, params.size
    else:  # imagefolder: RGB, the centre crop (image_size stands for it)
        side = dataset.get("crop") or size
        return dataset.get("channels") or 3, side, side
    side = size or native
    return dataset.get("channels") or channels, side, side


@cache
def _graph(arch: str, params_yaml: str, shape: tuple[int, int, int]):
    """The traced graph of an untrained model of ``arch`` for inputs of ``shape`` (built once per parse)."""
    from ..models import build_model
    from ..nn.graph import ModelGraph

    return ModelGraph(build_model(arch, shape[0], 2, shape[1], yaml.safe_load(params_yaml)), shape)


@cache
def _layers(arch: str, params_yaml: str, shape: tuple[int, int, int], names: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(layer.name for layer in _graph(arch, params_yaml, shape).select(list(names) if names else None))


TRAIN_IMAGES = {"fashion-mnist": 60000, "mnist": 60000, "cifar10": 50000}  # the training splits' sizes


def training_split_mb(dataset: dict[str, Any]) -> float:
    """The memory a job that trains on ``dataset`` holds for its training split (MB): the images as
    bytes and one float32 copy (an image folder is read batch by batch: nothing held)."""
    if dataset["kind"] == "imagefolder":
        return 0.0
    count = dataset_spec(dataset).synthetic.train_count if dataset["kind"] == "synthetic" else TRAIN_IMAGES[dataset["kind"]]
    channels, height, width = dataset_shape(dataset)
    return count * channels * height * width * 5 / 2**20


def model_graph(config: dict[str, Any], model_name: str):
    """The traced graph of a configured model, untrained (built once per parse)."""
    model = config["models"][model_name]
    return _graph(model["arch"], yaml.safe_dump(model["params"]), dataset_shape(config["datasets"][model["dataset"]]))


def model_footprint(config: dict[str, Any], model_name: str, layers: list[str] | None = None):
    """The memory footprint (:class:`convatlas.workflow.memory.Footprint`) of a configured model
    whose analysed layers are ``layers`` (None: its default ones)."""
    from .memory import graph_footprint

    model = config["models"][model_name]
    shape = dataset_shape(config["datasets"][model["dataset"]])
    return graph_footprint(_graph(model["arch"], yaml.safe_dump(model["params"]), shape), layers)


def analysed_layers(config: dict[str, Any], model_name: str, on_gpu: bool = False) -> list[str]:
    """The analysed layers of a configured model (``analysis.layers``, or the size-aware default
    choice of :func:`model_plan`); a ConfigError names an unknown layer."""
    if not config.get("analysis", {}).get("layers"):
        return model_plan(config, model_name, on_gpu).layers
    return _named_layers(config, model_name, config["analysis"]["layers"])


def _named_layers(config: dict[str, Any], model_name: str, names: list[str] | None) -> list[str]:
    model = config["models"][model_name]
    shape = dataset_shape(config["datasets"][model["dataset"]])
    try:
        return list(_layers(model["arch"], yaml.safe_dump(model["params"]), shape, tuple(names) if names else None))
    except LayerError as error:
        raise ConfigError("analysis.layers", f"{error} (model {model_name})") from error


@dataclass
class ModelPlan:
    """What the workflow will do for one analysed model, chosen before any job runs."""

    model: str
    layers: list[str]  # the analysed layers
    default_layers: list[str]  # the graph's default layers (before a size-aware choice)
    branches: bool  # trunk and shortcut projections
    work: Any  # convatlas.workflow.budget.Work of this choice
    reasons: list[str]
    maximise: dict[str, Any] | None = None  # the maximise section with the chosen steps (None: no section)
    unanalysed: list[str] = field(default_factory=list)  # convs whose output reaches no activation
    occlusion: dict[str, Any] | None = None  # the occlusion section with windows and stride worked out (None: no section)

    def summary(self) -> dict[str, Any]:
        """The plan as plain data (for results/plan.json and the run page)."""
        stages = self.work.stages()
        return {"model": self.model, "layers": self.layers, "default_layers": len(self.default_layers),
                "branches": self.branches, "images": self.work.images, "input_side": self.work.side,
                "channels": {la.name: la.channels for la in self.work.layers}, "covered": self.work.covered,
                "top_k": self.work.top_k, "stages": stages, "cpu_seconds": round(sum(s["seconds"] for s in stages.values()), 1),
                "disk_mb": self.work.disk_mb(), "reasons": self.reasons, "unanalysed_convs": self.unanalysed}


def model_plan(config: dict[str, Any], model_name: str, on_gpu: bool = False,
               given: dict[str, Any] | None = None) -> ModelPlan:
    """The layers, branch projections, maximisation steps and work of an analysed model: the
    configured ones, with size-aware defaults (:func:`convatlas.workflow.budget.choose`) where the
    config leaves them open. ``given`` is the config as the user wrote it (before defaults were
    filled: what it sets is never changed); default: ``config``."""
    from ..analyses.channel_selection import selected_channels
    from ..jobs.maximise import MAX_CLASS_IMAGES
    from .budget import PICTURE_COST, SMALL_INPUT, Work, choose, layer_costs
    from .memory import weights_mb

    model = config["models"][model_name]
    dataset = config["datasets"][model["dataset"]]
    shape = dataset_shape(dataset)
    graph = _graph(model["arch"], yaml.safe_dump(model["params"]), shape)
    analysis, deconv = config.get("analysis", {}), config.get("deconv", {})
    default_layers = _named_layers(config, model_name, None)
    images = analysed_count(dataset_spec(dataset, model["dataset"]))
    methods = sum(PICTURE_COST.get(m, 1) for m in deconv.get("methods", ["deconvnet", "gradient_input"]))
    kinds = {layer.name: layer.kind for layer in graph.layers}
    maximise = config.get("maximise")
    given_maximise = (given if given is not None else config).get("maximise") or {}
    checkpoints_mb = 2 * weights_mb(graph.model) * len(checkpoint_epochs(model))  # each checkpoint, and its copy under train/

    def steps_at(scale: float) -> dict[str, Any] | None:
        """The maximise section with its step counts scaled (at least 1 each)."""
        if maximise is None:
            return None
        top1 = maximise.get("from_top1")
        return {**maximise, "steps": max(1, round(maximise["steps"] * scale)),
                "class_steps": max(1, round(maximise["class_steps"] * scale)),
                "from_top1": {**top1, "steps": max(1, round(top1["steps"] * scale))} if top1 else top1}

    occlusion, light = None, not on_gpu and shape[1] > SMALL_INPUT
    if config.get("occlusion") is not None:  # on a CPU at photo sizes, auto windows and stride are lighter
        occlusion = resolved_occlusion(config["occlusion"], shape[1], light)
        classes_present = len(dataset_classes(dataset_spec(dataset))) or (1000 if model.get("classes") == "imagenet" else images)
        occluded = {"images": min(images, occlusion["images_per_class"] * classes_present),
                    "windows": len(occlusion["windows"]), "positions": occlusion_positions(shape[1], occlusion["stride"])}

    def work_of(layers: list[str], branches: bool, maximise_scale: float = 1.0) -> Work:
        costs = layer_costs(graph, layers)
        covered = {c.name: len(selected_channels(c.channels, analysis.get("channels_per_layer", "auto"), shape[1], on_gpu))
                   for c in costs}
        variants = {c.name: methods + (2 if branches and kinds.get(c.name) == "block" else 0) for c in costs}
        train_images = TRAIN_IMAGES.get(dataset["kind"], 0)
        scaled = steps_at(maximise_scale)
        counts = None if scaled is None else {
            "steps": scaled["steps"], "octaves": scaled["octaves"], "class_steps": scaled["class_steps"],
            "from_top1": scaled["from_top1"]["steps"] if scaled["from_top1"] else 0,
            "classes": min(len(dataset_classes(dataset_spec(dataset))) if model.get("classes") is None else 1000, MAX_CLASS_IMAGES)}
        return Work(images, costs, covered, analysis.get("top_k", 9), variants, shape[1], model["epochs"], train_images,
                    checkpoints_mb, counts, occluded if occlusion is not None else None)

    scale = 1.0
    if analysis.get("layers"):
        layers, branches, reasons = _named_layers(config, model_name, analysis["layers"]), True, ["analysis.layers lists them"]
    else:
        fixed_steps = maximise is None or any(key in given_maximise for key in ("steps", "class_steps"))
        choice = choose(graph, default_layers, work_of, on_gpu, shape[1], fixed_steps)
        layers, branches, reasons, scale = choice.layers, choice.branches, choice.reasons, choice.maximise_scale
    setting = deconv.get("branches", "auto")
    if setting != "auto":
        branches = bool(setting)
    if setting != "auto" or not any(kinds.get(name) == "block" for name in layers):  # set by hand, or no shortcut blocks
        reasons = [r for r in reasons if "trunk and shortcut" not in r]
    if occlusion is not None and light and "auto" in (config["occlusion"]["windows"], config["occlusion"]["stride"]):
        reasons.append(f"occlusion: squares of {', '.join(map(str, occlusion['windows']))} px every {occlusion['stride']} px "
                       f"({len(occlusion['windows'])} x {occluded['positions']} forward passes per image) on a CPU at "
                       f"{shape[1]} px (occlusion.windows and stride set them)")
    return ModelPlan(model_name, layers, default_layers, branches, work_of(layers, branches, scale), reasons,
                     steps_at(scale), [] if analysis.get("layers") else list(graph.unanalysed_convs), occlusion)


def index_shards(config: dict[str, Any]) -> int:
    """Shard jobs per index pass: ``analysis.shards``, or with ``auto`` one per ``analysis.shard_images``
    images of the largest probe set any analysed model is indexed over (rounded up)."""
    shards = config["analysis"]["shards"]
    if shards != "auto":
        return int(shards)
    names = {name for model in config["models"] for name in probe_names(config, model)}
    largest = max(analysed_count(dataset_spec(config["datasets"][name], name)) for name in sorted(names))
    return max(1, -(-largest // config["analysis"]["shard_images"]))


OPTIONAL_SECTIONS = ("occlusion", "correspondence", "invariance", "ablation", "maximise", "linear_probes", "feature_maps")
"""Analysis sections that run only when the configuration has them."""


def sections(config: dict[str, Any]) -> dict[str, bool]:
    """Which optional parts of the atlas a (validated) configuration runs: each optional section,
    ``transfer`` (when it names models) and ``variants`` (when it has any)."""
    present = {name: config.get(name) is not None for name in OPTIONAL_SECTIONS}
    present["transfer"] = bool(config.get("transfer", {}).get("models"))
    present["variants"] = bool(config.get("variants"))
    return present


def page_epochs(config: dict[str, Any], model_name: str) -> list[int]:
    """The checkpoint epochs that get layer and channel pages (``site.epochs``)."""
    epochs = checkpoint_epochs(config["models"][model_name])
    return epochs if config.get("site", {}).get("epochs") == "all" else epochs[-1:]


def check_analyses(config: dict[str, Any]) -> None:
    """Check the analysis settings against each model's input size and classes (ConfigError names the key)."""
    maximise = config.get("maximise", {})
    if maximise.get("start") == "photo":
        if not maximise.get("photo"):
            raise ConfigError("maximise.photo", "start: photo needs a photo file")
        if not Path(maximise["photo"]).expanduser().is_file():
            raise ConfigError("maximise.photo", f"file {maximise['photo']!r} does not exist")
    transfer = config.get("transfer", {})
    for name in transfer.get("models", []):
        if name not in config["models"]:
            raise ConfigError("transfer.models", f"{name!r} names no model (defined: {', '.join(sorted(config['models']))})")
        classes = dataset_classes(dataset_spec(config["datasets"][config["models"][name]["dataset"]]))
        for key in ("source_classes", "target_classes"):
            bad = [c for c in transfer[key] if c >= len(classes)]
            if bad:
                raise ConfigError(f"transfer.{key}", f"class {bad[0]} does not exist ({len(classes)} classes in the data of {name})")
        if set(transfer["source_classes"]) & set(transfer["target_classes"]):
            raise ConfigError("transfer.target_classes", "must not share classes with transfer.source_classes")
    for name, model in config["models"].items():
        dataset = config["datasets"][model["dataset"]]
        _, height, width = dataset_shape(dataset)
        occlusion = config.get("occlusion", {})
        windows = occlusion.get("windows", [])
        for window in scaled_windows(max(height, width)) if windows == "auto" else windows:
            if window > max(height, width):
                raise ConfigError("occlusion.windows", f"window {window} is larger than the {height}x{width} images of {model['dataset']}")
        if occlusion.get("layer"):
            try:
                _layers(model["arch"], yaml.safe_dump(model["params"]), dataset_shape(dataset), (occlusion["layer"],))
            except LayerError as error:
                raise ConfigError("occlusion.layer", f"{error} (model {name})") from error
        correspondence = config.get("correspondence", {})
        if correspondence:
            classes = dataset_classes(dataset_spec(dataset))
            named_outputs = model["epochs"] == 0 and model["classes"] is not None  # checked by the job
            if correspondence["class"] is not None and correspondence["class"] not in classes and not named_outputs:
                raise ConfigError("correspondence.class", f"{correspondence['class']!r} is not a class of {model['dataset']} ({', '.join(classes)})")
            for part, spec in correspondence["parts"].items():
                y0, x0, y1, x1 = part_box(spec, height, width)
                if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
                    raise ConfigError(f"correspondence.parts.{part}", f"box {spec} lies outside the {height}x{width} images of {model['dataset']}")


def probe_names(config: dict[str, Any], model_name: str) -> list[str]:
    """The datasets indexed for a model: its own dataset first, then the other ``probe`` datasets."""
    model = config["models"][model_name]
    return [model["dataset"], *[name for name in model.get("probe", []) if name != model["dataset"]]]


def fitted_probe(config: dict[str, Any], model_name: str, probe: str) -> dict[str, Any]:
    """A probe dataset's config with its images fitted to the model's input: the model's channels,
    and its side (image folders keep their resize-to-crop ratio, e.g. 256 -> 224)."""
    own = config["datasets"][config["models"][model_name]["dataset"]]
    channels, side, _ = dataset_shape(own)
    dataset = dict(config["datasets"][probe])
    probe_channels, probe_side, _ = dataset_shape(dataset)
    if probe_channels != channels:
        dataset["channels"] = channels
    if probe_side != side:
        if dataset["kind"] == "imagefolder":
            ratio = (dataset.get("resize") or probe_side) / probe_side
            dataset.update(crop=side, image_size=side, resize=round(side * ratio))
        else:
            dataset["image_size"] = side
    return dataset
