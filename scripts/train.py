"""Snakemake glue for rule train: see convatlas.jobs.train.run_train."""
from convatlas.jobs import job_arguments
from convatlas.jobs.train import run_train

run_train(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
