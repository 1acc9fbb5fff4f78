"""Snakemake glue for rule linear_probes: see convatlas.jobs.compare.run_linear_probes."""
from convatlas.jobs import job_arguments
from convatlas.jobs.compare import run_linear_probes

run_linear_probes(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
