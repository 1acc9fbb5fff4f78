"""Snakemake glue for rule channel_ablation: see convatlas.jobs.ablation.run_channel_ablation."""
from convatlas.jobs import job_arguments
from convatlas.jobs.ablation import run_channel_ablation

run_channel_ablation(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
