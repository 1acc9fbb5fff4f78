"""Snakemake glue for rule index: top-k images and statistics of every channel of one checkpoint."""
from convatlas.device import pick_device, set_threads
from convatlas.index import index_checkpoint
from convatlas.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
index_checkpoint(
    snakemake.input.checkpoint,
    params.dataset,
    params.layers,
    dict(snakemake.output.items()),
    k=params.top_k,
    ranking=params.ranking,
    batch_size=params.batch_size,
    device=pick_device(params.device),
)
