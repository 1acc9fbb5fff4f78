"""Relevance pictures of a unit: Layer-wise Relevance Propagation (LRP) restricted to that unit, via
zennit, and gradient x input as the cheap alternative.

Concept relevance propagation (Achtibat et al. 2023, zennit-crp) shows a unit by its reference
images: each top image masked by the unit's relevance heatmap, so what is kept is the part of the
image the unit's response comes from. Unlike a deconvnet without max-pool switches, the heatmap
follows the image (relevance is proportional to the activations it passes through), and it is made
of the model's weights.

LRP here is zennit's ``EpsilonGammaBox`` composite: the ZBox rule for the first conv (bounded by the
pixels' range, 0 to 1 normalised as the model normalises its input), the gamma rule (gamma 0.25) for
every other conv, epsilon for linear layers; activations pass relevance unchanged, batch norm is
merged into the conv before it (zennit's ``MergeBatchNorm``), shortcut sums share relevance in
proportion to their operands (zennit's ``Sum`` and its ``Norm`` rule, as zennit's ResNet canonizer
does), and squeeze-and-excitation gates are held constant (they scale the relevance of their
channel). The model is traced once (:class:`convatlas.nn.graph.ModelGraph`), so any architecture
torch.fx can trace is handled, not only ``nn.Sequential`` ones. zennit-crp's usual
``EpsilonPlusFlat`` (flat first layer, z+ elsewhere) was measured too, on the default atlas's trained
models: its unit heatmaps barely change with the image (median tile correlation 0.88-1.00) nor with
re-initialised weights (rank correlation 0.53-0.94 at 7 of 9 layers), so it fails the sanity checks
where the gamma rule's pass (docs/analyses.md).

A heatmap is the relevance (or gradient x input) of each pixel summed over colour channels; one unit
is propagated per image, starting from its own activation, all others zero.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Literal

import torch
import torch.fx as fx
from torch import nn
from zennit.canonizers import MergeBatchNorm
from zennit.composites import EpsilonGammaBox
from zennit.layer import Sum
from zennit.types import BatchNorm, Linear

from ..nn.graph import ModelGraph
from ..nn.surgery import upto_layer
from ..nn.units import unit_gradient
from .sanity import HEATMAP_METHODS

Rule = Literal["relevance", "gradient_input"]
RULES = HEATMAP_METHODS
GAMMA = 0.25  # the gamma rule's weight on positive contributions (zennit's default)


def pixel_bounds(mean: Sequence[float], std: Sequence[float], channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The lowest and highest model input, (1, C, 1, 1) each: pixels 0 and 1 normalised by ``mean``
    and ``std`` (what the ZBox rule of the first layer needs)."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32).expand(channels).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).expand(channels).view(1, -1, 1, 1)
    return (0 - mean_t) / std_t, (1 - mean_t) / std_t


class GraphMergeBatchNorm(MergeBatchNorm):
    """zennit's batch-norm merge for a traced graph: every batch norm whose only input is a conv or
    linear layer used nowhere else (zennit's own canonizer finds such pairs only in ``nn.Sequential``)."""

    def apply(self, root_module: fx.GraphModule) -> list[MergeBatchNorm]:
        modules = dict(root_module.named_modules())
        instances = []
        for node in root_module.graph.nodes:
            if node.op != "call_module" or not isinstance(modules.get(node.target), BatchNorm):
                continue
            source = node.args[0] if node.args else None
            if (isinstance(source, fx.Node) and source.op == "call_module" and len(source.users) == 1
                    and isinstance(modules.get(source.target), Linear)):
                instance = self.copy()
                instance.register([modules[source.target]], modules[node.target])
                instances.append(instance)
        return instances


def _sum_shortcuts(module: fx.GraphModule, graph: ModelGraph) -> None:
    """Replace every sum of two activations of the same shape by zennit's ``Sum`` of their stack, so
    the ``Norm`` rule shares relevance in proportion to the operands (a plain gradient would hand
    each operand all of it)."""
    count = 0
    for node in list(module.graph.nodes):
        operands = node.args[:2]
        if not graph.is_add(node) or len(node.args) != 2 or node.kwargs or not all(
                isinstance(a, fx.Node) and a.op != "get_attr" for a in operands):
            continue
        shapes = [a.meta.get("tensor_meta") for a in operands]
        if any(s is None or not hasattr(s, "shape") for s in shapes) or shapes[0].shape != shapes[1].shape:
            continue
        name = f"relevance_sum_{count}"
        count += 1
        module.add_submodule(name, Sum(dim=-1))
        with module.graph.inserting_before(node):
            stacked = module.graph.call_function(torch.stack, (list(operands),), {"dim": -1})
            summed = module.graph.call_module(name, (stacked,))
        node.replace_all_uses_with(summed)
        module.graph.erase_node(node)
    module.recompile()


class RelevanceProjector:
    """Heatmaps of units of one layer: LRP (``relevance``) or ``gradient_input``; build once, call for
    many batches, with the interface of :class:`convatlas.analyses.deconv.Projector`."""

    def __init__(self, model: nn.Module, layer: str, input_shape: tuple[int, int, int],
                 rule: Rule = "relevance", graph: ModelGraph | None = None,
                 mean: Sequence[float] = (0.0,), std: Sequence[float] = (1.0,)):
        if rule not in RULES:
            raise ValueError(f"unknown relevance rule {rule!r}; use one of {', '.join(RULES)}")
        model.eval()
        self.layer, self.rule = layer, rule
        self.graph = graph or ModelGraph(model, input_shape)
        self.graph.layer(layer)  # LayerError listing valid names when unknown
        module = upto_layer(self.graph, layer, hold_gates=True)
        if rule == "relevance":
            module = copy.deepcopy(module)  # the canonizer rewrites weights: never the user's model
            for child in module.modules():
                if getattr(child, "inplace", False):
                    child.inplace = False  # zennit's hooks need the activations' own outputs
            _sum_shortcuts(module, self.graph)
            low, high = pixel_bounds(mean, std, input_shape[0])
            EpsilonGammaBox(low, high, gamma=GAMMA, canonizers=[GraphMergeBatchNorm()]).register(module)
        self.module = module.eval()

    def __call__(self, images: torch.Tensor, units: torch.Tensor, seed: float | None = None) -> torch.Tensor:
        """(N, 1, H, W): the heatmap of unit ``units[i] = (channel, y, x)`` of image i, propagated from
        that unit's activation (or from ``seed``), summed over colour channels."""
        inputs, gradient = unit_gradient(self.module, images, units, self.layer, seed)
        heat = gradient if self.rule == "relevance" else gradient * inputs
        return heat.sum(dim=1, keepdim=True)
