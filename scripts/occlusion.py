"""Snakemake glue for rule occlusion: occlusion maps of the configured probe images."""
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to
from convatlas.occlusion import occlusion_study

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
occlusion_study(snakemake.input.checkpoint, params.dataset, params.settings, snakemake.output.maps,
                pick_device(params.device))
