"""Snakemake glue for rule analysis_pages: occlusion, correspondence and invariance pages."""
from pathlib import Path

from convatlas.analysis_pages import render_analyses
from convatlas.data import probe_set
from convatlas.logs import log_to

log_to(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params
render_analyses(
    snakemake.wildcards.model,
    int(snakemake.wildcards.epoch),
    inputs.occlusion,
    inputs.correspondence_table,
    inputs.correspondence_meta,
    inputs.invariance_table,
    inputs.invariance_strips,
    probe_set(params.dataset, params.dataset_name),
    params.layer_names,
    params.templates,
    Path(snakemake.output.pages).parents[3],
    params.title,
)
