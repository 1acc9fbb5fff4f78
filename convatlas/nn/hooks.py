"""Hooking layers by module path: the one place forward hooks (on a layer's output or its input) are
registered."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from ..core.errors import LayerError


def module(model: nn.Module, name: str) -> nn.Module:
    """The submodule at path ``name``; LayerError when there is none."""
    try:
        return model.get_submodule(name)
    except AttributeError as error:
        raise LayerError(f"model {type(model).__name__} has no layer {name!r}") from error


@contextlib.contextmanager
def forward_hooks(
    model: nn.Module, names: Sequence[str], handle_output: Callable[[str, torch.Tensor], None]
) -> Iterator[None]:
    """Call ``handle_output(name, output)`` as each named layer computes, during the ``with`` block.

    The output is handled inside the hook, before any later in-place operation can change it.
    """
    handles = []
    try:
        for name in names:
            handles.append(module(model, name).register_forward_hook(
                lambda _module, _inputs, output, name=name: handle_output(name, output)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def input_hooks(
    model: nn.Module, names: Sequence[str], handle_input: Callable[[str, torch.Tensor], None]
) -> Iterator[None]:
    """Call ``handle_input(name, input)`` with the (first) input each named layer receives, during the
    ``with`` block."""
    handles = []
    try:
        for name in names:
            handles.append(module(model, name).register_forward_pre_hook(
                lambda _module, inputs, name=name: handle_input(name, inputs[0])))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def capture_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """A dict filled with a detached copy of each named layer's latest output."""
    outputs: dict[str, torch.Tensor] = {}
    with forward_hooks(model, names, lambda name, output: outputs.__setitem__(name, output.detach().clone())):
        yield outputs
