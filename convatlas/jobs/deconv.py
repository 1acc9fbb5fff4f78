"""The deconv job: every top-k unit of one layer projected back to pixel space."""
from __future__ import annotations

from typing import Any

from ..analyses.deconv import project_top_k
from ..core.io import read_parquet
from ..core.logs import work_starts
from ..site.images import display_tile
from .subject import load_subject


def run_deconv(inputs: Any, outputs: Any, params: Any) -> None:
    """Write the layer's projections (one array per method, (n, k, h, w, 3) display-ready uint8 tiles
    of at most 112 px a side, row i for channel ``channels[i]``: the ``analysis.channels_per_layer``
    selection), compressed; with ``params.checks``, the sanity checks of each kind of picture
    (:func:`convatlas.analyses.sanity.projection_checks`); for the layer of the first conv's
    rectified output also the conv's ``filters`` (C, in, kh, kw)."""
    work_starts()
    subject = load_subject(inputs.checkpoint, params.dataset, None, params.device, params.threads, params.probe)
    channels = subject.selected_channels(params.layer, params.channels)
    probe, index = subject.inputs(params.batch_size), read_parquet(inputs.index)
    projections = project_top_k(subject.model, params.layer, index, probe, params.methods, params.branches,
                                channels=channels, tile=display_tile, graph=subject.graph)
    if getattr(params, "checks", False):  # whether these pictures depend on the image and on the weights
        from ..analyses.randomisation import projection_checks

        projections.checks.update(projection_checks(subject.model, params.layer, index, probe, projections,
                                                    graph=subject.graph, tile=display_tile))
    first = subject.graph.first_conv()
    if first and first[1] == params.layer and subject.probe is None:
        projections.filters = subject.model.get_submodule(first[0]).weight.detach().cpu().numpy()
    previous, following = getattr(params, "previous_layer", ""), getattr(params, "next_layer", "")
    every = list(range(subject.graph.layer(params.layer).channels))  # cheap: every channel, not only the projected
    if previous and subject.probe is None:  # which channels of the previous analysed layer build each channel
        from ..analyses.connections import connection_strengths

        projections.connections = connection_strengths(subject.model, previous, params.layer, index, probe, every,
                                                       subject.graph)
        projections.connections_from = previous
    if following and subject.probe is None:  # which channels of the next analysed layer each channel feeds
        from ..analyses.connections import feed_strengths

        projections.feeds = feed_strengths(subject.model, params.layer, following, index, probe, every, subject.graph)
        projections.feeds_to = following
    projections.write(outputs.projections)
