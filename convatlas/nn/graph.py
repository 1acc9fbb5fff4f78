"""The module graph of a model: which layers to analyse, their output shapes and receptive fields.

The model is traced with ``torch.fx`` (as torchvision's feature extraction does) and its shapes
propagated with a sample input. Layers are named by their ``named_modules()`` path everywhere.

Default analysed layers: the rectified output of every conv (the ReLU module that follows it, or,
where the conv's path runs into a shortcut sum, the block whose output is the ReLU after that sum),
plus the rectified output of every linear layer before the classifier.

Receptive fields are propagated node by node from kernel, stride, padding and dilation of convs
and pools; where paths meet (a shortcut sum, a concatenation) the box is the union over paths.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from ..core.errors import LayerError
from ..core.geometry import PIXEL, WHOLE, Axis, ReceptiveField

__all__ = ["PIXEL", "WHOLE", "Axis", "Layer", "ModelGraph", "ReceptiveField", "Rectifier", "pair", "receptive_field_size"]

_POOLS = (nn.MaxPool2d, nn.AvgPool2d)
_GLOBAL_MODULES = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Linear, nn.Flatten)
_AFFINE_MODULES = (nn.BatchNorm2d, nn.Identity, nn.Dropout)
_RELU_FUNCTIONS = {F.relu, torch.relu, torch.relu_}
_CLAMP_FUNCTIONS = {torch.clamp, torch.clamp_min, torch.clip}
# smooth activations: a projection passes the signal through them times their local derivative
SMOOTH_MODULES = (nn.SiLU, nn.GELU, nn.Hardswish, nn.Sigmoid, nn.Hardsigmoid, nn.Tanh, nn.ELU, nn.SELU, nn.Mish,
                  nn.Softplus)
_SMOOTH_FUNCTIONS = {F.silu, F.gelu, F.hardswish, torch.sigmoid, F.sigmoid, F.hardsigmoid, torch.tanh, F.tanh, F.elu,
                     F.selu, F.mish, F.softplus}
_SMOOTH_METHODS = {"sigmoid", "sigmoid_", "tanh", "tanh_"}
_MUL_FUNCTIONS = {operator.mul, operator.imul, torch.mul}
_CLAMP_METHODS = {"clamp", "clamp_", "clamp_min", "clamp_min_", "clip", "clip_"}


@dataclass(frozen=True)
class Rectifier:
    """A member of the ReLU family: ``max(x, slope * x)``, clipped at ``upper`` when given (ReLU: the
    defaults; ReLU6 and clamps: ``upper``; LeakyReLU: ``slope``)."""

    upper: float | None = None
    slope: float = 0.0


def _argument(node: fx.Node, position: int, name: str, default):
    if len(node.args) > position:
        return node.args[position]
    return node.kwargs.get(name, default)


def _clamp_rectifier(lower, upper) -> Rectifier | None:
    """A clamp is in the family when it clips at 0 from below (and optionally at a number above)."""
    if isinstance(lower, (int, float)) and lower == 0 and (upper is None or isinstance(upper, (int, float))):
        return Rectifier(upper=float(upper) if upper is not None else None)
    return None
_ADD_FUNCTIONS = {operator.add, operator.iadd, torch.add}


@dataclass(frozen=True)
class Layer:
    """An analysed layer: its module path, what it is, and the shape of one image's output."""

    name: str
    kind: str  # "conv" (rectified conv output), "block" (output of a shortcut block), "linear"
    shape: tuple[int, ...]
    receptive_field: ReceptiveField

    @property
    def channels(self) -> int:
        return self.shape[0]

    @property
    def spatial(self) -> bool:
        return len(self.shape) == 3


def pair(value: Any) -> tuple[int, int]:
    """A module's int-or-pair argument (kernel size, stride, padding, dilation) as a pair."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _ancestors(node: fx.Node) -> set[fx.Node]:
    seen, stack = set(), [node]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(current.all_input_nodes)
    return seen


class ModelGraph:
    """A traced model with shapes, receptive fields and the default analysed layers."""

    def __init__(self, model: nn.Module, input_shape: tuple[int, int, int]):
        self.model = model
        self.input_shape = tuple(input_shape)
        was_training = model.training
        model.eval()
        try:
            self.graph_module = fx.symbolic_trace(model)
        except Exception as error:  # fx raises many kinds of errors on untraceable code
            raise LayerError(f"cannot trace {type(model).__name__} with torch.fx: {error}") from error
        parameter = next(model.parameters())
        sample = torch.zeros((1, *input_shape), device=parameter.device, dtype=parameter.dtype)
        with torch.no_grad():
            ShapeProp(self.graph_module).propagate(sample)
        model.train(was_training)
        self.nodes = list(self.graph_module.graph.nodes)
        self.modules = dict(model.named_modules())
        self.calls: dict[str, int] = {}
        for node in self.nodes:
            if node.op == "call_module":
                self.calls[node.target] = self.calls.get(node.target, 0) + 1
        self.output_node = self._module_outputs()
        self._gated: set[fx.Node] | None = None  # the gate branches' nodes, once found
        self.fields = self._receptive_fields()
        self.layers, self.unanalysed_convs = self._default_layers()  # and the convs whose output reaches no activation

    # -- shapes and module outputs -------------------------------------------------------------
    @staticmethod
    def shape(node: fx.Node) -> tuple[int, ...] | None:
        """One image's output shape at ``node`` (None for non-tensor nodes)."""
        meta = node.meta.get("tensor_meta")
        return tuple(meta.shape[1:]) if meta is not None and hasattr(meta, "shape") else None

    def _module_outputs(self) -> dict[str, fx.Node]:
        """For every module called once: the node that holds its output."""
        outputs: dict[str, fx.Node] = {}
        for node in self.nodes:
            if node.op == "call_module":
                outputs[node.target] = node
            for path in node.meta.get("nn_module_stack", {}):
                if "@" not in path:  # fx marks a module's repeated calls as path@k
                    outputs[path] = node  # the last node inside a module is its output
        return {
            name: node for name, node in outputs.items()
            if self.calls.get(name, 1) == 1 and self.shape(node) is not None
        }

    def _owner(self, node: fx.Node) -> str | None:
        """The innermost non-leaf module whose output is ``node`` (e.g. a shortcut block)."""
        best = None
        for path in node.meta.get("nn_module_stack", {}):
            if path != node.target and self.output_node.get(path) is node:
                if best is None or path.count(".") > best.count("."):
                    best = path
        return best

    # -- receptive fields ------------------------------------------------------------------------
    def _receptive_fields(self) -> dict[fx.Node, ReceptiveField]:
        fields: dict[fx.Node, ReceptiveField] = {}
        for node in self.nodes:
            shape = self.shape(node)
            if node.op == "placeholder":
                fields[node] = PIXEL
                continue
            if shape is None:
                continue
            inputs = [fields[arg] for arg in node.all_input_nodes if arg in fields]
            module = self.modules.get(node.target) if node.op == "call_module" else None
            if not inputs:
                fields[node] = WHOLE
            elif self.window(node) is not None:
                (ky, kx), (sy, sx), (py, px), (dy, dx) = self.window(node)
                field = inputs[0]
                fields[node] = WHOLE if field.whole else ReceptiveField(
                    field.y.through(ky, sy, py, dy), field.x.through(kx, sx, px, dx))
            elif self.padding(node) is not None:
                top, left = self.padding(node)
                field = inputs[0]
                fields[node] = WHOLE if field.whole else ReceptiveField(
                    field.y.through(1, 1, top), field.x.through(1, 1, left))
            elif isinstance(module, _GLOBAL_MODULES) or len(shape) != 3:
                fields[node] = WHOLE
            else:
                same = [
                    fields[arg] for arg in node.all_input_nodes
                    if arg in fields and (self.shape(arg) or ())[-2:] == shape[-2:]
                ]
                field = same[0] if same else WHOLE
                for other in same[1:]:
                    field = field.union(other)
                fields[node] = field
        return fields

    # -- default layers --------------------------------------------------------------------------
    def rectifier(self, node: fx.Node) -> Rectifier | None:
        """The ReLU-family member ``node`` computes, or None: ReLU, ReLU6, LeakyReLU and Hardtanh
        from 0 as modules (in place or not), their functional forms (``F.relu``, ``torch.relu``,
        ``F.relu6``, ``F.leaky_relu``, ``F.hardtanh``), ``.relu()``, and clamps from 0."""
        if node.op == "call_module":
            module = self.modules.get(node.target)
            if isinstance(module, nn.ReLU):
                return Rectifier()
            if isinstance(module, nn.LeakyReLU):
                return Rectifier(slope=float(module.negative_slope))
            if isinstance(module, nn.Hardtanh):  # ReLU6 is Hardtanh(0, 6)
                return _clamp_rectifier(module.min_val, module.max_val)
            return None
        if node.op == "call_function":
            if node.target in _RELU_FUNCTIONS:
                return Rectifier()
            if node.target is F.relu6:
                return Rectifier(upper=6.0)
            if node.target is F.leaky_relu:
                return Rectifier(slope=float(_argument(node, 1, "negative_slope", 0.01)))
            if node.target is F.hardtanh:
                return _clamp_rectifier(_argument(node, 1, "min_val", -1.0), _argument(node, 2, "max_val", 1.0))
            if node.target in _CLAMP_FUNCTIONS:
                return _clamp_rectifier(_argument(node, 1, "min", None), _argument(node, 2, "max", None))
            return None
        if node.op == "call_method":
            if node.target in ("relu", "relu_"):
                return Rectifier()
            if node.target in _CLAMP_METHODS:
                return _clamp_rectifier(_argument(node, 1, "min", None), _argument(node, 2, "max", None))
        return None

    def is_conv(self, node: fx.Node) -> bool:
        """A 2-d convolution: an ``nn.Conv2d`` module, or ``F.conv2d`` (as in a Conv2d subclass of the
        user's whose forward pads first, like TensorFlow's 'SAME')."""
        return (node.op == "call_module" and isinstance(self.modules.get(node.target), nn.Conv2d)) or (
            node.op == "call_function" and node.target is F.conv2d)

    def conv_path(self, node: fx.Node) -> str:
        """The module path holding a conv's weights."""
        if node.op == "call_module":
            return node.target
        weight = node.args[1]
        return weight.target.rpartition(".")[0] if isinstance(weight, fx.Node) and weight.op == "get_attr" else ""

    def window(self, node: fx.Node):
        """``(kernel, stride, padding, dilation)`` pairs of a conv or pool (module or function), else None."""
        module = self.modules.get(node.target) if node.op == "call_module" else None
        if isinstance(module, (nn.Conv2d, *_POOLS)):
            kernel = pair(module.kernel_size)
            padding = module.padding
            stride, dilation = module.stride or module.kernel_size, getattr(module, "dilation", 1)
        elif node.op == "call_function" and node.target is F.conv2d:
            weight = self.shape(node.args[1]) if isinstance(node.args[1], fx.Node) else None
            if weight is None:
                return None
            kernel = weight[-2:]
            stride, padding = _argument(node, 3, "stride", 1), _argument(node, 4, "padding", 0)
            dilation = _argument(node, 5, "dilation", 1)
        elif node.op == "call_function" and node.target in (F.max_pool2d, F.avg_pool2d):
            kernel = pair(_argument(node, 1, "kernel_size", 1))
            stride = _argument(node, 2, "stride", None) or kernel
            padding, dilation = _argument(node, 3, "padding", 0), 1
        else:
            return None
        padding = (kernel[0] // 2, kernel[1] // 2) if isinstance(padding, str) else pair(padding)
        return pair(kernel), pair(stride), padding, pair(dilation)

    def padding(self, node: fx.Node) -> tuple[int, int] | None:
        """(top, left) of a spatial padding (``nn.ZeroPad2d``, ``nn.ConstantPad2d``, ``F.pad`` with four
        sides), or None for any other node."""
        sides = None
        if node.op == "call_module" and isinstance(self.modules.get(node.target), (nn.ZeroPad2d, nn.ConstantPad2d)):
            sides = self.modules[node.target].padding  # (left, right, top, bottom)
        elif node.op == "call_function" and node.target is F.pad:
            sides = _argument(node, 1, "pad", None)
        if not isinstance(sides, (tuple, list)) or len(sides) != 4 or not all(isinstance(v, int) for v in sides):
            return None
        return sides[2], sides[0]

    def is_smooth(self, node: fx.Node) -> bool:
        """Whether ``node`` is a smooth activation (SiLU, GELU, Hardswish, sigmoid, tanh, ...)."""
        if node.op == "call_module":
            return isinstance(self.modules.get(node.target), SMOOTH_MODULES)
        if node.op == "call_function":
            return node.target in _SMOOTH_FUNCTIONS
        return node.op == "call_method" and node.target in _SMOOTH_METHODS

    def is_activation(self, node: fx.Node) -> bool:
        return self.is_relu(node) or self.is_smooth(node)

    def gate(self, node: fx.Node) -> fx.Node | None:
        """For a product ``features * gate`` (squeeze-and-excitation): the gate operand, the one with a
        single value per channel (C, 1, 1) while the other has maps; None for any other node."""
        is_mul = (node.op == "call_function" and node.target in _MUL_FUNCTIONS) or (
            node.op == "call_method" and node.target in ("mul", "mul_"))
        operands = [arg for arg in node.args[:2] if isinstance(arg, fx.Node)]
        if not is_mul or len(operands) != 2:
            return None
        shapes = [self.shape(arg) for arg in operands]
        if any(shape is None or len(shape) != 3 for shape in shapes):
            return None
        small = [shape[1:] == (1, 1) and other[1:] != (1, 1) for shape, other in (shapes, shapes[::-1])]
        return operands[0] if small[0] else operands[1] if small[1] else None

    def is_relu(self, node: fx.Node) -> bool:
        """Whether ``node`` is a member of the ReLU family (see :meth:`rectifier`)."""
        return self.rectifier(node) is not None

    def is_passthrough(self, node: fx.Node) -> bool:
        """Whether ``node`` is an affine module a rectified output passes through (batch norm, identity, dropout)."""
        return node.op == "call_module" and isinstance(self.modules.get(node.target), _AFFINE_MODULES)

    def is_add(self, node: fx.Node) -> bool:
        """Whether ``node`` is a sum (a shortcut)."""
        return (node.op == "call_function" and node.target in _ADD_FUNCTIONS) or (
            node.op == "call_method" and node.target in ("add", "add_"))

    def _rectified(self, start: fx.Node, gated: set[fx.Node] | frozenset = frozenset()) -> tuple[str, str] | None:
        """Follow ``start`` through affine ops, squeeze-and-excitation gates (a per-channel scale;
        ``gated`` holds the gate branches' nodes) and shortcut sums to its activation; name that output."""
        node, crossed_add = start, False
        while True:
            users = [user for user in node.users if user not in gated]
            if len(users) != 1:
                return None
            node = users[0]
            if self.is_activation(node):
                break
            if self.is_add(node):
                crossed_add = True
            elif not (self.is_passthrough(node) or self.gate(node) is not None):
                return None
        if not crossed_add and node.op == "call_module" and self.calls[node.target] == 1:
            return node.target, "conv"
        owner = self._owner(node)
        if owner is not None:
            return owner, "block" if crossed_add else "conv"
        if node.op == "call_module" and self.calls[node.target] > 1:
            return self._enclosing_block(node)
        return None

    def _enclosing_block(self, node: fx.Node) -> tuple[str, str] | None:
        """For an activation module used several times inside one block (EfficientNet's ``_swish``):
        the innermost enclosing module called once, whose output is the block's."""
        paths = [path for path in node.meta.get("nn_module_stack", {})
                 if path != node.target and "@" not in path and path in self.output_node]
        return (max(paths, key=lambda path: path.count(".")), "block") if paths else None

    def _default_layers(self) -> tuple[list[Layer], list[str]]:
        """The default analysed layers: every conv's output after its activation (through batch
        norm, gates and shortcut sums: a block's output), and the hidden linear layers; and the
        convs left out because their output reaches no activation (a linear bottleneck's projection)."""
        named: dict[str, str] = {}
        linears = [
            n for n in self.nodes
            if n.op == "call_module" and isinstance(self.modules.get(n.target), nn.Linear)
        ]
        gated = self.gate_branches()
        unanalysed = []
        for node in self.nodes:
            if self.is_conv(node) and node not in gated:
                found = self._rectified(node, gated)
                if found is None:
                    unanalysed.append(self.conv_path(node) or node.name)
                elif found[0] not in named:
                    named[found[0]] = found[1]
        for node in linears[:-1]:
            found = self._rectified(node)
            name = found[0] if found else (node.target if self.calls[node.target] == 1 else None)
            if name and name not in named:
                named[name] = "linear"
        order = {node: i for i, node in enumerate(self.nodes)}
        names = sorted(named, key=lambda name: order[self.output_node[name]])
        return [self.layer(name, named[name]) for name in names], unanalysed

    def gate_branches(self) -> set[fx.Node]:
        """The nodes that only compute gates (the squeeze-and-excitation branch): not analysed layers."""
        if self._gated is not None:
            return self._gated
        gated: set[fx.Node] = set()
        for node in self.nodes:
            gate = self.gate(node)
            if gate is not None:
                other = next(arg for arg in node.args[:2] if isinstance(arg, fx.Node) and arg is not gate)
                gated |= _ancestors(gate) - _ancestors(other)
        self._gated = gated
        return gated

    # -- public ----------------------------------------------------------------------------------
    def first_conv(self) -> tuple[str, str | None] | None:
        """The model's first conv module and the analysed-layer name of its rectified output (if any)."""
        gated = self.gate_branches()
        for node in self.nodes:
            if self.is_conv(node) and node not in gated:
                found = self._rectified(node, gated)
                return self.conv_path(node), found[0] if found else None
        return None

    def layer(self, name: str, kind: str | None = None) -> Layer:
        """The Layer for module ``name``; raises LayerError listing valid names when unknown."""
        node = self.output_node.get(name)
        if node is None:
            valid = ", ".join(sorted(self.output_node))
            raise LayerError(f"unknown layer {name!r}; valid layers are module paths called once: {valid}")
        if kind is None:
            module = self.modules.get(name)
            kind = "linear" if isinstance(module, nn.Linear) or len(self.shape(node)) == 1 else "conv"
        return Layer(name, kind, self.shape(node), self.fields.get(node, WHOLE))

    def select(self, names: list[str] | None) -> list[Layer]:
        """The named layers (validated), or the default analysed layers when ``names`` is empty."""
        if not names:
            return list(self.layers)
        return [self.layer(name) for name in names]


def receptive_field_size(layer: Layer) -> int | None:
    """The side of a layer's unclipped receptive field in input pixels; None when units see the whole image."""
    field = layer.receptive_field
    return None if field.whole else max(field.y.size, field.x.size)
