"""Snakemake glue for rule transfer: source-class training, then few-shot transfer versus scratch."""
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to
from convatlas.transfer import transfer_study

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
transfer_study(snakemake.wildcards.model, params.model, params.dataset_name, params.dataset, params.settings,
               snakemake.output.table, params.state_dir, pick_device(params.device))
