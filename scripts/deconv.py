"""Snakemake glue for rule deconv: see convatlas.jobs.deconv.run_deconv."""
from convatlas.jobs import job_arguments
from convatlas.jobs.deconv import run_deconv

run_deconv(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
