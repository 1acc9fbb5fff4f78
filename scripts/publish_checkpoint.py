"""Snakemake glue for rule publish_checkpoint: see convatlas.jobs.train.run_publish_checkpoint."""
from convatlas.jobs import job_arguments
from convatlas.jobs.train import run_publish_checkpoint

run_publish_checkpoint(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
