"""Snakemake glue for rule channel_ablation: every channel of one layer switched off alone."""
from convatlas.ablation import ablate_checkpoint_layer
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
ablate_checkpoint_layer(snakemake.input.checkpoint, params.dataset, snakemake.wildcards.layer, params.settings,
                        snakemake.output.table, pick_device(params.device))
