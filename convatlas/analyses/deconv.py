"""Projecting a unit's activation back to pixel space: Zeiler & Fergus's deconvnet, and guided backprop.

A deconvnet passes a signal down the network the way a gradient goes: max pools route it to the
recorded switches (the positions of the maxima), convs and linear layers apply their transposed
weights (no bias), batch norm in eval mode passes its linear part, and shortcut sums hand the whole
signal to both paths. Only the ReLU differs: the deconvnet rectifies the signal going down,
``relu(signal)``; guided backpropagation (Springenberg et al. 2015) also masks it by where the
forward input was positive; a plain gradient only masks.

So a projection is autograd over a copy of the model's fx graph, up to the analysed layer, in which
every ReLU is replaced by one with that backward rule. Any other operation on the way down that is
not linear (or a max) is refused with an error naming it.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..core.crops import receptive_patch
from ..core.errors import LayerError
from ..core.logs import progress
from ..nn.graph import ModelGraph
from ..nn.rules import RELU_RULES
from ..nn.surgery import ancestors, upto_layer
from ..nn.units import unit_gradient
from ..results.artifacts import Projections
from .relevance import RULES, RelevanceProjector
from .sanity import split_kind

if TYPE_CHECKING:
    import pandas as pd

    from ..data.model_inputs import ModelInputs

BackwardRule = Literal["deconvnet", "guided"]  # how a projection passes a ReLU backwards
Branch = Literal["both", "trunk", "shortcut"]
METHODS = ("deconvnet", "guided")  # projections of this module
PICTURE_METHODS = (*METHODS, *RULES)  # and the relevance heatmaps of :mod:`convatlas.analyses.relevance`
_LINEAR_MODULES = (
    nn.Conv2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Dropout, nn.Identity, nn.Flatten, nn.ZeroPad2d, nn.ConstantPad2d,
)
_LINEAR_FUNCTIONS = {
    operator.add, operator.iadd, torch.add, torch.cat, torch.flatten, getattr, operator.getitem,
    F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.dropout, F.pad,
    F.conv2d, F.linear, F.batch_norm,
}
_LINEAR_METHODS = {"view", "reshape", "flatten", "size", "contiguous", "add", "add_", "dim"}


class Projector:
    """Projects units of one layer to pixel space; build once, call for many batches."""

    def __init__(self, model: nn.Module, layer: str, input_shape: tuple[int, int, int],
                 method: BackwardRule = "deconvnet", branch: Branch = "both", graph: ModelGraph | None = None):
        if method not in (*METHODS, "redirected"):
            raise ValueError(f"unknown projection method {method!r}; use one of {', '.join(METHODS)}")
        model.eval()
        self.model, self.layer, self.method = model, layer, method
        self.graph = graph or ModelGraph(model, input_shape)
        self.graph.layer(layer)  # LayerError listing valid names when unknown
        target = self.graph.output_node[layer]
        check = None if method == "redirected" else self._check_passable  # redirected: only the ReLUs change
        self.module = upto_layer(self.graph, layer, RELU_RULES[method], check, self._branch_cut(target, branch),
                                 hold_gates=method != "redirected")

    def _check_passable(self, node: fx.Node) -> None:
        if node.op in ("placeholder", "get_attr", "output") or self.graph.is_smooth(node) or self.graph.gate(node):
            return  # smooth activations pass the signal times their derivative; gates are held constant
        if node.op == "call_module":
            module = self.graph.modules[node.target]
            if isinstance(module, _LINEAR_MODULES):
                return
            what = f"module {node.target} ({type(module).__name__})"
        elif node.op == "call_function":
            if node.target in _LINEAR_FUNCTIONS:
                return
            what = f"function {getattr(node.target, '__name__', node.target)} (in {self._owner(node)})"
        else:
            if node.target in _LINEAR_METHODS:
                return
            what = f"method .{node.target}() (in {self._owner(node)})"
        raise LayerError(
            f"the {self.method} projection to layer {self.layer!r} cannot pass down through {what}: "
            "only convs (grouped and depthwise too), linear layers, batch norm, pools, dropout, shortcut sums, "
            "concatenation, the ReLU family (ReLU, ReLU6, LeakyReLU, clamps from 0), smooth activations "
            "(SiLU, GELU, Hardswish, sigmoid, tanh, ...) and channel gates (features x a (C, 1, 1) gate)")

    @staticmethod
    def _owner(node: fx.Node) -> str:
        stack = [path for path in node.meta.get("nn_module_stack", {}) if "@" not in path]
        return stack[-1] if stack else "the model's forward"

    def _branch_cut(self, target: fx.Node, branch: Branch) -> tuple[fx.Node, fx.Node] | None:
        """For ``trunk`` or ``shortcut``: the layer's shortcut sum and its operand whose signal is cut."""
        if branch == "both":
            return None
        node = target
        while not self.graph.is_add(node):
            inputs = node.all_input_nodes
            if len(inputs) != 1 or not (self.graph.is_relu(node) or self.graph.is_passthrough(node)):
                raise LayerError(f"layer {self.layer!r} does not end in a shortcut sum; branch {branch!r} needs one")
            node = inputs[0]
        first, second = node.all_input_nodes[:2]

        def convs(start: fx.Node) -> int:
            return sum(
                1 for n in ancestors(start)
                if n.op == "call_module" and isinstance(self.graph.modules.get(n.target), nn.Conv2d)
            )

        trunk, shortcut = (first, second) if convs(first) >= convs(second) else (second, first)
        return node, (shortcut if branch == "trunk" else trunk)

    def activations(self, images: torch.Tensor) -> torch.Tensor:
        """The layer's activations for a batch (no projection)."""
        with torch.no_grad():
            return self.module(images)

    def __call__(self, images: torch.Tensor, units: torch.Tensor, seed: float | None = None) -> torch.Tensor:
        """Project unit ``units[i] = (channel, y, x)`` of image i; returns tensors of the images' shape.

        Each projection starts from that unit's actual activation (or from ``seed``, e.g. 1, to
        compare models whose activations differ), all other activations of the layer set to zero.
        For linear layers y and x are 0 (:func:`convatlas.nn.units.unit_gradient`).
        """
        return unit_gradient(self.module, images, units, self.layer, seed)[1]


def projector_for(model: nn.Module, layer: str, input_shape: tuple[int, int, int], kind: str,
                  graph: ModelGraph | None = None, mean: Sequence[float] = (0.0,),
                  std: Sequence[float] = (1.0,)) -> Projector | RelevanceProjector:
    """What makes the pictures of ``kind`` (a method, or ``deconvnet_trunk`` / ``deconvnet_shortcut``);
    ``mean`` and ``std``: the model's input normalisation (LRP's first layer needs the pixels' range)."""
    method, branch = split_kind(kind)
    if method in RULES:
        return RelevanceProjector(model, layer, input_shape, method, graph, mean, std)
    return Projector(model, layer, input_shape, method, branch, graph)


def project(model: nn.Module, images: torch.Tensor, layer: str, units: Sequence[Sequence[int]] | torch.Tensor,
            method: BackwardRule = "deconvnet", branch: Branch = "both") -> torch.Tensor:
    """Project one unit per image of ``layer`` back to pixel space.

    ``images`` (N, C, H, W) are normalised model inputs; ``units`` holds one (channel, y, x) per
    image. Returns (N, C, H, W): for each image, the deconvnet (or guided backprop) projection of
    that unit's actual activation. ``branch`` ("trunk" or "shortcut") projects through one path of
    the layer's own shortcut sum only.
    """
    projector = Projector(model, layer, tuple(images.shape[1:]), method, branch)
    return projector(images, torch.as_tensor(units))


def project_top_k(
    model: nn.Module,
    layer: str,
    index: pd.DataFrame,
    inputs: ModelInputs,
    methods: Sequence[str] = ("deconvnet",),
    branches: bool = False,
    channels: Sequence[int] | None = None,
    tile: Callable[[np.ndarray], np.ndarray] | None = None,
    graph: ModelGraph | None = None,
) -> Projections:
    """Project every (channel, rank) unit of ``layer`` in the index (over the images of ``inputs``), a
    batch of units at a time.

    Returns the :class:`~convatlas.results.artifacts.Projections`: per method, arrays
    (len(channels), k, h, w, input channels) cropped to the window around each unit's receptive
    field (zero where it leaves the image), a row per channel of ``channels`` (default: every
    channel); with ``branches`` and a layer ending in a shortcut sum, also ``deconvnet_trunk`` and
    ``deconvnet_shortcut``. Ranks follow the index.
    ``tile`` turns each cropped (h, w, input channels) float projection into what is kept (e.g. a
    display-ready uint8 picture, :func:`convatlas.site.images.display_tile`), so the full-size
    float projections of a layer are never held at once. ``graph``: the model's, when already traced.
    """
    rows = index[index.layer == layer].sort_values(["channel", "rank"])
    k = int(rows["rank"].max()) + 1
    chosen_channels = sorted(set(int(c) for c in channels)) if channels is not None else sorted(rows.channel.unique().tolist())
    rows = rows[rows.channel.isin(chosen_channels)]
    rows_of = Projections(np.asarray(chosen_channels, dtype=np.int64))
    input_shape = inputs.shape
    graph = graph or ModelGraph(model, input_shape)
    field = graph.layer(layer).receptive_field
    height, width = input_shape[1:]
    rf_h, rf_w = field.size(height, width)
    kinds = list(methods)
    if branches and "deconvnet" in methods:
        try:
            Projector(model, layer, input_shape, "deconvnet", "trunk", graph)
            kinds += ["deconvnet_trunk", "deconvnet_shortcut"]
        except LayerError:
            pass  # the layer has no shortcut sum of its own
    projectors = {kind: projector_for(model, layer, input_shape, kind, graph, inputs.mean, inputs.std) for kind in kinds}
    keep = tile or (lambda patch: patch.astype(np.float32, copy=False))
    out = {}
    for key, projector in projectors.items():
        depth = 1 if isinstance(projector, RelevanceProjector) else input_shape[0]  # heatmaps: one channel
        blank = keep(np.zeros((rf_h, rf_w, depth), dtype=np.float32))
        out[key] = np.zeros((len(chosen_channels), k, *blank.shape), dtype=blank.dtype)
    images = torch.from_numpy(rows.image.to_numpy(dtype=np.int64, copy=True))
    units = torch.from_numpy(rows[["channel", "y", "x"]].to_numpy(dtype=np.int64, copy=True))
    ranks = rows["rank"].to_numpy()
    chans = np.asarray(rows_of.rows(rows.channel), dtype=np.int64)
    steps = range(0, len(rows), inputs.batch_size)
    for start in progress(steps, f"project {layer}", enabled=inputs.show_progress):
        chosen = slice(start, start + inputs.batch_size)
        batch = inputs.take(images[chosen])
        geometry = [field.unit_geometry(y, x, height, width) for _, y, x in units[chosen].tolist()]
        for key, projector in projectors.items():
            projected = projector(batch, units[chosen].to(batch.device)).permute(0, 2, 3, 1).cpu().numpy()
            for i, (box, origin, size) in enumerate(geometry):
                out[key][chans[start + i], ranks[start + i]] = keep(receptive_patch(projected[i], box, origin, size, fill=0.0))
    rows_of.pictures = out
    return rows_of
