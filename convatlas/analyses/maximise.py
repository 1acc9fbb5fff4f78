"""Activation maximisation: images that excite a channel or a class.

Gradient ascent with the step normalised by its largest magnitude, g / (max|g| + eps), so one step
size works across layers and channels; penalties on large values (colour) and on sharp edges
(Scharr filters in x and y), each weighted; octaves (optimise a small image, upscale, continue);
and what later tools added: random jitter, rotation and scaling at every step, and an optional
Fourier parameterisation (as in Lucid and Lucent).

Every image of a batch is independent: its start, its random transforms and its normalised step
come from its own seed, so optimising the C channels of a layer as one batch gives the images C
separate runs would.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.transforms import denormalise
from ..models.checkpoint import CheckpointMeta
from ..nn.modules import last_linear
from ..results.artifacts import ChannelArrays, ClassImages
from .deconv import Projector

SCHARR_X = torch.tensor([[-3.0, 0.0, 3.0], [-10.0, 0.0, 10.0], [-3.0, 0.0, 3.0]])
SCHARR_Y = SCHARR_X.T.contiguous()
EPS = 1e-8


@dataclass
class Settings:
    """How an image is optimised (the job builds it from the ``maximise`` config block:
    :func:`convatlas.jobs.maximise.maximise_settings`)."""

    steps: int
    octaves: int
    octave_scale: float
    step_size: float
    colour: float
    edge: float
    jitter: int
    rotate: float
    scale: float
    fourier: bool
    seed: int
    distance: float = 0.0  # weight of the squared distance to the start image (edits of a top-1 image)


def colour_penalty(images: torch.Tensor) -> torch.Tensor:
    """Per image: the mean squared value (large colour values cost)."""
    return images.pow(2).flatten(1).mean(dim=1)


def edge_penalty(images: torch.Tensor) -> torch.Tensor:
    """Per image: the mean of squared Scharr responses in x and y over channels (sharp edges cost)."""
    channels = images.shape[1]
    kx = SCHARR_X.to(images).view(1, 1, 3, 3).repeat(channels, 1, 1, 1)
    ky = SCHARR_Y.to(images).view(1, 1, 3, 3).repeat(channels, 1, 1, 1)
    gx = F.conv2d(images, kx, groups=channels)
    gy = F.conv2d(images, ky, groups=channels)
    return (gx.pow(2) + gy.pow(2)).flatten(1).mean(dim=1)


def normalised_step(gradient: torch.Tensor, step_size: float) -> torch.Tensor:
    """Each image's gradient scaled so its largest magnitude is ``step_size``."""
    peak = gradient.abs().flatten(1).amax(dim=1).view(-1, *[1] * (gradient.ndim - 1))
    return step_size * gradient / (peak + EPS)


def _transform(images: torch.Tensor, generators: list[torch.Generator], settings: Settings) -> torch.Tensor:
    """Random jitter, rotation and scaling, drawn per image from its own generator."""
    if not (settings.jitter or settings.rotate or settings.scale):
        return images
    n, _, h, w = images.shape
    draws = torch.stack([torch.rand(4, generator=g, dtype=torch.float64) for g in generators])  # (n, 4) in [0, 1)
    draws = draws.to(images.device, images.dtype)
    shift_y = torch.round((draws[:, 0] * 2 - 1) * settings.jitter) * 2 / h
    shift_x = torch.round((draws[:, 1] * 2 - 1) * settings.jitter) * 2 / w
    angle = (draws[:, 2] * 2 - 1) * math.radians(settings.rotate)
    zoom = 1 + (draws[:, 3] * 2 - 1) * settings.scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


class _Fourier:
    """An image as a spectrum scaled by 1/frequency (Lucid's parameterisation)."""

    def __init__(self, height: int, width: int, device, dtype):
        fy = torch.fft.fftfreq(height, device=device, dtype=dtype)[:, None]
        fx = torch.fft.rfftfreq(width, device=device, dtype=dtype)[None, :]
        self.scale = 1.0 / torch.sqrt(fy**2 + fx**2).clamp(min=1.0 / max(height, width))
        self.size = (height, width)

    def to_param(self, images: torch.Tensor) -> torch.Tensor:
        spectrum = torch.fft.rfft2(images, norm="ortho") / self.scale
        return torch.view_as_real(spectrum).contiguous()

    def to_image(self, param: torch.Tensor) -> torch.Tensor:
        return torch.fft.irfft2(torch.view_as_complex(param) * self.scale, s=self.size, norm="ortho")


def optimise(
    objective: Callable[[torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    seeds: Sequence[int],
    settings: Settings,
    bounds: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Ascend ``objective`` (images -> one value per image) from ``start`` (N, C, H, W), image by image
    independent; values stay within ``bounds`` (per-channel lower and upper, shaped (1, C, 1, 1))."""
    n, _, height, width = start.shape
    generators = [torch.Generator().manual_seed(settings.seed * 1_000_003 + int(s)) for s in seeds]
    lower, upper = bounds
    image = start.detach()
    anchor = start.detach()
    for octave in range(settings.octaves):
        factor = settings.octave_scale ** (settings.octaves - 1 - octave)
        size = (max(4, round(height / factor)), max(4, round(width / factor)))
        image = F.interpolate(image, size=size, mode="bilinear", align_corners=False) if image.shape[-2:] != size else image
        anchor_here = F.interpolate(anchor, size=size, mode="bilinear", align_corners=False) if size != (height, width) else anchor
        fourier = _Fourier(*size, image.device, image.dtype) if settings.fourier else None
        param = fourier.to_param(image) if fourier else image.clone()
        for _ in range(settings.steps):
            param.requires_grad_(True)
            current = fourier.to_image(param) if fourier else param
            view = F.interpolate(current, size=(height, width), mode="bilinear", align_corners=False) \
                if size != (height, width) else current
            value = objective(_transform(view, generators, settings))
            loss = -value + settings.colour * colour_penalty(current) + settings.edge * edge_penalty(current)
            if settings.distance:
                loss = loss + settings.distance * (current - anchor_here).pow(2).flatten(1).mean(dim=1)
            (gradient,) = torch.autograd.grad(loss.sum(), param)
            with torch.no_grad():
                param = param - normalised_step(gradient, settings.step_size)
                if not fourier:
                    param = torch.maximum(torch.minimum(param, upper), lower)
        with torch.no_grad():
            image = (fourier.to_image(param) if fourier else param).detach()
            image = torch.maximum(torch.minimum(image, upper), lower)
    if image.shape[-2:] != (height, width):
        image = F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False)
    return image


def _redirected(model: nn.Module, layer: str, input_shape: tuple[int, int, int]) -> nn.Module:
    """The model up to ``layer`` with every ReLU's backward redirected (see nn.rules.redirected_relu)."""
    return Projector(model, layer, input_shape, method="redirected").module


def channel_objective(model: nn.Module, layer: str, channels: torch.Tensor,
                      input_shape: tuple[int, int, int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """Image i -> the mean activation of channel ``channels[i]`` of ``layer``."""
    upto = _redirected(model, layer, input_shape)

    def objective(images: torch.Tensor) -> torch.Tensor:
        out = upto(images)
        picked = out[torch.arange(len(images), device=out.device), channels.to(out.device)]
        return picked.flatten(1).mean(dim=1) if picked.ndim > 1 else picked
    return objective


def class_objective(model: nn.Module, classes: torch.Tensor,
                    input_shape: tuple[int, int, int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """Image i -> the logit of class ``classes[i]``."""
    upto = _redirected(model, last_linear(model)[0], input_shape)

    def objective(images: torch.Tensor) -> torch.Tensor:
        logits = upto(images)
        return logits[torch.arange(len(images), device=logits.device), classes.to(logits.device)]
    return objective


def noise_start(count: int, shape: tuple[int, int, int], seeds: Sequence[int], settings: Settings) -> torch.Tensor:
    """Seeded low-amplitude noise around the dataset mean (0 after normalisation), per image."""
    return torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(settings.seed * 7_919 + int(s))) * 0.1
                        for s in seeds[:count]])


def pixel_bounds(meta: CheckpointMeta, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The normalised values of pixel 0 and pixel 1 per channel, shaped (1, C, 1, 1)."""
    mean = torch.as_tensor(meta.mean, device=device).view(1, -1, 1, 1)
    std = torch.as_tensor(meta.std, device=device).view(1, -1, 1, 1)
    return (0 - mean) / std, (1 - mean) / std


def to_pixels(images: torch.Tensor, meta: CheckpointMeta) -> np.ndarray:
    """Normalised images as (N, H, W, C) pixels in [0, 1]."""
    return denormalise(images.detach(), meta.mean, meta.std).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()


def maximise_channels(model: nn.Module, meta: CheckpointMeta, layer: str, channels: Sequence[int], settings: Settings,
                      start: torch.Tensor | None = None, top1: torch.Tensor | None = None, edit: Settings | None = None,
                      batch_size: int = 256, reference: torch.Tensor | None = None) -> ChannelArrays:
    """One image per channel in ``channels`` of ``layer``, optimised together in batches.

    From seeded noise, or from ``start`` (one normalised photo, (1, C, H, W)); with ``top1`` (the
    normalised top-1 dataset image of every channel of the layer) also an edit of it kept close to
    it, optimised with ``edit``. Returns, a row per channel of ``channels``, [0, 1] pixels ``noise``
    (and ``top1``) and the objective ``before`` and ``after``; with ``reference`` (the normalised top-1 dataset
    image of every channel of the layer), the objective on it as ``reference``, the check of
    whether the optimised image excites the channel more than the best dataset image does.
    """
    size = meta.image_size
    shape = (meta.in_channels, size, size)
    device = next(model.parameters()).device
    bounds = pixel_bounds(meta, device)
    results: dict[str, list] = {"noise": [], "before": [], "after": []}
    if top1 is not None:
        if edit is None:
            raise ValueError("maximise_channels: top1 images need the edit settings")
        results["top1"] = []
    if reference is not None:
        results["reference"] = []
    channels = list(channels)
    for first in range(0, len(channels), batch_size):
        chosen = torch.as_tensor(channels[first:first + batch_size], dtype=torch.long)
        objective = channel_objective(model, layer, chosen, shape)
        if start is not None:
            begin = start.to(device).expand(len(chosen), -1, -1, -1)
        else:
            begin = noise_start(len(chosen), shape, chosen.tolist(), settings).to(device)
        images = optimise(objective, begin, chosen.tolist(), settings, bounds)
        with torch.no_grad():
            results["before"].append(objective(begin).cpu())
            results["after"].append(objective(images).cpu())
            if reference is not None:
                results["reference"].append(objective(reference[chosen].to(device)).cpu())
        results["noise"].append(to_pixels(images, meta))
        if top1 is not None:
            results["top1"].append(to_pixels(optimise(objective, top1[chosen], chosen.tolist(), edit, bounds), meta))
    arrays = {key: np.concatenate([np.asarray(v) for v in values]) for key, values in results.items()}
    return ChannelArrays(np.asarray(channels, dtype=np.int64), arrays)


def maximise_classes(model: nn.Module, meta: CheckpointMeta, settings: Settings, indices: Sequence[int] | None = None) -> ClassImages:
    """One image per class (every class, or the classes ``indices``) maximising its logit: [0, 1]
    pixels ``images``, the ``probability`` each reaches, the class names and ``indices``."""
    size = meta.image_size
    shape = (meta.in_channels, size, size)
    device = next(model.parameters()).device
    classes = torch.as_tensor(list(range(len(meta.classes))) if indices is None else list(indices), dtype=torch.long)
    objective = class_objective(model, classes, shape)
    begin = noise_start(len(classes), shape, (1000 + classes).tolist(), settings).to(device)
    images = optimise(objective, begin, (1000 + classes).tolist(), settings, pixel_bounds(meta, device))
    with torch.no_grad():
        probabilities = model(images).softmax(dim=1)[torch.arange(len(classes)), classes].cpu().numpy()
    return ClassImages(to_pixels(images, meta), probabilities, classes.numpy(), [meta.classes[int(c)] for c in classes])
