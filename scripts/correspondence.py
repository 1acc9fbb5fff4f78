"""Snakemake glue for rule correspondence: see convatlas.jobs.analyses.run_correspondence."""
from convatlas.jobs import job_arguments
from convatlas.jobs.analyses import run_correspondence

run_correspondence(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
