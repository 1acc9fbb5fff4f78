"""Snakemake glue for rule analysis_pages: see convatlas.jobs.analyses.run_analysis_pages."""
from convatlas.jobs import job_arguments
from convatlas.jobs.analyses import run_analysis_pages

run_analysis_pages(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
