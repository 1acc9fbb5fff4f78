"""Snakemake glue for rule class_images: an image that maximises each class logit."""
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to
from convatlas.maximise import maximise_classes

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
maximise_classes(snakemake.input.checkpoint, params.settings, snakemake.output.images, snakemake.output.png,
                 pick_device(params.device))
