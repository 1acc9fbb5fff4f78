"""Graph surgery on a traced model: the network up to a layer (with a ReLU backward rule), the network
cut in two at a layer, and the rest of the network from an activation. Used by projections,
activation maximisation, occlusion and ablation alike."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..core.errors import LayerError
from .graph import ModelGraph, _ancestors


def ancestors(node: fx.Node) -> set[fx.Node]:
    """``node`` and every node it depends on."""
    return _ancestors(node)


def upto_layer(
    graph: ModelGraph,
    layer: str,
    relu: Callable[[torch.Tensor], torch.Tensor] | None = None,
    check: Callable[[fx.Node], None] | None = None,
    detach: tuple[fx.Node, fx.Node] | None = None,
    hold_gates: bool = False,
) -> fx.GraphModule:
    """The network from its input to the output of ``layer``.

    ``relu`` replaces every member of the ReLU family (a rule of :mod:`convatlas.nn.rules`, called
    with the input, the rectifier's ``upper`` and its ``slope``); ``check`` is called
    on every other node (to refuse what cannot be passed down); ``detach = (sum, operand)`` cuts that one
    operand of a shortcut sum from the backward pass (only at that sum: the same activation may also
    feed the other path, as a block's input feeds both its trunk and its identity shortcut); ``hold_gates`` holds the gate of every
    ``features * gate`` product (squeeze-and-excitation) constant, so the signal going down is
    scaled by the gate and nothing goes down the gate's branch (whose operations, e.g. a ``.mean()``,
    are then not checked).
    """
    target = graph.output_node[layer]
    needed = ancestors(target)
    gated = graph.gate_branches() if hold_gates else set()  # held constant: nothing goes down them
    new_graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    for node in graph.nodes:
        if node not in needed:
            continue
        rectifier = graph.rectifier(node) if relu is not None else None
        if rectifier is not None:
            env[node] = new_graph.call_function(relu, (env[node.all_input_nodes[0]], rectifier.upper, rectifier.slope))
        else:
            if check is not None and node not in gated:
                check(node)
            held_arg = graph.gate(node) if hold_gates else None
            if detach is not None and node is detach[0]:
                held_arg = detach[1]
            if held_arg is not None:
                held = {**env, held_arg: new_graph.call_method("detach", (env[held_arg],))}
                env[node] = new_graph.node_copy(node, lambda arg, held=held: held[arg])
            else:
                env[node] = new_graph.node_copy(node, lambda arg: env[arg])
    new_graph.output(env[target])
    return fx.GraphModule(graph.model, new_graph)


def tail_from(graph: ModelGraph, cut: fx.Node) -> fx.GraphModule:
    """A module computing the network's output from the activation at ``cut`` alone."""
    new_graph = fx.Graph()
    env = {cut: new_graph.placeholder("cut")}
    for node in graph.nodes:
        if node.op == "placeholder" or node in env:
            continue
        if any(arg not in env for arg in node.all_input_nodes):
            if node.op == "output":
                raise LayerError("the network's output depends on activations before the cut")
            continue  # a node before the cut
        env[node] = new_graph.node_copy(node, lambda arg: env[arg])
    return fx.GraphModule(graph.model, new_graph)


class LayerSplit:
    """The model cut at a layer: ``head(x)`` gives the layer's output and every earlier activation the
    rest needs (then the values of ``also``, nodes before the cut); ``tail(layer_output, *others)``
    gives the logits, or with ``until`` (a later layer) that layer's output. ``at`` cuts at that
    node instead of the layer's output."""

    def __init__(self, model: nn.Module, graph: ModelGraph, layer: str, at: fx.Node | None = None,
                 also: tuple[fx.Node, ...] = (), until: str | None = None):
        target = graph.output_node[layer] if at is None else at
        order = {node: i for i, node in enumerate(graph.nodes)}
        after = [n for n in graph.nodes if order[n] > order[target] and n.op != "output"]
        needed_before = []
        for node in after:
            for arg in node.all_input_nodes:
                if order[arg] < order[target] and arg not in needed_before and arg.op != "get_attr":
                    needed_before.append(arg)
        self.extra = needed_before
        head = fx.Graph()
        env: dict[fx.Node, fx.Node] = {}
        for node in graph.nodes:
            if order[node] > order[target] or node.op == "output":
                continue
            env[node] = head.node_copy(node, lambda arg: env[arg])
        head.output((env[target], *[env[n] for n in self.extra], *[env[n] for n in also]))
        self.head = fx.GraphModule(model, head)
        tail = fx.Graph()
        env = {target: tail.placeholder("layer_output")}
        for i, node in enumerate(self.extra):
            env[node] = tail.placeholder(f"earlier_{i}")

        def lookup(arg: fx.Node) -> fx.Node:
            if arg not in env:  # a parameter or buffer read before the cut
                env[arg] = tail.node_copy(arg, lookup)
            return env[arg]

        end = graph.output_node[until] if until is not None else None
        for node in graph.nodes:
            if node.op == "output" and end is not None:
                break
            if node not in env and order[node] > order[target]:
                env[node] = tail.node_copy(node, lookup)
            if node is end:
                tail.output(env[end])
                break
        self.tail = fx.GraphModule(model, tail)


# Modules and functions that act on each channel alone and keep a channel of zeros zero.
_CHANNELWISE_MODULES = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Dropout, nn.Identity)
_CHANNELWISE_FUNCTIONS = {F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.dropout}


def _flattens_channels(graph: ModelGraph, node: fx.Node) -> bool:
    """Whether ``node`` flattens everything after the batch dimension (channel-major)."""
    if node.op == "call_module":
        module = graph.modules.get(node.target)
        return isinstance(module, nn.Flatten) and module.start_dim == 1 and module.end_dim == -1
    if (node.op == "call_function" and node.target is torch.flatten) or (
            node.op == "call_method" and node.target == "flatten"):
        start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
        end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
        return start == 1 and end == -1
    return False


def _keeps_zero_channels(graph: ModelGraph, node: fx.Node) -> bool:
    """Whether ``node`` works on each channel alone and maps a channel of zeros to zeros."""
    if graph.rectifier(node) is not None:  # every member of the ReLU family maps 0 to 0
        return True
    if node.op == "call_module":
        return isinstance(graph.modules.get(node.target), _CHANNELWISE_MODULES)
    return node.op == "call_function" and node.target in _CHANNELWISE_FUNCTIONS


@dataclass(frozen=True)
class NextLinear:
    """The first linear op (a conv or a fully connected layer) that a channel switched off at a layer
    reaches, through ops that each act on one channel and keep zeros zero (ReLUs, pools, dropout, a
    flatten). Being linear, its output with the channel off is its output less that channel's share,
    so an ablation need not run it once per channel."""

    node: fx.Node  # the linear op
    module: nn.Conv2d | nn.Linear
    input_node: fx.Node  # what the op receives
    channels: int  # channels of the switched-off layer

    def share(self, inputs: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        """Each of ``channels``' share of the op's output (without its bias) for the op's ``inputs``:
        shape (len(channels), batch, *output)."""
        weight, n, k = self.module.weight, inputs.shape[0], len(channels)
        if isinstance(self.module, nn.Conv2d):
            m = self.module
            kernels = weight[:, channels].transpose(0, 1).reshape(k * weight.shape[0], 1, *weight.shape[2:])
            shares = F.conv2d(inputs[:, channels], kernels, None, m.stride, m.padding, m.dilation, groups=k)
            return shares.view(n, k, weight.shape[0], *shares.shape[2:]).transpose(0, 1)
        positions = weight.shape[1] // self.channels  # a flattened channel's features are contiguous
        features = inputs.reshape(n, self.channels, positions)[:, channels]
        return torch.einsum("nkp,okp->kno", features, weight.view(weight.shape[0], self.channels, positions)[:, channels])


def next_linear(graph: ModelGraph, layer: str) -> NextLinear | None:
    """The :class:`NextLinear` of ``layer``, or None where its output goes elsewhere too (a shortcut),
    or through an op that mixes channels or shifts zeros (batch norm), before a linear op."""
    node, flattened = graph.output_node[layer], False
    channels = graph.layer(layer).channels
    while True:
        users = list(node.users)
        if len(users) != 1 or users[0].all_input_nodes != [node]:
            return None
        user = users[0]
        module = graph.modules.get(user.target) if user.op == "call_module" else None
        if isinstance(module, nn.Linear):
            shape = graph.shape(node)
            if shape is None or len(shape) != 1 or module.in_features % channels:
                return None  # a linear layer on maps acts along their last axis, not on channels
            return NextLinear(user, module, node, channels)
        if isinstance(module, nn.Conv2d):
            if flattened or module.groups != 1 or module.padding_mode != "zeros":
                return None
            return NextLinear(user, module, node, channels)
        if _flattens_channels(graph, user):
            flattened = True
        elif not _keeps_zero_channels(graph, user):
            return None
        node = user
