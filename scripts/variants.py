"""Snakemake glue for rule variants: see convatlas.jobs.ablation.run_variants."""
from convatlas.jobs import job_arguments
from convatlas.jobs.ablation import run_variants

run_variants(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
