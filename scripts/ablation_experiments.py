"""Snakemake glue for rule ablation_experiments: the named sets of channels switched off together."""
from convatlas.ablation import experiments_checkpoint
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
experiments_checkpoint(snakemake.input.checkpoint, params.dataset, snakemake.input.stats, params.layers,
                       params.settings, snakemake.output.experiments, pick_device(params.device))
