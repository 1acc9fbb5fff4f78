"""The model-dependence check of projection pictures (see :mod:`convatlas.analyses.sanity`): the
same projections through a copy of the model whose layers on the way to the analysed one are
re-initialised, and both checks for every kind of picture of a layer, as the deconv job stores them."""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..core.crops import receptive_patch
from ..data.model_inputs import ModelInputs
from ..nn.graph import ModelGraph
from ..nn.surgery import ancestors
from ..results.artifacts import Projections
from .channel_selection import spread
from .sanity import SAMPLED_CHANNELS, rank_correlation, tile_correlations

RANDOM_SEED = 1_000_003  # not a seed a model is built with (0, 1, 42 ...): it would re-create the initial weights


def randomised_copy(model: nn.Module, graph: ModelGraph, layer: str, seed: int = RANDOM_SEED) -> nn.Module:
    """A copy of ``model`` whose modules on the way to ``layer`` (the layer and all below it) are
    re-initialised by their own ``reset_parameters``, in graph order from one seed."""
    randomised = copy.deepcopy(model)
    modules = dict(randomised.named_modules())
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    on_the_way = ancestors(graph.output_node[layer])
    try:
        for node in graph.nodes:
            if node in on_the_way and node.op == "call_module":
                module = modules.get(node.target)
                if module is not None and hasattr(module, "reset_parameters"):
                    module.reset_parameters()
    finally:
        torch.random.set_rng_state(generator_state)
    return randomised.eval()


def same_graph(graph: ModelGraph, model: nn.Module) -> ModelGraph:
    """``graph`` (traced from a model) for ``model``, a copy of that model with other weights: the
    same nodes and shapes, the copy's modules; no second trace."""
    other = copy.copy(graph)
    other.model, other.modules = model, dict(model.named_modules())
    return other


def model_dependence(trained: Sequence[np.ndarray], randomised, images: torch.Tensor, units: torch.Tensor, field,
                     size: tuple[int, int], tile: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Per unit: the rank correlation between its ``trained`` tile and the tile the ``randomised``
    projector makes of it (cropped to the receptive field as the deconv job crops, then ``tile``, as
    the trained tiles were made). Signed values, not magnitudes: how strongly a pixel is reached
    mostly follows how many paths of the receptive field lead to it, the same for any weights, while
    the signs are what the weights make. A blank randomised tile beside a trained one with contrast
    scores 0 (no rank relation), not NaN: the picture did not survive the randomisation. Projections are linear in their seed (given the switches
    and masks of the forward pass), so ranks do not depend on the activation they start from."""
    projected = randomised(images, units, seed=1.0).detach().cpu().numpy()
    keep = tile or (lambda patch: patch)
    height, width = size
    scores = []
    for i, (_, y, x) in enumerate(units.tolist()):
        box, origin, patch = field.unit_geometry(y, x, height, width)
        randomised_tile = keep(receptive_patch(projected[i].transpose(1, 2, 0), box, origin, patch, fill=0.0))
        score = rank_correlation(trained[i], randomised_tile)
        if score != score and np.ptp(trained[i]) > 0:
            score = 0.0  # a blank randomised picture (e.g. no gradient reaches the unit): nothing of it survived
        scores.append(score)
    return np.asarray(scores, dtype=np.float64)


def projection_checks(model: nn.Module, layer: str, index: pd.DataFrame, inputs: ModelInputs, projections: Projections,
                      sample: int = SAMPLED_CHANNELS, graph: ModelGraph | None = None,
                      tile: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Both checks for every picture kind in ``projections`` (a :func:`project_top_k` result with its
    ``channels``, its tiles made by ``tile``), one value per row: ``check_tiles_<kind>`` (every
    channel's median tile correlation) and ``check_random_<kind>`` (the median rank correlation of its
    tiles with the randomised model's, over the top-k units of ``sample`` of the channels that fire
    (spread evenly, :func:`convatlas.analyses.channel_selection.spread`); NaN for the others)."""
    from .deconv import projector_for

    channels = projections.channels.tolist()
    kinds = list(projections.pictures)
    checks = {f"check_tiles_{kind}": tile_correlations(projections.pictures[kind]) for kind in kinds}
    input_shape = inputs.shape
    graph = graph or ModelGraph(model, input_shape)
    randomised = randomised_copy(model, graph, layer)
    randomised_graph = same_graph(graph, randomised)
    rows = index[(index.layer == layer) & (index.value > 0) & index.channel.isin(channels)]
    firing = sorted(rows.channel.unique().tolist())
    chosen = [firing[i] for i in spread(len(firing), sample)]
    rows = rows[rows.channel.isin(chosen)].sort_values(["channel", "rank"])
    field = graph.layer(layer).receptive_field
    batches = []
    for start in range(0, len(rows), inputs.batch_size):
        chunk = rows.iloc[start:start + inputs.batch_size]
        images = inputs.take(chunk.image.to_numpy(dtype=np.int64, copy=True))
        units = torch.as_tensor(chunk[["channel", "y", "x"]].to_numpy(dtype=np.int64, copy=True), device=images.device)
        batches.append((chunk, images, units))
    for kind in kinds:
        projector = projector_for(randomised, layer, input_shape, kind, randomised_graph, inputs.mean, inputs.std)
        scores = []
        for chunk, images, units in batches:
            trained = [projections.pictures[kind][projections.row(c), int(r)] for c, r in zip(chunk.channel, chunk["rank"], strict=True)]
            scores.append(model_dependence(trained, projector, images, units, field, tuple(input_shape[1:]), tile))
        per_channel = np.full(len(channels), np.nan)
        if scores:
            table = pd.DataFrame({"channel": rows.channel.to_numpy(), "score": np.concatenate(scores)})
            for channel, median in table.groupby("channel").score.median().items():
                per_channel[projections.row(channel)] = median
        checks[f"check_random_{kind}"] = per_channel
    return checks
