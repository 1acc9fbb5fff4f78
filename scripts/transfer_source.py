"""Snakemake glue for rule transfer_source: see convatlas.jobs.compare.run_transfer_source."""
from convatlas.jobs import job_arguments
from convatlas.jobs.compare import run_transfer_source

run_transfer_source(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
