"""Snakemake glue for rule compare: the architecture comparison page."""
from pathlib import Path

from convatlas.comparison import render_comparison
from convatlas.logs import log_to

log_to(snakemake.log[0])
params, inputs = snakemake.params, snakemake.input
models = params.models
render_comparison(
    models,
    params.epochs,
    dict(zip(models, inputs.summaries)),
    dict(zip(models, inputs.stats)),
    dict(zip(models, inputs.probes)),
    dict(zip(models, inputs.occlusions)),
    dict(zip(params.transfer_models, inputs.transfers)),
    params.templates,
    Path(snakemake.output.page).parent,
    params.title,
)
