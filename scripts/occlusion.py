"""Snakemake glue for rule occlusion: see convatlas.jobs.analyses.run_occlusion."""
from convatlas.jobs import job_arguments
from convatlas.jobs.analyses import run_occlusion

run_occlusion(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
