"""Snakemake glue for rule maximise: an image that excites each channel of one layer."""
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to
from convatlas.maximise import maximise_layer

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
maximise_layer(snakemake.input.checkpoint, snakemake.wildcards.layer, snakemake.input.index, params.dataset,
               params.settings, snakemake.output.images, params.batch_size, pick_device(params.device))
