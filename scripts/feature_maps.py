"""Snakemake glue for rule feature_maps: see convatlas.jobs.site.run_feature_maps."""
from convatlas.jobs import job_arguments
from convatlas.jobs.site import run_feature_maps

run_feature_maps(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
