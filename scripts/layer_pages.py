"""Snakemake glue for rule layer_pages: see convatlas.jobs.site.run_layer_pages."""
from convatlas.jobs import job_arguments
from convatlas.jobs.site import run_layer_pages

run_layer_pages(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
