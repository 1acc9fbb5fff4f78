"""Snakemake glue for rule deconv: project one layer's top-k activations back to pixel space."""
from convatlas.deconv import project_checkpoint_layer
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
project_checkpoint_layer(
    snakemake.input.checkpoint,
    snakemake.input.index,
    params.dataset,
    snakemake.wildcards.layer,
    snakemake.output.projections,
    params.methods,
    params.branches,
    params.batch_size,
    pick_device(params.device),
)
