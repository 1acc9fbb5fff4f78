"""Gradient attributions for single images: vanilla gradient saliency, guided backpropagation and
Grad-CAM, for a chosen class per image."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn.hooks import forward_hooks
from ..nn.modules import last_linear
from .deconv import Projector


def saliency(model: nn.Module, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """(N, H, W): |d logit[class] / d pixel|, largest over channels."""
    inputs = images.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(inputs)
        picked = logits[torch.arange(len(images)), classes].sum()
        (gradient,) = torch.autograd.grad(picked, inputs)
    return gradient.abs().amax(dim=1)


def guided_backprop(model: nn.Module, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W): guided backpropagation of d logit[class] / d pixel, started from 1 at the logit
    (not from the logit's value: a negative logit would turn the guided rule towards evidence
    against the class)."""
    projector = Projector(model, last_linear(model)[0], tuple(images.shape[1:]), method="guided")
    units = torch.stack([classes, torch.zeros_like(classes), torch.zeros_like(classes)], dim=1)
    return projector(images, units, seed=1.0)


def grad_cam(model: nn.Module, images: torch.Tensor, classes: torch.Tensor, layer: str) -> torch.Tensor:
    """(N, H, W): relu(sum_c mean(d logit / d A_c) * A_c) of ``layer``, upsampled to the image."""
    captured = {}
    with torch.enable_grad(), forward_hooks(model, [layer], lambda name, out: captured.__setitem__("A", out)):
        inputs = images.detach().clone().requires_grad_(True)
        logits = model(inputs)
        activations = captured["A"]
        picked = logits[torch.arange(len(images)), classes].sum()
        (gradient,) = torch.autograd.grad(picked, activations)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activations).sum(dim=1, keepdim=True)).detach()
    return F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]


def attributions(model: nn.Module, images: torch.Tensor, classes: torch.Tensor, layer: str) -> dict[str, torch.Tensor]:
    """All three maps for each image and its class."""
    model.eval()
    return {
        "saliency": saliency(model, images, classes),
        "guided": guided_backprop(model, images, classes),
        "gradcam": grad_cam(model, images, classes, layer),
    }
