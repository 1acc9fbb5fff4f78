"""Snakemake glue for rule index: see convatlas.jobs.index.run_index."""
from convatlas.jobs import job_arguments
from convatlas.jobs.index import run_index

run_index(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
