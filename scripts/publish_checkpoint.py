"""Snakemake glue for rule publish_checkpoint: copy a checkpoint saved by training to its final name."""
from convatlas.checkpoint import publish_checkpoint
from convatlas.logs import log_to

log_to(snakemake.log[0])
publish_checkpoint(snakemake.params.stashed, snakemake.output.checkpoint)
