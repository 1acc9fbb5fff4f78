"""Connected channels: which channels of the previous analysed layer build each channel, and by how much.

For a channel of a layer and each of its top images (positive responses only), the contribution of
an earlier channel j to the channel's top unit is gradient x activation summed over j's positions:
``sum_p A_j(p) * d a / d A_j(p)``, where ``A`` is the earlier layer's output. Averaged over the top
images it is the connection's signed strength.

Why this one: for adjacent layers (the unit's pre-activation is a conv or linear map of ``A``, and
the unit fires) it is exactly the summed weight x activation ``sum_p W_j(p) A_j(p)``, the share of
the unit's pre-activation that comes from channel j; the shares and the bias add up to it. Across
a max pool, ReLUs and further convs it stays exact for the network as it acts on that image (the
same pool choices and active units), so the contributions and the biases on the way add up to the
unit's activation, less what reaches it around the earlier layer (a shortcut that skips it). It is
first order where smooth activations lie between (SiLU, GELU).

Cost: the model up to the earlier layer runs once per distinct top image; only the part between
the two layers runs (forward and backward) once per top unit, so every channel of a layer is
connected for little more than the projections of a few.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pages rank connections without importing torch
    import pandas as pd
    from torch import nn

    from ..data.model_inputs import ModelInputs
    from ..nn.graph import ModelGraph


def connection_strengths(model: nn.Module, earlier: str, layer: str, index: pd.DataFrame, inputs: ModelInputs,
                         channels: Sequence[int], graph: ModelGraph | None = None) -> np.ndarray:
    """(len(channels), channels of ``earlier``): for each channel of ``layer`` in ``channels``, the mean
    contribution of every channel of ``earlier`` to its top unit over its top images of the index
    (those with a positive response; a row of zeros for a channel that never fires)."""
    return _over_top_units(model, earlier, layer, layer, index, inputs, channels, graph, _contributions,
                           f"connections {earlier} -> {layer}")


def feed_strengths(model: nn.Module, layer: str, later: str, index: pd.DataFrame, inputs: ModelInputs,
                   channels: Sequence[int], graph: ModelGraph | None = None) -> np.ndarray:
    """(len(channels), channels of ``later``): for each channel of ``layer`` in ``channels``, how much it
    feeds every channel of the later layer on its own top images (those with a positive response):
    ``sum_q sum_p dD(q)/dA(p) * A(p)``, the change of the later channel's map ``D``, summed over its
    positions, along the channel's activation ``A`` (a forward-mode derivative, all later channels at
    once), averaged over the images (a row of zeros for a channel that never fires).

    For adjacent layers it is exactly the channel's summed weight x activation share of the later
    channel's active units; like :func:`connection_strengths` it is exact for the network as it acts
    on the image (pool choices, active units) and first order across smooth activations."""
    return _over_top_units(model, layer, later, layer, index, inputs, channels, graph, _feeds,
                           f"feeds {layer} -> {later}")


def _over_top_units(model: nn.Module, cut: str, until: str, ranked: str, index: pd.DataFrame, inputs: ModelInputs,
                    channels: Sequence[int], graph: ModelGraph | None, measure, label: str) -> np.ndarray:
    """(len(channels), width): ``measure`` of each positive top unit of ``ranked`` (one of ``channels``),
    averaged per channel; the model is split at ``cut`` and runs to ``until``. Its head runs once per
    distinct image; ``measure(split, activation, others, chunk)`` gets each top unit's copy of the cut
    layer's output (and what else the tail needs) and returns a (rows, width) tensor."""
    import torch

    from ..core.logs import progress
    from ..nn.graph import ModelGraph
    from ..nn.surgery import LayerSplit
    from ..results.artifacts import ChannelArrays

    model.eval()
    graph = graph or ModelGraph(model, inputs.shape)
    split = LayerSplit(model, graph, cut, until=until)
    rows = index[(index.layer == ranked) & index.channel.isin(list(channels)) & (index.value > 0)]
    rows = rows.sort_values(["image", "channel", "rank"])
    rows_of = ChannelArrays(np.asarray(channels, dtype=np.int64))
    width = graph.layer(until if ranked == cut else cut).channels  # feeds: the later layer's; reads: the cut one's
    sums, counts = np.zeros((len(channels), width)), np.zeros(len(channels))
    images = np.unique(rows.image.to_numpy(dtype=np.int64))
    groups = [images[start:start + inputs.batch_size] for start in range(0, len(images), inputs.batch_size)]
    ends = np.searchsorted(rows.image.to_numpy(dtype=np.int64), [group[-1] for group in groups], side="right")
    for group, first, end in progress(list(zip(groups, [0, *ends[:-1]], ends, strict=True)), label,
                                      enabled=inputs.show_progress):
        with torch.no_grad():
            head = split.head(inputs.take(group))  # once per distinct image
        mine = rows.iloc[first:end]  # the rows are sorted by image: this group's
        for start in range(0, len(mine), inputs.batch_size):  # the part between the layers, once per top unit
            chunk = mine.iloc[start:start + inputs.batch_size]
            picked = torch.as_tensor(np.searchsorted(group, chunk.image.to_numpy(dtype=np.int64)), device=head[0].device)
            others = [h[picked] if isinstance(h, torch.Tensor) and h.dim() > 0 and h.shape[0] == len(group) else h
                      for h in head[1:]]
            measured = measure(split, head[0][picked], others, chunk)
            targets = np.asarray(rows_of.rows(chunk.channel))
            np.add.at(sums, targets, measured.double().cpu().numpy())
            np.add.at(counts, targets, 1)
    return sums / np.maximum(counts, 1)[:, None]


def _contributions(split, activation, others: list, chunk: pd.DataFrame):
    """(len(chunk), earlier channels): gradient x activation of each row's unit, summed over positions."""
    import torch

    activation = activation.detach().requires_grad_(True)
    with torch.enable_grad():
        out = split.tail(activation.clone(), *others)  # a clone: the tail may change its input in place
        rows = torch.arange(len(chunk), device=out.device)
        chans = torch.as_tensor(chunk.channel.to_numpy(dtype=np.int64, copy=True), device=out.device)
        if out.dim() == 4:
            ys = torch.as_tensor(chunk.y.to_numpy(dtype=np.int64, copy=True), device=out.device)
            xs = torch.as_tensor(chunk.x.to_numpy(dtype=np.int64, copy=True), device=out.device)
            units = out[rows, chans, ys, xs]
        else:
            units = out[rows, chans]
        (gradient,) = torch.autograd.grad(units.sum(), activation, allow_unused=True)
    if gradient is None:  # the layer does not depend on the earlier one (parallel branches): no connection
        gradient = torch.zeros_like(activation)
    product = gradient * activation.detach()
    return product.flatten(2).sum(dim=2) if product.dim() > 2 else product


def _feeds(split, activation, others: list, chunk: pd.DataFrame):
    """(len(chunk), later channels): each later channel's map, summed over positions, differentiated
    along each row's own channel of ``activation`` (forward mode)."""
    import torch
    import torch.autograd.forward_ad as fwad

    along = torch.zeros_like(activation)  # each row's own channel, as it is; the others held
    rows = torch.arange(len(chunk), device=activation.device)
    chans = torch.as_tensor(chunk.channel.to_numpy(dtype=np.int64, copy=True), device=activation.device)
    along[rows, chans] = activation[rows, chans]
    with torch.no_grad(), fwad.dual_level(), warnings.catch_warnings():
        # torch scripts some forward-mode rules on first use and warns that scripting is deprecated
        warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated", category=FutureWarning)
        out = split.tail(fwad.make_dual(activation.clone(), along), *others)
        change = fwad.unpack_dual(out).tangent
    if change is None:  # the later layer does not depend on this one (parallel branches)
        change = torch.zeros_like(out)
    return change.flatten(2).sum(dim=2) if change.dim() > 2 else change


def strongest(strengths: np.ndarray, count: int = 5) -> list[list[tuple[int, float]]]:
    """Per row, the ``count`` columns of largest absolute strength (column, strength), strongest first."""
    order = np.argsort(-np.abs(strengths), axis=1, kind="stable")[:, :count]
    return [[(int(j), float(strengths[i, j])) for j in row if strengths[i, j] != 0] for i, row in enumerate(order)]
