"""Snakemake glue for rule ablation_experiments: see convatlas.jobs.ablation.run_ablation_experiments."""
from convatlas.jobs import job_arguments
from convatlas.jobs.ablation import run_ablation_experiments

run_ablation_experiments(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
