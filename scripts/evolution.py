"""Snakemake glue for rule evolution: see convatlas.jobs.findings.run_evolution."""
from convatlas.jobs import job_arguments
from convatlas.jobs.findings import run_evolution

run_evolution(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
