"""Snakemake glue for rule ablation_pages: see convatlas.jobs.ablation.run_ablation_pages."""
from convatlas.jobs import job_arguments
from convatlas.jobs.ablation import run_ablation_pages

run_ablation_pages(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
