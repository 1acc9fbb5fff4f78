"""Snakemake glue for rule ablation_pages: the named experiments and the strongest channels."""
from pathlib import Path

from convatlas.ablation import ablation_images
from convatlas.ablation_pages import render_ablation
from convatlas.logs import log_to

log_to(snakemake.log[0])
params = snakemake.params
render_ablation(
    snakemake.wildcards.model,
    int(snakemake.wildcards.epoch),
    snakemake.input.experiments,
    dict(zip(params.layer_names, snakemake.input.layer_tables)),
    ablation_images(params.dataset, params.dataset_name, None),
    params.templates,
    Path(snakemake.output.pages).parents[3],
    params.title,
)
