"""Snakemake glue for rule site: see convatlas.jobs.site.run_site."""
from convatlas.jobs import job_arguments
from convatlas.jobs.site import run_site

run_site(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
