"""Snakemake glue for rule layer_pages: the layer page and every channel page of one layer."""
from pathlib import Path

import pandas as pd

from convatlas.atlas import render_layer
from convatlas.data import probe_set
from convatlas.io import read_json
from convatlas.logs import log_to

log_to(snakemake.log[0])
wildcards, params = snakemake.wildcards, snakemake.params
layers = read_json(snakemake.input.layers)
info = next(layer for layer in layers["layers"] if layer["name"] == wildcards.layer)
render_layer(
    wildcards.model,
    int(wildcards.epoch),
    wildcards.layer,
    info,
    params.layer_names,
    params.page_epochs,
    pd.read_parquet(snakemake.input.index),
    pd.read_parquet(snakemake.input.stats),
    pd.read_parquet(snakemake.input.predictions),
    probe_set(params.dataset, params.dataset_name),
    params.templates,
    Path(snakemake.output.pages).parents[3],
    params.title,
)
