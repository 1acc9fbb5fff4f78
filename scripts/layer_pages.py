"""Snakemake glue for rule layer_pages: the layer page and every channel page of one layer."""
from pathlib import Path

from convatlas.atlas import load_layer_page, render_layer
from convatlas.data import probe_set
from convatlas.logs import log_to

log_to(snakemake.log[0])
wildcards, params, inputs = snakemake.wildcards, snakemake.params, snakemake.input
page = load_layer_page(
    wildcards.model,
    int(wildcards.epoch),
    wildcards.layer,
    params.layer_names,
    params.page_epochs,
    inputs.checkpoint,
    {key: inputs[key] for key in ("index", "stats", "predictions", "layers", "projections", "ablation", "maximise")},
    dict(zip(params.evolution_epochs, inputs.evolution)),
    probe_set(params.dataset, params.dataset_name),
    params.overview_channels,
    params.evolution_channels,
)
render_layer(page, params.templates, Path(snakemake.output.pages).parents[3], params.title)
