"""Snakemake glue for rule model_summary: see convatlas.jobs.site.run_model_summary."""
from convatlas.jobs import job_arguments
from convatlas.jobs.site import run_model_summary

run_model_summary(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
