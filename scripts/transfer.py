"""Snakemake glue for rule transfer: see convatlas.jobs.compare.run_transfer."""
from convatlas.jobs import job_arguments
from convatlas.jobs.compare import run_transfer

run_transfer(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
