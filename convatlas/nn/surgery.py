"""Graph surgery on a traced model: the network up to a layer (with a ReLU backward rule), the network
cut in two at a layer, and the rest of the network from an activation. Used by projections,
activation maximisation, occlusion and ablation alike."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.fx as fx
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
    scaled by the gate and nothing goes down the gate's branch.
    """
    target = graph.output_node[layer]
    needed = ancestors(target)
    new_graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    for node in graph.nodes:
        if node not in needed:
            continue
        rectifier = graph.rectifier(node) if relu is not None else None
        if rectifier is not None:
            env[node] = new_graph.call_function(relu, (env[node.all_input_nodes[0]], rectifier.upper, rectifier.slope))
        else:
            if check is not None:
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
    rest needs; ``tail(layer_output, *others)`` gives the logits."""

    def __init__(self, model: nn.Module, graph: ModelGraph, layer: str):
        target = graph.output_node[layer]
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
        head.output((env[target], *[env[n] for n in self.extra]))
        self.head = fx.GraphModule(model, head)
        tail = fx.Graph()
        env = {target: tail.placeholder("layer_output")}
        for i, node in enumerate(self.extra):
            env[node] = tail.placeholder(f"earlier_{i}")

        def lookup(arg: fx.Node) -> fx.Node:
            if arg not in env:  # a parameter or buffer read before the cut
                env[arg] = tail.node_copy(arg, lookup)
            return env[arg]

        for node in graph.nodes:
            if node not in env and order[node] > order[target]:
                env[node] = tail.node_copy(node, lookup)
        self.tail = fx.GraphModule(model, tail)
