"""Backpropagating from single units: what every projection and heatmap of a unit starts with."""
from __future__ import annotations

import torch
from torch import nn


def unit_gradient(module: nn.Module, images: torch.Tensor, units: torch.Tensor, layer: str,
                  seed: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The inputs (detached copies of ``images``) and the gradient of ``module`` (the network up to
    ``layer``, with whatever backward rules it carries) reaching them from unit ``units[i] = (channel,
    y, x)`` of image i: that unit's own activation (or ``seed``) passed down, every other activation of
    the layer zero. For linear layers y and x are 0; a unit outside the layer is an error naming it."""
    units = torch.as_tensor(units, dtype=torch.long, device=images.device).view(-1, 3)
    if len(units) != len(images):
        raise ValueError(f"{len(images)} images but {len(units)} units: give one (channel, y, x) per image")
    inputs = images.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = module(inputs)
        limits = torch.tensor(list(out.shape[1:]) + [1] * (4 - out.ndim), device=units.device)[:3]
        if ((units < 0) | (units >= limits)).any():
            shape = "x".join(str(s) for s in out.shape[1:])
            raise ValueError(f"units {units.tolist()} lie outside layer {layer!r} of shape {shape}")
        rows = torch.arange(len(images), device=images.device)
        where = (rows, units[:, 0], units[:, 1], units[:, 2]) if out.ndim == 4 else (rows, units[:, 0])
        start = torch.zeros_like(out)
        start[where] = out[where].detach() if seed is None else seed
        (gradient,) = torch.autograd.grad(out, inputs, grad_outputs=start)
    return inputs.detach(), gradient
