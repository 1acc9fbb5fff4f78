"""Benchmark: a whole layer's per-channel ablation versus the naive way.

    .venv/bin/python bench/ablation_speed.py results/zf/checkpoints/epoch-5.pt
On the first 2,000 probe images, for each analysed layer: `channel_ablation` (the layer's input
computed once, only the rest of the network run per channel, channels batched) against the naive
way (for every channel, zero its weights and run the whole network over the images), in one process.
"""
from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import nn

from convatlas.analyses.ablation import channel_ablation, switched_off
from convatlas.data.datasets import analysis_split
from convatlas.data.transforms import normalise
from convatlas.models.checkpoint import load_checkpoint
from convatlas.nn.graph import ModelGraph
from convatlas.workflow.config import load_config


@torch.no_grad()
def naive(model: nn.Module, layer: str, channels: int, images, mean, std, batch_size: int) -> None:
    """One full pass over the images per channel, with that channel switched off."""
    for channel in range(channels):
        ablated = copy.deepcopy(model)
        with switched_off(ablated, {layer: [channel]}):
            for _, batch, _ in images.batches(batch_size):
                ablated(normalise(batch, mean, std))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint", nargs="?", default="results/zf/checkpoints/epoch-5.pt")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, meta = load_checkpoint(args.checkpoint)
    images = analysis_split(load_config(args.config)["datasets"][meta["dataset"]], meta["dataset"]).subset(args.images)
    graph = ModelGraph(model, (meta["in_channels"], meta["image_size"], meta["image_size"]))
    print(f"{meta['arch']} epoch {meta['epoch']}, {len(images)} images, {args.threads} threads")
    for layer in graph.layers:
        start = time.perf_counter()
        channel_ablation(model, layer.name, images, meta["mean"], meta["std"], graph=graph, show_progress=False)
        batched = time.perf_counter() - start
        start = time.perf_counter()
        naive(model, layer.name, layer.channels, images, meta["mean"], meta["std"], 256)
        slow = time.perf_counter() - start
        print(f"{layer.name:24s} {layer.channels:4d} channels: {batched:6.2f} s vs naive {slow:6.2f} s "
              f"({slow / batched:4.1f}x faster)")


if __name__ == "__main__":
    main()
