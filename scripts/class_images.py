"""Snakemake glue for rule class_images: see convatlas.jobs.maximise.run_class_images."""
from convatlas.jobs import job_arguments
from convatlas.jobs.maximise import run_class_images

run_class_images(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
