"""Jobs of the replication report: the responses that show how channels settle over the checkpoints,
and the findings page of a model."""
from __future__ import annotations

from typing import Any

from ..core.logs import work_starts


def run_evolution(inputs: Any, outputs: Any, params: Any) -> None:
    """Each analysed channel's responses on the first probe images at every checkpoint, and how well
    each earlier checkpoint's correlate with the last one's, as Parquet."""
    import torch

    from ..analyses.evolution import channel_responses, settling
    from ..core.io import write_parquet
    from ..core.logs import progress
    from .subject import load_subject

    work_starts()
    responses = {}
    for epoch, path in progress(list(zip(params.epochs, inputs.checkpoints, strict=True)), "checkpoints"):
        subject = load_subject(path, params.dataset, params.layers, params.device, params.threads)
        indices = torch.arange(min(params.images, len(subject.images)))
        responses[int(epoch)] = channel_responses(subject.model, [layer.name for layer in subject.layers], subject.inputs(params.batch_size), indices)
    write_parquet(settling(responses), outputs.table)


def run_findings(inputs: Any, outputs: Any, params: Any) -> None:
    """The findings of a model (JSON) and its findings page, from the analyses that ran (no torch)."""
    from ..analyses.findings import findings
    from ..core.io import read_parquet
    from ..results.artifacts import (
        CorrespondenceDesign,
        FindingsReport,
        IndexManifest,
        InvarianceStrips,
        ModelSummary,
        OcclusionStudy,
    )
    from ..site.pages.findings import render_findings
    from . import job_pictures, site_renderer

    work_starts()
    correspondence = invariance = occlusion = evolution = variants = None
    if hasattr(inputs, "correspondence_pairs"):
        correspondence = (read_parquet(inputs.correspondence_pairs), CorrespondenceDesign.read(inputs.correspondence_meta).layers)
    if hasattr(inputs, "invariance_table"):
        strips = InvarianceStrips.read(inputs.invariance_strips)
        invariance = (read_parquet(inputs.invariance_table), strips.first_layer, strips.top_layer)
    if hasattr(inputs, "occlusion"):
        study = OcclusionStudy.read(inputs.occlusion)
        occlusion = (study, job_pictures(params).images(study.images))
    if hasattr(inputs, "evolution"):
        evolution = read_parquet(inputs.evolution)
    if hasattr(inputs, "variants"):
        variants = read_parquet(inputs.variants)
    results = findings(params.model, correspondence, invariance, occlusion, evolution, variants)
    FindingsReport(params.model, int(params.epoch), [finding.as_dict() for finding in results]).write(outputs.findings)
    render_findings(site_renderer(params, IndexManifest.read(inputs.layers).provenance), params.model, int(params.epoch), results,
                    ModelSummary.read(inputs.summary), params.sections)
