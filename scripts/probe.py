"""Snakemake glue for rule probe: linear probes at every analysed layer."""
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to
from convatlas.probe import probe_checkpoint

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
probe_checkpoint(snakemake.input.checkpoint, params.dataset, params.layers, params.settings,
                 snakemake.output.table, pick_device(params.device))
