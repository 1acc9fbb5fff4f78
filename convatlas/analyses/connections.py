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
"""
from __future__ import annotations

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
    import torch

    from ..core.logs import progress
    from ..nn.graph import ModelGraph
    from ..nn.surgery import LayerSplit
    from ..results.artifacts import ChannelArrays

    model.eval()
    graph = graph or ModelGraph(model, inputs.shape)
    split = LayerSplit(model, graph, earlier, until=layer)
    rows = index[(index.layer == layer) & index.channel.isin(list(channels)) & (index.value > 0)]
    rows = rows.sort_values(["channel", "rank"])
    rows_of = ChannelArrays(np.asarray(channels, dtype=np.int64))
    sums = np.zeros((len(channels), graph.layer(earlier).channels))
    counts = np.zeros(len(channels))
    steps = range(0, len(rows), inputs.batch_size)
    for start in progress(steps, f"connections {earlier} -> {layer}", enabled=inputs.show_progress):
        chunk = rows.iloc[start:start + inputs.batch_size]
        x = inputs.take(chunk.image.to_numpy(dtype=np.int64, copy=True))
        with torch.no_grad():
            head = split.head(x)
        activation = head[0].detach().requires_grad_(True)
        with torch.enable_grad():
            out = split.tail(activation.clone(), *head[1:])  # a clone: the tail may change its input in place
            picked = torch.arange(len(chunk))
            chans = torch.as_tensor(chunk.channel.to_numpy(dtype=np.int64, copy=True), device=out.device)
            if out.dim() == 4:
                ys = torch.as_tensor(chunk.y.to_numpy(dtype=np.int64, copy=True), device=out.device)
                xs = torch.as_tensor(chunk.x.to_numpy(dtype=np.int64, copy=True), device=out.device)
                units = out[picked, chans, ys, xs]
            else:
                units = out[picked, chans]
            (gradient,) = torch.autograd.grad(units.sum(), activation, allow_unused=True)
        if gradient is None:  # the layer does not depend on the earlier one (parallel branches): no connection
            gradient = torch.zeros_like(activation)
        contribution = (gradient * activation.detach()).flatten(2).sum(dim=2) if activation.dim() > 2 \
            else gradient * activation.detach()
        targets = np.asarray(rows_of.rows(chunk.channel))
        np.add.at(sums, targets, contribution.double().cpu().numpy())
        np.add.at(counts, targets, 1)
    return sums / np.maximum(counts, 1)[:, None]


def strongest(strengths: np.ndarray, count: int = 5) -> list[list[tuple[int, float]]]:
    """Per row, the ``count`` columns of largest absolute strength (column, strength), strongest first."""
    order = np.argsort(-np.abs(strengths), axis=1, kind="stable")[:, :count]
    return [[(int(j), float(strengths[i, j])) for j in row if strengths[i, j] != 0] for i, row in enumerate(order)]
