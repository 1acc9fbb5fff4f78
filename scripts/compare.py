"""Snakemake glue for rule compare: see convatlas.jobs.compare.run_compare."""
from convatlas.jobs import job_arguments
from convatlas.jobs.compare import run_compare

run_compare(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
