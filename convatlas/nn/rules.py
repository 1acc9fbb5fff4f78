"""Backward rules for ReLUs: what a projection or an optimisation passes down through a ReLU.

Each rule is a ReLU forward with its own backward: the deconvnet rectifies the signal going down
(Zeiler & Fergus), guided backpropagation also masks it by where the forward input was positive
(Springenberg et al. 2015), and the redirected ReLU lets a tenth through where the unit was off, so
activation maximisation can wake a channel that no pixel of its start excites. A plain gradient
only masks. A rule knows nothing of models; :mod:`convatlas.nn.surgery` puts it in place.
"""
from __future__ import annotations

from collections.abc import Callable

import torch


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
    """A tenth of the signal passes where the unit was off."""

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


RELU_RULES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "deconvnet": deconv_relu, "guided": guided_relu, "redirected": redirected_relu,
}
