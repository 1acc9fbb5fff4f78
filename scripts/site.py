"""Snakemake glue for rule site: the index page and one page per model."""
from pathlib import Path

from convatlas.io import read_json
from convatlas.logs import log_to
from convatlas.site import render_overview

log_to(snakemake.log[0])
summaries = [read_json(path) for path in snakemake.input.summaries]
plots = {
    model: {"curves": curves, "per_class": per_class, "classes": classes}
    for model, curves, per_class, classes in zip(
        snakemake.params.models, snakemake.input.curves, snakemake.input.per_class, snakemake.input.class_images
    )
}
render_overview(
    summaries,
    plots,
    snakemake.params.page_epochs,
    dict(zip(snakemake.params.variant_bases, snakemake.input.variants)),
    snakemake.params.templates,
    Path(snakemake.output.index).parent,
    snakemake.params.title,
)
