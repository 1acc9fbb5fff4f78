"""Benchmark: a whole layer's per-channel ablation versus the naive way.

    .venv/bin/python bench/ablation_speed.py results/zf/checkpoints/epoch-5.pt
On the first 2,000 probe images, for each analysed layer, in one process: `channel_ablation` as the
workflow runs it (the network up to the layer, and past the next conv or linear layer where the
channel reaches it through channel-wise ops only, computed once; that op's output less each
channel's share; the rest run per channel, channels batched), the same with the channel zeroed at
the layer (`subtract_shares=False`: the next linear op run per channel too), and the naive way (for
every channel, the whole network over the images with that channel switched off).
"""
from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import nn

from convatlas.analyses.ablation import channel_ablation, switched_off
from convatlas.data.datasets import probe_split
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.models.checkpoint import load_checkpoint
from convatlas.models.registry import in_fast_layout
from convatlas.nn.graph import ModelGraph
from convatlas.nn.surgery import next_linear
from convatlas.workflow.config import load_config
from convatlas.workflow.datasets import dataset_spec


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
    model = in_fast_layout(model, meta.arch)  # as the jobs load it
    images = probe_split(dataset_spec(load_config(args.config)["datasets"][meta.dataset], meta.dataset)).subset(args.images)
    graph = ModelGraph(model, (meta.in_channels, meta.image_size, meta.image_size))
    print(f"{meta.arch} epoch {meta.epoch}, {len(images)} images, {args.threads} threads")
    print(f"{'layer':24s} {'channels':>8s} {'next linear op':>16s} {'workflow':>9s} {'zeroed':>9s} {'naive':>9s}"
          "  naive/workflow")
    for layer in graph.layers:
        seconds = []
        for subtract in (True, False):
            start = time.perf_counter()
            channel_ablation(model, layer.name, ModelInputs(images, meta.mean, meta.std, show_progress=False), graph=graph, subtract_shares=subtract)
            seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        naive(model, layer.name, layer.channels, images, meta.mean, meta.std, 256)
        seconds.append(time.perf_counter() - start)
        linear = next_linear(graph, layer.name)
        print(f"{layer.name:24s} {layer.channels:8d} {linear.node.target if linear else '-':>16s} "
              + " ".join(f"{s:8.2f}s" for s in seconds) + f"  {seconds[2] / seconds[0]:6.1f}x")


if __name__ == "__main__":
    main()
