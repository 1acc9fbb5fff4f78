"""Backward rules for the ReLU family: what a projection or an optimisation passes down through a
rectifier (ReLU, ReLU6 and clamps from 0, LeakyReLU).

Each rule keeps the rectifier's own forward, ``max(x, slope * x)`` clipped at ``upper``, and
changes only what goes down:

- deconvnet (Zeiler & Fergus) applies the rectification to the signal itself: ``relu(g)``, or
  ``leaky_relu(g, slope)`` for a leaky unit; where the forward clipped (ReLU6's top) is ignored, as
  the deconvnet ignores every forward mask;
- guided backpropagation (Springenberg et al. 2015) keeps the signal's positive part and multiplies
  it by the local derivative (1 where the unit was active, ``slope`` below zero, 0 above ``upper``);
- the redirected rule of activation maximisation passes the signal where the unit was active and a
  tenth of it elsewhere, so a channel that no pixel of its start excites can still be woken.

A plain gradient only multiplies by the derivative. The deconvnet has no rule of its own for smooth
activations (SiLU, GELU, Hardswish, sigmoid, tanh): a projection passes the signal through them as
a gradient would, times their local derivative, and holds channel gates (squeeze-and-excitation's
``features * gate``) constant, so the signal is scaled by the gate and none goes down the gate's
branch (:func:`convatlas.nn.surgery.upto_layer`). A rule knows nothing of models;
:mod:`convatlas.nn.surgery` puts it in place of every rectifier of a traced graph.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

REDIRECTED_LEAK = 0.1  # share of the signal the redirected rule passes where a unit was inactive


def _forward(x: torch.Tensor, upper: float | None, slope: float) -> torch.Tensor:
    out = x.clamp(min=0) if slope == 0 else F.leaky_relu(x, slope)
    return out if upper is None else out.clamp(max=upper)


def _active(x: torch.Tensor, upper: float | None) -> torch.Tensor:
    """Where the rectifier passes its input: above zero (and below ``upper``)."""
    return (x > 0) if upper is None else (x > 0) & (x < upper)


def _derivative(x: torch.Tensor, upper: float | None, slope: float) -> torch.Tensor:
    """The rectifier's local derivative: 1 where active, ``slope`` below zero, 0 above ``upper``."""
    derivative = _active(x, upper).to(x.dtype)
    if slope:
        derivative = torch.where(x > 0, derivative, torch.full((), slope, dtype=x.dtype, device=x.device))
    return derivative


def _rectified(grad: torch.Tensor, slope: float) -> torch.Tensor:
    return grad.clamp(min=0) if slope == 0 else F.leaky_relu(grad, slope)


class _Deconv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, upper, slope):
        ctx.slope = slope
        return _forward(x, upper, slope)

    @staticmethod
    def backward(ctx, grad):
        return _rectified(grad, ctx.slope), None, None


class _Saving(torch.autograd.Function):
    """The rectifier's forward, keeping its input for a backward rule of a subclass."""

    @staticmethod
    def forward(ctx, x, upper, slope):
        ctx.save_for_backward(x)
        ctx.upper, ctx.slope = upper, slope
        return _forward(x, upper, slope)


class _Guided(_Saving):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * _derivative(x, ctx.upper, ctx.slope).to(grad.dtype), None, None


class _Redirected(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, upper, slope):
        ctx.save_for_backward(_active(x, upper))  # a mask: a quarter of the input's memory
        return _forward(x, upper, slope)

    @staticmethod
    def backward(ctx, grad):
        (active,) = ctx.saved_tensors
        return torch.where(active, grad, grad * REDIRECTED_LEAK), None, None


def deconv_relu(x: torch.Tensor, upper: float | None = None, slope: float = 0.0) -> torch.Tensor:
    return _Deconv.apply(x, upper, slope)


def guided_relu(x: torch.Tensor, upper: float | None = None, slope: float = 0.0) -> torch.Tensor:
    return _Guided.apply(x, upper, slope)


def redirected_relu(x: torch.Tensor, upper: float | None = None, slope: float = 0.0) -> torch.Tensor:
    return _Redirected.apply(x, upper, slope)


RELU_RULES: dict[str, Callable[..., torch.Tensor]] = {
    "deconvnet": deconv_relu, "guided": guided_relu, "redirected": redirected_relu,
}
