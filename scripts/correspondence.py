"""Snakemake glue for rule correspondence: Delta per part and layer."""
from convatlas.correspondence import correspondence_study
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
correspondence_study(snakemake.input.checkpoint, params.dataset, params.settings, params.layers,
                     snakemake.output.table, snakemake.output.meta, pick_device(params.device))
