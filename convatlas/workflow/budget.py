"""What an atlas will cost before it runs: work per stage, CPU time, disk; and the size-aware defaults
that keep a CPU run of a large model short.

The work is counted from the traced graph (multiply-accumulates and activation sizes up to each
layer), so the choices are deterministic: the same config gives the same jobs on any machine. The
time of one forward pass is modelled as ``GMACs × SECONDS_PER_GMAC + activation MB ×
SECONDS_PER_MB`` (one CPU thread; fitted to ResNet-18, EfficientNet-Lite0 and MobileNetV3-Small at
224 px on a 2-core AMD EPYC, where the three took 0.061, 0.059 and 0.009 s per image); the plan
(:mod:`convatlas.workflow.plan_file`) rescales it by a forward/backward pass measured on the machine
that runs the workflow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from torch import nn

SECONDS_PER_GMAC = 0.0245  # one thread, channels-last, float32
SECONDS_PER_MB = 0.00053  # of activations written (memory-bound layers: depthwise convs, batch norms)
BACKWARD_FACTOR = 3.4  # a forward + backward pass, in forward passes (measured 3.3-3.7 on the three nets)
JOB_START_SECONDS = 6.0  # a job's python, torch and library imports, model loading
PAGE_SECONDS = {"png": 0.025, "jpg": 0.025}  # one channel page with its pictures (512 ResNet-18 pages: 11 s)
PAGE_JOB_START_SECONDS = 1.0  # page jobs import no torch
DECODE_SECONDS = 0.008  # decoding and resizing one photo-sized JPEG
CPU_BUDGET_SECONDS = 20 * 60 * 2 * 0.6  # 20 minutes on 2 cores, with 40% kept for what the model misses
PICTURE_COST = {"relevance": 5}  # projections of a kind of picture, in deconvnet projections (bench/picture_cost.py: 17.7 s vs 3.4-4.4 s)
SMALL_INPUT = 64  # px: inputs up to this size are cheap; every default applies as it is
PICTURE_BYTES = {"png": 0.2, "jpg": 0.15}  # bytes per shown pixel of a page's pictures, as saved (JPEG: 0.07-0.23)
PAGE_BYTES = 8_000  # a channel page's HTML


@dataclass
class LayerCost:
    """One analysed layer's size and the cost of reaching it."""

    name: str
    channels: int
    gmacs: float  # forward multiply-accumulates from the input to the layer, per image (G)
    activation_mb: float  # activations written from the input to the layer, per image (MB)
    receptive: tuple[int, int]  # the receptive field's window (px)

    def forward_seconds(self) -> float:
        return self.gmacs * SECONDS_PER_GMAC + self.activation_mb * SECONDS_PER_MB


def conv_macs(module: nn.Module, output_shape: tuple[int, ...]) -> float:
    """Multiply-accumulates of one image through a conv or linear module with this output shape."""
    count = math.prod(output_shape)
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        kernel = module.kernel_size[0] * module.kernel_size[1]
        return count * (module.in_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return count * module.in_features
    return 0.0


def layer_costs(graph, names: list[str]) -> list[LayerCost]:
    """The :class:`LayerCost` of each named layer of a :class:`convatlas.nn.graph.ModelGraph`."""
    macs = mb = 0.0
    reached: dict[Any, tuple[float, float]] = {}
    for node in graph.nodes:
        shape = graph.shape(node)
        if shape is not None and node.op in ("call_module", "call_function", "call_method"):
            module = graph.modules.get(node.target) if node.op == "call_module" else None
            macs += conv_macs(module, shape) if module is not None else 0.0
            mb += 4 * math.prod(shape) / 2**20
        reached[node] = (macs, mb)
    height, width = graph.input_shape[1:]
    costs = []
    for name in names:
        layer = graph.layer(name)
        gmacs, act = reached[graph.output_node[name]]
        costs.append(LayerCost(name, layer.channels, gmacs / 1e9, act, layer.receptive_field.size(height, width)))
    return costs


@dataclass
class Choices:
    """Size-aware defaults for one model and why they were chosen."""

    layers: list[str]
    branches: bool
    reasons: list[str] = field(default_factory=list)
    maximise_scale: float = 1.0  # the share of the configured maximisation steps kept


def spread_names(names: list[str], count: int) -> list[str]:
    """``count`` of ``names`` spread evenly over their order, the first and the last included."""
    if count >= len(names):
        return list(names)
    if count <= 1:
        return names[-1:]
    return [names[round(i * (len(names) - 1) / (count - 1))] for i in range(count)]


@dataclass
class Work:
    """What one model's analysis does: images, layers, channels per stage, and their estimated cost."""

    images: int
    layers: list[LayerCost]
    covered: dict[str, int]  # layer -> channels with projections
    top_k: int
    variants: dict[str, int]  # layer -> projection methods and branches
    side: int
    trained_epochs: int = 0
    train_images: int = 0
    checkpoints_mb: float = 0.0  # the saved checkpoints (and their copies under train/)
    maximise: dict[str, int] | None = None  # steps, octaves, from_top1, class_steps, classes (None: no maximise section)
    occlusion: dict[str, int] | None = None  # images, windows, positions (per window) (None: no occlusion section)

    @property
    def ext(self) -> str:
        return "jpg" if self.side > SMALL_INPUT else "png"

    def forward_seconds(self) -> float:
        return self.layers[-1].forward_seconds() if self.layers else 0.0

    def projections(self, layer: LayerCost) -> int:
        return self.covered[layer.name] * self.top_k * self.variants[layer.name]

    def connections_seconds(self, previous: LayerCost | None, layer: LayerCost) -> float:
        """The connections between two consecutive analysed layers (analyses.connections): what each
        channel of ``layer`` reads and what each channel of ``previous`` feeds, over their top images;
        the model up to ``previous`` once per distinct top image, the part between the layers forward
        and backward (or forward-mode) once per top unit."""
        if previous is None:
            return 0.0
        units = (layer.channels + previous.channels) * self.top_k
        between = max(layer.forward_seconds() - previous.forward_seconds(), 0.0)
        return min(self.images, units) * previous.forward_seconds() + units * BACKWARD_FACTOR * between

    def stages(self, full_forward: float | None = None) -> dict[str, dict[str, Any]]:
        """Per stage: jobs, what they count and estimated CPU seconds (one thread). ``full_forward``
        is the seconds of one image's forward pass through the whole model (default: the model)."""
        forward = full_forward if full_forward is not None else self.forward_seconds()
        decode = DECODE_SECONDS if self.side > SMALL_INPUT else 0.0
        scale = forward / self.forward_seconds() if self.forward_seconds() > 0 else 1.0
        deconv = {layer.name: (self.projections(layer) * BACKWARD_FACTOR * layer.forward_seconds()
                               + self.connections_seconds(previous, layer)) * scale
                  for previous, layer in zip([None, *self.layers[:-1]], self.layers, strict=True)}
        channels = sum(layer.channels for layer in self.layers)
        training = self.trained_epochs * self.train_images * BACKWARD_FACTOR * forward
        stages = {
            "train": {"jobs": 1, "images": self.images, "epochs": self.trained_epochs,
                      "seconds": JOB_START_SECONDS + training + self.images * (forward + decode)},
            "index": {"jobs": 1, "images": self.images, "layers": len(self.layers),
                      "seconds": JOB_START_SECONDS + self.images * (1.3 * forward + decode)},
            "deconv": {"jobs": len(self.layers), "projections": sum(self.projections(la) for la in self.layers),
                       "per_layer": {name: round(s, 1) for name, s in deconv.items()},
                       "seconds": JOB_START_SECONDS * len(self.layers) + sum(deconv.values())},
            "pages": {"jobs": len(self.layers) + 3, "channel_pages": channels,
                      "seconds": PAGE_JOB_START_SECONDS * (len(self.layers) + 3) + channels * PAGE_SECONDS[self.ext]},
        }
        if self.maximise is not None:
            m = self.maximise
            per_channel = m["steps"] * m["octaves"] + m["from_top1"]  # optimisation steps, each a forward + backward
            layers = {layer.name: self.covered[layer.name] * per_channel * BACKWARD_FACTOR * layer.forward_seconds() * scale
                      for layer in self.layers}
            classes = m["classes"] * m["class_steps"] * m["octaves"] * BACKWARD_FACTOR * forward
            stages["maximise"] = {"jobs": len(self.layers) + 1, "steps": m["steps"], "class_steps": m["class_steps"],
                                  "per_layer": {name: round(s, 1) for name, s in layers.items()},
                                  "seconds": JOB_START_SECONDS * (len(self.layers) + 1) + sum(layers.values()) + classes}
        if self.occlusion is not None:  # every occluded copy is a forward pass (an upper bound: incremental reuses some)
            o = self.occlusion
            passes = o["images"] * o["windows"] * o["positions"]
            stages["occlusion"] = {"jobs": 1, "images": o["images"], "forward_passes": passes,
                                   "seconds": JOB_START_SECONDS + passes * forward + o["images"] * 3 * BACKWARD_FACTOR * forward}
        return stages

    def cpu_seconds(self, full_forward: float | None = None) -> float:
        return sum(stage["seconds"] for stage in self.stages(full_forward).values())

    def layer_seconds(self) -> float:
        """The CPU seconds that fewer layers or steps would save: all but occlusion's (which has its
        own lighter defaults and does not depend on the analysed layers)."""
        stages = self.stages()
        return sum(stage["seconds"] for name, stage in stages.items() if name != "occlusion")

    def disk_mb(self) -> dict[str, float]:
        """Estimated size of the results and the site (MB)."""
        from ..site.images import display_shape

        results = site = 0.0
        whole = display_shape(self.side, self.side)
        for layer in self.layers:
            h, w = display_shape(*layer.receptive)
            stored = layer.receptive if max(layer.receptive) <= 112 else (h, w)  # tiles are kept at most 112 px
            results += self.projections(layer) * stored[0] * stored[1] * 3 * 0.4 / 2**20  # deflated uint8 tiles
            every = self.top_k * (h * w + 2 * whole[0] * whole[1])  # patches, in context, least activating
            covered = self.top_k * h * w * (self.variants[layer.name] + 1)  # projections, evolution
            pixels = layer.channels * every + self.covered[layer.name] * covered
            site += (pixels * PICTURE_BYTES[self.ext] + layer.channels * PAGE_BYTES) / 2**20
        channels = sum(layer.channels for layer in self.layers)
        results += (channels * (self.top_k * 40 + 2_000) + self.images * 40) / 2**20  # index, statistics, predictions
        results += self.checkpoints_mb
        return {"results": round(results, 1), "site": round(site, 1)}


MIN_MAXIMISE_SCALE = 1 / 8  # maximisation keeps at least an eighth of its configured steps


def choose(graph, default_layers: list[str], work_of, on_gpu: bool, side: int, fixed_steps: bool = True) -> Choices:
    """Size-aware defaults: on a GPU, or for inputs up to 64 px, every default layer with branch
    projections; on a CPU at larger sizes, no separate trunk/shortcut projections and, while the
    estimate exceeds the budget, first fewer activation-maximisation steps (halved, down to an eighth,
    unless ``fixed_steps``: the config sets them), then fewer layers (spread over the depth, first
    and last kept). ``work_of(layers, branches, maximise_scale)`` gives the :class:`Work` of a choice."""
    if on_gpu or side <= SMALL_INPUT:
        return Choices(list(default_layers), True, [])
    reasons = [f"CPU run at {side} px: trunk and shortcut projections are skipped (deconv.branches: true adds them)"]
    count, scale = len(default_layers), 1.0

    def over() -> bool:
        return work_of(spread_names(default_layers, count), False, scale).layer_seconds() > CPU_BUDGET_SECONDS

    while not fixed_steps and scale > MIN_MAXIMISE_SCALE and over():
        scale /= 2
    while count > 1 and over():
        count -= 1
    chosen = spread_names(default_layers, count)
    budget = f"keep the estimate within {CPU_BUDGET_SECONDS / 60:.0f} CPU-minutes"
    if scale < 1:
        reasons.append(f"activation maximisation takes 1/{round(1 / scale)} of its configured steps to {budget} "
                       "(maximise.steps and class_steps set them)")
    if count < len(default_layers):
        reasons.append(f"{count} of the {len(default_layers)} default layers, spread over the depth, {budget} "
                       f"(analysis.layers lists others)")
    return Choices(chosen, False, reasons, scale)
