"""Snakemake glue for rule model_summary: a model's summary JSON and its plots."""
from convatlas.device import set_threads
from convatlas.logs import log_to
from convatlas.summary import write_model_summary

log_to(snakemake.log[0])
set_threads(snakemake.threads)
write_model_summary(
    snakemake.wildcards.model,
    snakemake.input.checkpoint,
    snakemake.input.train_log,
    snakemake.output.summary,
    snakemake.output.curves,
    snakemake.output.per_class,
    snakemake.params.layers,
)
