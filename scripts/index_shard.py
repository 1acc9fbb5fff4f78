"""Snakemake glue for rules index_shard and probe_index_shard: see convatlas.jobs.index.run_index_shard."""
from convatlas.jobs import job_arguments
from convatlas.jobs.index import run_index_shard

run_index_shard(*job_arguments(snakemake))  # noqa: F821 - Snakemake defines `snakemake`
