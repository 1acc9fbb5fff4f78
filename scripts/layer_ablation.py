"""Snakemake glue for rule layer_ablation: a base model against its architecture variants."""
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to
from convatlas.variants import variants_study

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
variants_study(snakemake.wildcards.model, snakemake.input.base, params.variants, snakemake.input.variants,
               params.dataset, snakemake.output.table, pick_device(params.device))
