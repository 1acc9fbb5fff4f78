"""Snakemake glue for rule invariance: distances and probabilities under transformations."""
from convatlas.device import pick_device, set_threads
from convatlas.invariance import invariance_study
from convatlas.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
invariance_study(snakemake.input.checkpoint, params.dataset, params.settings, params.layers,
                 snakemake.output.table, snakemake.output.strips, pick_device(params.device))
