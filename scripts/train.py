"""Snakemake glue for rule train: train one model, saving checkpoints at the configured epochs."""
from convatlas.config import checkpoint_epochs
from convatlas.data import load_dataset
from convatlas.device import pick_device, set_threads
from convatlas.logs import log_to
from convatlas.train import train_model

log_to(snakemake.log[0])
set_threads(snakemake.threads)
params = snakemake.params
train, test = load_dataset(params.dataset, params.dataset_name)
train_model(
    snakemake.wildcards.model,
    params.model,
    params.dataset_name,
    params.dataset,
    train,
    test,
    checkpoint_epochs(params.model),
    log_path=snakemake.output.train_log,
    state_dir=params.state_dir,
    device=pick_device(params.device),
    eval_batch_size=params.eval_batch_size,
)
