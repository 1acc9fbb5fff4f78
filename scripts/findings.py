"""Snakemake glue for rule findings: see convatlas.jobs.findings.run_findings."""
from convatlas.jobs import job_arguments
from convatlas.jobs.findings import run_findings

run_findings(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
