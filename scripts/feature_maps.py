"""Snakemake glue for rule feature_maps: every channel's map at every layer for a few probe images."""
from pathlib import Path

from convatlas.data import probe_set
from convatlas.feature_maps import render_feature_maps
from convatlas.logs import log_to

log_to(snakemake.log[0])
params = snakemake.params
render_feature_maps(
    snakemake.wildcards.model,
    int(snakemake.wildcards.epoch),
    snakemake.input.checkpoint,
    probe_set(params.dataset, params.dataset_name),
    params.images,
    params.layers,
    params.templates,
    Path(snakemake.output.pages).parents[3],
    params.title,
)
