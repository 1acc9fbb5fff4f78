"""Benchmark: all top-9 deconvnet projections of a layer versus one forward + backward pass.

Run after `make atlas`:
    .venv/bin/python bench/deconv_speed.py results/zf/checkpoints/epoch-5.pt results/zf/epoch-5/index.parquet
For each analysed layer: the seconds `project_top_k` takes for every channel's top-9 (deconvnet
only), and the seconds of one plain forward + backward pass (gradient of the logits' sum with
respect to the input) over the same images with the same batch size, in one process.
"""
from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from convatlas.analyses.deconv import project_top_k
from convatlas.data.datasets import probe_split
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.models.checkpoint import load_checkpoint
from convatlas.nn.graph import ModelGraph
from convatlas.workflow.config import load_config
from convatlas.workflow.datasets import dataset_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint", nargs="?", default="results/zf/checkpoints/epoch-5.pt")
    parser.add_argument("index", nargs="?", default="results/zf/epoch-5/index.parquet")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, meta = load_checkpoint(args.checkpoint)
    probe = probe_split(dataset_spec(load_config(args.config)["datasets"][meta.dataset], meta.dataset))
    index = pd.read_parquet(args.index)
    shape = (meta.in_channels, meta.image_size, meta.image_size)
    print(f"{meta.arch} epoch {meta.epoch}, batch {args.batch_size}, {args.threads} threads")
    for layer in ModelGraph(model, shape).layers:
        rows = index[index.layer == layer.name].sort_values(["channel", "rank"])
        start = time.perf_counter()
        project_top_k(model, layer.name, index, ModelInputs(probe, meta.mean, meta.std, batch_size=args.batch_size, show_progress=False), methods=['deconvnet'])
        projecting = time.perf_counter() - start
        images = torch.as_tensor(rows.image.to_numpy(copy=True))
        start = time.perf_counter()
        for begin in range(0, len(images), args.batch_size):
            batch = normalise(probe.images(images[begin:begin + args.batch_size]), meta.mean, meta.std)
            batch.requires_grad_(True)
            model(batch).sum().backward()
        baseline = time.perf_counter() - start
        print(f"{layer.name:24s} {layer.channels:4d} channels, {len(rows):5d} projections: {projecting:6.2f} s; "
              f"forward+backward {baseline:6.2f} s; ratio {projecting / baseline:4.2f}x")


if __name__ == "__main__":
    main()
