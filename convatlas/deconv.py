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
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from .errors import LayerError
from .graph import ModelGraph
from .io import read_npz, write_npz

if TYPE_CHECKING:
    import pandas as pd

    from .data import ImageSet

Method = Literal["deconvnet", "guided"]
Branch = Literal["both", "trunk", "shortcut"]
METHODS = ("deconvnet", "guided")


class _DeconvReLU(torch.autograd.Function):
    """ReLU forward; the deconvnet's rectification of the signal going down."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


class _SavingReLU(torch.autograd.Function):
    """ReLU forward that keeps its input for a backward rule of a subclass."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)


class _GuidedReLU(_SavingReLU):
    """Guided backprop: the rectified signal, only where the forward input was positive."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0).to(grad.dtype)


class _RedirectedReLU(_SavingReLU):
    """Lets a tenth of the signal through where the unit was off, so that activation maximisation
    can wake a channel that no pixel of its start image excites."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.where(x > 0, 1.0, 0.1).to(grad.dtype)


def deconv_relu(x: torch.Tensor) -> torch.Tensor:
    return _DeconvReLU.apply(x)


def guided_relu(x: torch.Tensor) -> torch.Tensor:
    return _GuidedReLU.apply(x)


def redirected_relu(x: torch.Tensor) -> torch.Tensor:
    return _RedirectedReLU.apply(x)


_RELUS = {"deconvnet": deconv_relu, "guided": guided_relu, "redirected": redirected_relu}
_LINEAR_MODULES = (
    nn.Conv2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Dropout, nn.Identity, nn.Flatten,
)
_LINEAR_FUNCTIONS = {
    operator.add, operator.iadd, torch.add, torch.cat, torch.flatten, getattr, operator.getitem,
    F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.dropout,
}
_LINEAR_METHODS = {"view", "reshape", "flatten", "size", "contiguous", "add", "add_", "dim"}


def _ancestors(node: fx.Node) -> set[fx.Node]:
    seen, stack = set(), [node]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(current.all_input_nodes)
    return seen


class Projector:
    """Projects units of one layer to pixel space; build once, call for many batches."""

    def __init__(self, model: nn.Module, layer: str, input_shape: tuple[int, int, int],
                 method: Method = "deconvnet", branch: Branch = "both", graph: ModelGraph | None = None):
        if method not in (*METHODS, "redirected"):
            raise ValueError(f"unknown projection method {method!r}; use one of {', '.join(METHODS)}")
        model.eval()
        self.model, self.layer, self.method = model, layer, method
        self.graph = graph or ModelGraph(model, input_shape)
        self.graph.layer(layer)  # LayerError listing valid names when unknown
        target = self.graph.output_node[layer]
        needed = _ancestors(target)
        cut = self._branch_cut(target, branch)
        new_graph = fx.Graph()
        env: dict[fx.Node, fx.Node] = {}
        for node in self.graph.nodes:
            if node not in needed:
                continue
            if self.graph._is_relu(node):
                env[node] = new_graph.call_function(_RELUS[method], (env[node.all_input_nodes[0]],))
            elif method == "redirected":  # only the ReLUs change; the forward pass is the model's
                env[node] = new_graph.node_copy(node, lambda arg: env[arg])
            else:
                self._check_passable(node)
                env[node] = new_graph.node_copy(node, lambda arg: env[arg])
            if node is cut:
                env[node] = new_graph.call_method("detach", (env[node],))
        new_graph.output(env[target])
        self.module = fx.GraphModule(model, new_graph)

    def _check_passable(self, node: fx.Node) -> None:
        if node.op in ("placeholder", "get_attr", "output"):
            return
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
            "only convs, linear layers, batch norm, pools, dropout, shortcut sums, concatenation and ReLUs")

    @staticmethod
    def _owner(node: fx.Node) -> str:
        stack = [path for path in node.meta.get("nn_module_stack", {}) if "@" not in path]
        return stack[-1] if stack else "the model's forward"

    def _branch_cut(self, target: fx.Node, branch: Branch) -> fx.Node | None:
        """For ``trunk`` or ``shortcut``: the input of the layer's shortcut sum whose signal is cut."""
        if branch == "both":
            return None
        node = target
        while not self.graph._is_add(node):
            inputs = node.all_input_nodes
            if len(inputs) != 1 or not (self.graph._is_relu(node) or self.graph._is_passthrough(node)):
                raise LayerError(f"layer {self.layer!r} does not end in a shortcut sum; branch {branch!r} needs one")
            node = inputs[0]
        first, second = node.all_input_nodes[:2]

        def convs(start: fx.Node) -> int:
            return sum(
                1 for n in _ancestors(start)
                if n.op == "call_module" and isinstance(self.graph.modules.get(n.target), nn.Conv2d)
            )

        trunk, shortcut = (first, second) if convs(first) >= convs(second) else (second, first)
        return shortcut if branch == "trunk" else trunk

    def activations(self, images: torch.Tensor) -> torch.Tensor:
        """The layer's activations for a batch (no projection)."""
        with torch.no_grad():
            return self.module(images)

    def __call__(self, images: torch.Tensor, units: torch.Tensor) -> torch.Tensor:
        """Project unit ``units[i] = (channel, y, x)`` of image i; returns tensors of the images' shape.

        Each projection starts from that unit's actual activation, all other activations of the
        layer set to zero. For linear layers y and x are ignored.
        """
        units = torch.as_tensor(units, dtype=torch.long, device=images.device).view(-1, 3)
        if len(units) != len(images):
            raise ValueError(f"{len(images)} images but {len(units)} units: give one (channel, y, x) per image")
        inputs = images.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            out = self.module(inputs)
            rows = torch.arange(len(images), device=images.device)
            seed = torch.zeros_like(out)
            limits = torch.tensor(list(out.shape[1:]) + [1] * (4 - out.ndim), device=units.device)[: 3]
            if ((units < 0) | (units >= limits)).any():
                shape = "x".join(str(s) for s in out.shape[1:])
                raise ValueError(f"units {units.tolist()} lie outside layer {self.layer!r} of shape {shape}")
            if out.ndim == 4:
                seed[rows, units[:, 0], units[:, 1], units[:, 2]] = out[rows, units[:, 0], units[:, 1], units[:, 2]].detach()
            else:
                seed[rows, units[:, 0]] = out[rows, units[:, 0]].detach()
            (projection,) = torch.autograd.grad(out, inputs, grad_outputs=seed)
        return projection


def project(model: nn.Module, images: torch.Tensor, layer: str, units: Sequence[Sequence[int]] | torch.Tensor,
            method: Method = "deconvnet", branch: Branch = "both") -> torch.Tensor:
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
    input_shape: tuple[int, int, int],
    index: "pd.DataFrame",
    probe: "ImageSet",
    mean: Sequence[float],
    std: Sequence[float],
    methods: Sequence[str] = ("deconvnet",),
    branches: bool = False,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Project every (channel, rank) unit of ``layer`` in the index, in batches of ``batch_size``.

    Returns arrays (C, k, h, w, input channels) cropped to each unit's receptive field (zero where
    it leaves the image), one per method; with ``branches`` and a layer ending in a shortcut sum,
    also ``deconvnet_trunk`` and ``deconvnet_shortcut``. ``rank`` and ``channel`` order follow the index.
    """
    import sys

    from tqdm import tqdm

    from .data import normalise
    from .images import receptive_patch

    rows = index[index.layer == layer].sort_values(["channel", "rank"])
    channels, k = int(rows.channel.max()) + 1, int(rows["rank"].max()) + 1
    graph = ModelGraph(model, input_shape)
    field = graph.layer(layer).receptive_field
    height, width = input_shape[1:]
    rf_h, rf_w = field.size(height, width)
    variants = [(method, "both", method) for method in methods]
    if branches and "deconvnet" in methods:
        try:
            Projector(model, layer, input_shape, "deconvnet", "trunk", graph)
            variants += [("deconvnet", "trunk", "deconvnet_trunk"), ("deconvnet", "shortcut", "deconvnet_shortcut")]
        except LayerError:
            pass  # the layer has no shortcut sum of its own
    projectors = {key: Projector(model, layer, input_shape, method, branch, graph) for method, branch, key in variants}
    out = {key: np.zeros((channels, k, rf_h, rf_w, input_shape[0]), dtype=np.float32) for key in projectors}
    images = torch.from_numpy(rows.image.to_numpy(dtype=np.int64, copy=True))
    units = torch.from_numpy(rows[["channel", "y", "x"]].to_numpy(dtype=np.int64, copy=True))
    ranks = rows["rank"].to_numpy()
    chans = rows.channel.to_numpy()
    steps = range(0, len(rows), batch_size)
    for start in tqdm(steps, desc=f"project {layer}", file=sys.stderr, disable=not progress,
                      mininterval=1.0 if sys.stderr.isatty() else 15.0):
        chosen = slice(start, start + batch_size)
        inputs = normalise(probe.images(images[chosen]).to(device), mean, std)
        geometry = [field.unit_geometry(y, x, height, width) for _, y, x in units[chosen].tolist()]
        for key, projector in projectors.items():
            projected = projector(inputs, units[chosen].to(device)).permute(0, 2, 3, 1).cpu().numpy()
            for i, (box, origin, size) in enumerate(geometry):
                out[key][chans[start + i], ranks[start + i]] = receptive_patch(projected[i], box, origin, size, fill=0.0)
    return out


def write_projections(path: str | os.PathLike, projections: dict[str, np.ndarray]) -> None:
    """Save projections (method -> array) as an .npz, atomically."""
    write_npz(path, projections)


def read_projections(path: str | os.PathLike) -> dict[str, np.ndarray]:
    return read_npz(path)


def project_checkpoint_layer(
    checkpoint: str | os.PathLike, index_path: str | os.PathLike, dataset: dict, layer: str,
    out_path: str | os.PathLike, methods: Sequence[str], branches: bool, batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> None:
    """The rule's work: load a checkpoint and its index, project the layer's top-k, save them."""
    import pandas as pd

    from .checkpoint import load_checkpoint
    from .data import probe_set

    model, meta = load_checkpoint(checkpoint, device)
    size = meta["image_size"]
    projections = project_top_k(
        model, layer, (meta["in_channels"], size, size), pd.read_parquet(index_path),
        probe_set(dataset, meta["dataset"]), meta["mean"], meta["std"], methods, branches, batch_size, device)
    write_projections(out_path, projections)
