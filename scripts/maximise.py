"""Snakemake glue for rule maximise: see convatlas.jobs.maximise.run_maximise."""
from convatlas.jobs import job_arguments
from convatlas.jobs.maximise import run_maximise

run_maximise(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
