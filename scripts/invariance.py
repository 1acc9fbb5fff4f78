"""Snakemake glue for rule invariance: see convatlas.jobs.analyses.run_invariance."""
from convatlas.jobs import job_arguments
from convatlas.jobs.analyses import run_invariance

run_invariance(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
