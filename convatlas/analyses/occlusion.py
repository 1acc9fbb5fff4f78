"""Occlusion sensitivity (Zeiler & Fergus Fig. 7): slide a grey square over an image and record, at
every position, (a) the summed activity of the strongest feature map of a layer, (b) the
probability of the true class, (c) the most probable class.

Two exact ways to compute it. ``batched`` pushes every occluded copy, in batches, through the
whole network. ``incremental`` (as Krypton, Nakandala et al., SIGMOD 2019) runs the unoccluded
image once, caches every activation, and for each copy recomputes at each layer only the window
the square can reach, gathered from the cached activations with the changed patch pasted in; it
applies to the longest chain of convs, pools, batch norms and ReLUs at the start of the network,
and the rest runs as usual on the patched map.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..core.errors import LayerError
from ..nn.graph import ModelGraph, pair
from ..nn.hooks import forward_hooks
from ..nn.surgery import tail_from
from ..results.artifacts import OCCLUSION_MAPS, OcclusionStudy
from .attribution import attributions
from .deconv import Projector
from .relevance import RelevanceProjector

OcclusionAlgorithm = Literal["auto", "batched", "incremental"]  # how the occluded copies are evaluated
AUTO_MAX_FRACTION = 0.6  # auto uses incremental inference below this share of the convs' work


@dataclass
class OcclusionMaps:
    """Per image (N): maps of shape (N, ceil(H/stride), ceil(W/stride))."""

    activity: torch.Tensor  # summed activity of the strongest feature map of the layer
    probability: torch.Tensor  # probability of the target class
    predicted: torch.Tensor  # most probable class (long)
    channel: torch.Tensor  # (N,) the strongest feature map, chosen on the unoccluded image
    layer: str


def grid_starts(size: int, window: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each centre on the stride grid: the square's clipped start and end along one axis."""
    centres = torch.arange(0, size, stride)
    start = centres - window // 2
    return start.clamp(min=0), (start + window).clamp(max=size)


def occluded_copies(image: torch.Tensor, window: int, stride: int, fill: float) -> torch.Tensor:
    """Every occluded copy of one (C, H, W) image, row-major over the stride grid: (P, C, H, W)."""
    _, height, width = image.shape
    y0, y1 = grid_starts(height, window, stride)
    x0, x1 = grid_starts(width, window, stride)
    rows = torch.arange(height)
    cols = torch.arange(width)
    in_y = (rows[None, :] >= y0[:, None]) & (rows[None, :] < y1[:, None])  # (Py, H)
    in_x = (cols[None, :] >= x0[:, None]) & (cols[None, :] < x1[:, None])  # (Px, W)
    mask = (in_y[:, None, :, None] & in_x[None, :, None, :]).reshape(-1, 1, height, width)
    return torch.where(mask.to(image.device), torch.as_tensor(fill, dtype=image.dtype, device=image.device), image)


def default_layer(graph: ModelGraph) -> str:
    """The last analysed layer with spatial maps."""
    spatial = [layer.name for layer in graph.layers if layer.spatial]
    if not spatial:
        raise LayerError("the model has no analysed layer with spatial feature maps to occlude")
    return spatial[-1]


def _check(graph: ModelGraph, layer: str, window: int, stride: int) -> None:
    if not graph.layer(layer).spatial:
        raise LayerError(f"occlusion needs a layer with spatial feature maps; {layer!r} has shape {graph.layer(layer).shape}")
    height, width = graph.input_shape[1:]
    if window < 1 or window > max(height, width):
        raise ValueError(f"occlusion window {window} does not fit images of {height}x{width}")
    if stride < 1:
        raise ValueError(f"occlusion stride must be at least 1, got {stride}")


@torch.no_grad()
def _strongest(model: nn.Module, layer: str, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The strongest channel of ``layer`` per image, and the logits, on the unoccluded images."""
    captured = {}
    with forward_hooks(model, [layer], lambda name, out: captured.__setitem__(name, out.detach())):
        logits = model(images)
    maps = captured[layer]
    return maps.flatten(2).amax(dim=2).argmax(dim=1), logits


@torch.no_grad()
def _batched(model, layer, images, targets, channels, window, stride, fill, batch_size):
    n, _, height, width = images.shape
    grid = (len(range(0, height, stride)), len(range(0, width, stride)))
    activity, probability, predicted = [], [], []
    for i in range(n):
        copies = occluded_copies(images[i], window, stride, fill)
        for start in range(0, len(copies), batch_size):
            chunk = copies[start:start + batch_size]
            captured = {}
            with forward_hooks(model, [layer], lambda name, out, captured=captured: captured.__setitem__(name, out)):
                logits = model(chunk)
            activity.append(captured[layer][:, channels[i]].double().sum(dim=(1, 2)).float())
            probs = logits.float().softmax(dim=1)
            probability.append(probs[:, targets[i]])
            predicted.append(probs.argmax(dim=1))
    shape = (n, *grid)
    return (torch.cat(activity).view(shape), torch.cat(probability).view(shape), torch.cat(predicted).view(shape))


def occlude(
    model: nn.Module,
    images: torch.Tensor,
    targets: Sequence[int] | torch.Tensor,
    window: int,
    stride: int = 1,
    layer: str | None = None,
    fill: float = 0.0,
    method: OcclusionAlgorithm = "auto",
    batch_size: int = 128,
    graph: ModelGraph | None = None,
) -> OcclusionMaps:
    """Occlusion maps for normalised ``images`` (N, C, H, W) and their ``targets`` (true classes).

    The square (``window`` px, filled with ``fill``: 0 is the dataset mean after normalisation) is
    centred on each pixel of the stride grid and clipped at the borders, so each map has
    ceil(H/stride) x ceil(W/stride) entries. ``layer`` defaults to the last analysed conv layer;
    its strongest feature map is the channel with the highest activation on the unoccluded image.
    """
    model.eval()
    graph = graph or ModelGraph(model, tuple(images.shape[1:]))
    layer = layer or default_layer(graph)
    _check(graph, layer, window, stride)
    targets = torch.as_tensor(targets, dtype=torch.long)
    channels, _ = _strongest(model, layer, images)
    plan = IncrementalPlan(model, graph, layer) if method != "batched" else None
    if method == "incremental" and not plan.usable:
        raise LayerError(f"incremental occlusion cannot reach layer {layer!r}: {plan.reason}")
    if method == "auto" and plan.usable and plan.conv_fraction(window) > AUTO_MAX_FRACTION:
        plan = None  # the square reaches most of the maps: recomputing windows would not pay
    if plan is not None and plan.usable:
        maps = plan.run(images, targets, channels, window, stride, fill, batch_size)
    else:
        maps = _batched(model, layer, images, targets, channels, window, stride, fill, batch_size)
    return OcclusionMaps(*maps, channel=channels, layer=layer)


# -- incremental inference ------------------------------------------------------------------------

@dataclass
class _Step:
    """One spatial op of the chain, with its geometry along each axis (kernel, stride, padding, dilation)."""

    node: fx.Node
    module: nn.Module
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    pad_value: float = 0.0

    @property
    def spatial(self) -> bool:
        return self.kernel != (1, 1) or self.stride != (1, 1) or self.padding != (0, 0)

    def apply_window(self, window: torch.Tensor) -> torch.Tensor:
        """The op on an already padded window (no padding of its own)."""
        m = self.module
        if isinstance(m, nn.Conv2d):
            return F.conv2d(window, m.weight, m.bias, m.stride, 0, m.dilation, m.groups)
        if isinstance(m, nn.MaxPool2d):
            return F.max_pool2d(window, m.kernel_size, m.stride, 0, m.dilation)
        if isinstance(m, nn.AvgPool2d):
            return F.avg_pool2d(window, m.kernel_size, m.stride, 0)
        return m(window)


class IncrementalPlan:
    """The chain of ops from the input that incremental occlusion recomputes window by window."""

    def __init__(self, model: nn.Module, graph: ModelGraph, layer: str):
        self.model, self.graph, self.layer = model, graph, layer
        self.steps: list[_Step] = []
        self.reason = ""
        node = next(n for n in graph.nodes if n.op == "placeholder")
        while len(node.users) == 1:
            user = next(iter(node.users))
            step = self._step(user)
            if step is None:
                break
            self.steps.append(step)
            node = user
        self.cut = node  # the last node of the chain
        chain = {step.node for step in self.steps}
        self.layer_node = graph.output_node.get(layer)
        if not any(isinstance(s.module, nn.Conv2d) for s in self.steps):
            self.reason = "the network does not start with a chain of convs"
        elif self.layer_node not in chain:
            self.reason = f"the chain of convs, pools, batch norms and ReLUs from the input ends before {layer!r}"
        self.usable = not self.reason
        if self.usable:
            self.tail = tail_from(graph, self.cut)

    def conv_fraction(self, window: int) -> float:
        """The share of the chain's conv multiply-adds that incremental inference recomputes per copy."""
        height, width = self.graph.input_shape[1:]
        length = [min(window, height), min(window, width)]
        size = [height, width]
        done = total = 0.0
        for step in self.steps:
            shape = self.graph.shape(step.node)
            out = shape[1:] if shape and len(shape) == 3 else size
            if step.spatial:
                for axis in (0, 1):
                    reach = step.dilation[axis] * (step.kernel[axis] - 1)
                    length[axis] = min(out[axis], (length[axis] - 1 + reach) // step.stride[axis] + 1)
            size = list(out)
            if isinstance(step.module, nn.Conv2d):
                per_output = step.module.in_channels * step.kernel[0] * step.kernel[1] // step.module.groups
                done += length[0] * length[1] * per_output * step.module.out_channels
                total += size[0] * size[1] * per_output * step.module.out_channels
        return done / total if total else 1.0

    def _step(self, node: fx.Node) -> _Step | None:
        if node.op != "call_module" or len(node.all_input_nodes) != 1:
            return None
        module = self.graph.modules[node.target]
        if isinstance(module, (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Hardtanh, nn.BatchNorm2d, nn.Identity, nn.Dropout)):
            return _Step(node, module)
        if isinstance(module, nn.Conv2d) and isinstance(module.padding, tuple) and module.padding_mode == "zeros":
            return _Step(node, module, pair(module.kernel_size), pair(module.stride), pair(module.padding),
                         pair(module.dilation))
        if isinstance(module, nn.MaxPool2d):
            return _Step(node, module, pair(module.kernel_size), pair(module.stride or module.kernel_size),
                         pair(module.padding), pair(module.dilation), float("-inf"))
        if isinstance(module, nn.AvgPool2d) and not module.ceil_mode and (
                module.count_include_pad or pair(module.padding) == (0, 0)) and module.divisor_override is None:
            return _Step(node, module, pair(module.kernel_size), pair(module.stride or module.kernel_size),
                         pair(module.padding))
        return None

    @torch.no_grad()
    def run(self, images, targets, channels, window, stride, fill, batch_size):
        n, _, height, width = images.shape
        ys0, ys1 = grid_starts(height, window, stride)
        xs0, xs1 = grid_starts(width, window, stride)
        py, px = len(ys0), len(xs0)
        span = (min(window, height), min(window, width))
        # the fixed-size input patch of each copy: inside the image, covering the clipped square
        starts_y = (torch.arange(0, height, stride) - window // 2).clamp(min=0, max=height - span[0])
        starts_x = (torch.arange(0, width, stride) - window // 2).clamp(min=0, max=width - span[1])
        activity, probability, predicted = [], [], []
        for i in range(n):
            cache = self._cache(images[i:i + 1])
            layer_map = cache[self.layer_node][0, channels[i]].double()
            total = layer_map.sum()
            positions = torch.cartesian_prod(torch.arange(py), torch.arange(px))
            for begin in range(0, len(positions), batch_size):
                chosen = positions[begin:begin + batch_size]
                gy, gx = chosen[:, 0], chosen[:, 1]
                ay, ax = starts_y[gy], starts_x[gx]
                patch = self._input_patch(images[i], ay, ax, span, ys0[gy], ys1[gy], xs0[gx], xs1[gx], fill)
                where = (ay, ax)
                layer_sum = None
                for step in self.steps:
                    patch, where = self._advance(step, cache, patch, where)
                    if step.node is self.layer_node:
                        layer_sum = self._patched_sum(layer_map, total, patch[:, channels[i]].double(), where)
                final = self._paste(cache[self.cut], patch, where)
                logits = self.tail(final)
                probs = logits.float().softmax(dim=1)
                activity.append(layer_sum.float())
                probability.append(probs[:, targets[i]])
                predicted.append(probs.argmax(dim=1))
        shape = (n, py, px)
        return torch.cat(activity).view(shape), torch.cat(probability).view(shape), torch.cat(predicted).view(shape)

    def _cache(self, image: torch.Tensor) -> dict:
        """Every chain activation of the unoccluded image, and each spatial op's padded input."""
        cache, value = {}, image
        for step in self.steps:
            if step.spatial:
                cache[(step.node, "padded")] = self._padded(step, value, step.module(value).shape[-2:])
            value = step.module(value)
            cache[step.node] = value
        return cache

    @staticmethod
    def _padded(step: _Step, value: torch.Tensor, out_shape) -> torch.Tensor:
        """The op's input padded as the op pads it (zeros, or -inf for max pools), plus what ceil_mode reads."""
        (py, px) = step.padding
        need = [(out_shape[a] - 1) * step.stride[a] + step.dilation[a] * (step.kernel[a] - 1) + 1 for a in (0, 1)]
        extra_h = max(0, need[0] - (value.shape[2] + 2 * py))
        extra_w = max(0, need[1] - (value.shape[3] + 2 * px))
        return F.pad(value, (px, px + extra_w, py, py + extra_h), value=step.pad_value)

    def _advance(self, step: _Step, cache, patch, where):
        """Recompute one op on the window each copy's changed patch can reach."""
        if not step.spatial:
            return step.module(patch), where
        out_shape = cache[step.node].shape[-2:]
        windows, starts = [], []
        for axis in (0, 1):
            k, s, p, d = step.kernel[axis], step.stride[axis], step.padding[axis], step.dilation[axis]
            length, size_out = patch.shape[2 + axis], out_shape[axis]
            reach = d * (k - 1)
            out_len = min(size_out, (length - 1 + reach) // s + 1)
            # the first output whose window reaches the patch, kept so that out_len outputs fit
            first = torch.div(where[axis] + p - reach + s - 1, s, rounding_mode="floor").clamp(min=0)
            first = first.clamp(max=size_out - out_len)
            windows.append((first * s, (out_len - 1) * s + reach + 1))
            starts.append(first)
        window = self._gather_with_patch(cache[(step.node, "padded")], patch, where, windows, step.padding)
        return step.apply_window(window), (starts[0], starts[1])

    @staticmethod
    def _input_patch(image, ay, ax, span, y0, y1, x0, x1, fill):
        """(B, C, h, w): the image under each copy's patch, with its square filled."""
        rows = ay[:, None] + torch.arange(span[0])  # (B, h)
        cols = ax[:, None] + torch.arange(span[1])  # (B, w)
        patch = image[:, rows[:, :, None], cols[:, None, :]].permute(1, 0, 2, 3)  # (B, C, h, w)
        inside = ((rows >= y0[:, None]) & (rows < y1[:, None]))[:, :, None] & (
            (cols >= x0[:, None]) & (cols < x1[:, None]))[:, None, :]
        return torch.where(inside[:, None], torch.as_tensor(fill, dtype=image.dtype), patch)

    @staticmethod
    def _gather_with_patch(padded, patch, where, windows, padding):
        """(B, C, wh, ww) windows of the padded cached input, with each copy's patch pasted in."""
        (ystart, ylen), (xstart, xlen) = windows
        rows = ystart[:, None] + torch.arange(ylen)  # padded coordinates (B, wh)
        cols = xstart[:, None] + torch.arange(xlen)
        window = padded[0][:, rows[:, :, None], cols[:, None, :]].permute(1, 0, 2, 3)
        prow = rows - padding[0] - where[0][:, None]  # patch coordinates
        pcol = cols - padding[1] - where[1][:, None]
        valid = ((prow >= 0) & (prow < patch.shape[2]))[:, :, None] & ((pcol >= 0) & (pcol < patch.shape[3]))[:, None, :]
        batch = torch.arange(len(patch))[:, None, None]
        values = patch[batch, :, prow.clamp(0, patch.shape[2] - 1)[:, :, None], pcol.clamp(0, patch.shape[3] - 1)[:, None, :]]
        return torch.where(valid[:, None], values.permute(0, 3, 1, 2), window)

    @staticmethod
    def _paste(full: torch.Tensor, patch: torch.Tensor, where) -> torch.Tensor:
        """Each copy's full map: the cached map with its patch pasted at ``where``."""
        out = full.expand(len(patch), -1, -1, -1).clone()
        rows = where[0][:, None] + torch.arange(patch.shape[2])
        cols = where[1][:, None] + torch.arange(patch.shape[3])
        batch = torch.arange(len(patch))[:, None, None]
        out.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]] = patch.permute(0, 2, 3, 1)
        return out

    @staticmethod
    def _patched_sum(full_map, total, patch_map, where):
        """Sum of one channel's map per copy: the cached total, less the cached patch area, plus the patch."""
        rows = where[0][:, None] + torch.arange(patch_map.shape[1])
        cols = where[1][:, None] + torch.arange(patch_map.shape[2])
        under = full_map[rows[:, :, None], cols[:, None, :]].sum(dim=(1, 2))
        return total - under + patch_map.sum(dim=(1, 2))


def first_per_class(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices of the first ``per_class`` images of every class, ordered by class then index."""
    chosen = [torch.nonzero(labels == cls).flatten()[:per_class] for cls in range(int(labels.max()) + 1)]
    return torch.cat(chosen) if chosen else torch.zeros(0, dtype=torch.long)


def occlusion_study(model: nn.Module, graph: ModelGraph, images: torch.Tensor, labels: torch.Tensor,
                    windows: Sequence[int], stride: int, layer: str | None = None, fill: float = 0.0,
                    method: OcclusionAlgorithm = "auto", batch_size: int = 256,
                    indices: np.ndarray | None = None) -> OcclusionStudy:
    """Everything the occlusion pages show for normalised ``images`` (the probe images ``indices``)
    and their ``labels``: the maps for every window, the deconvnet projection and the gradient x
    input heatmap of each image's strongest feature map at ``layer`` (default: the last spatial one)
    at its top activation, and gradient attributions for the true and the predicted class."""
    layer = layer or default_layer(graph)
    maps: dict[str, dict[int, np.ndarray]] = {kind: {} for kind in OCCLUSION_MAPS}
    channels = None
    for window in windows:
        occluded = occlude(model, images, labels, window, stride, layer, fill, method, batch_size, graph)
        channels = occluded.channel
        maps["activity"][window] = occluded.activity.cpu().numpy()
        maps["probability"][window] = occluded.probability.cpu().numpy()
        maps["predicted"][window] = occluded.predicted.cpu().numpy()
    with torch.no_grad():
        probs = model(images).float().softmax(dim=1).cpu()
    projector = Projector(model, layer, graph.input_shape, graph=graph)
    acts = projector.activations(images)
    flat = acts[torch.arange(len(images)), channels].flatten(1).argmax(dim=1)
    units = torch.stack([channels.cpu(), flat.cpu() // acts.shape[3], flat.cpu() % acts.shape[3]], dim=1)
    projection = projector(images, units.to(images.device)).permute(0, 2, 3, 1).cpu().numpy()
    heatmap = RelevanceProjector(model, layer, graph.input_shape, "gradient_input", graph)(
        images, units.to(images.device)).permute(0, 2, 3, 1).cpu().numpy()
    predicted_clean = probs.argmax(1)
    attributed = {}
    for kind, classes in (("true", labels), ("predicted", predicted_clean)):
        found = attributions(model, images, classes.to(images.device), layer)
        attributed[kind] = {"saliency": found["saliency"].cpu().numpy(),
                            "guided": found["guided"].permute(0, 2, 3, 1).cpu().numpy(),
                            "gradcam": found["gradcam"].cpu().numpy()}
    return OcclusionStudy(
        layer=layer, windows=[int(w) for w in windows], stride=int(stride),
        images=np.arange(len(images)) if indices is None else np.asarray(indices), labels=labels.cpu().numpy(),
        predicted=predicted_clean.numpy(), probability=probs.gather(1, labels.cpu().view(-1, 1)).squeeze(1).numpy(),
        channels=channels.cpu().numpy(), units=units.numpy(), projection=projection, heatmap=heatmap, maps=maps,
        attributions=attributed)
