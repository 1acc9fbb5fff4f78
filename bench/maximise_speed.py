"""Benchmark: activation maximisation of a whole layer as one batch versus one channel at a time.

    .venv/bin/python bench/maximise_speed.py results/zf/checkpoints/epoch-5.pt
With the default settings (48 steps x 2 octaves), per analysed layer: all channels optimised
together, against one channel at a time (timed on 4 channels and scaled), in one process.
"""
from __future__ import annotations

import argparse
import time

import torch

from convatlas.analyses.maximise import channel_objective, noise_start, optimise, pixel_bounds
from convatlas.jobs.maximise import maximise_settings
from convatlas.models.checkpoint import load_checkpoint
from convatlas.nn.graph import ModelGraph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint", nargs="?", default="results/zf/checkpoints/epoch-5.pt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sample", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, meta = load_checkpoint(args.checkpoint)
    shape = (meta.in_channels, meta.image_size, meta.image_size)
    settings = maximise_settings()  # the config's defaults
    bounds = pixel_bounds(meta, "cpu")
    print(f"{meta.arch} epoch {meta.epoch}: {settings.steps} steps x {settings.octaves} octaves, {args.threads} threads")
    for layer in ModelGraph(model, shape).layers:
        channels = torch.arange(layer.channels)
        start = time.perf_counter()
        optimise(channel_objective(model, layer.name, channels, shape), noise_start(len(channels), shape, channels.tolist(), settings),
                 channels.tolist(), settings, bounds)
        batched = time.perf_counter() - start
        start = time.perf_counter()
        for c in range(args.sample):
            one = torch.tensor([c])
            optimise(channel_objective(model, layer.name, one, shape), noise_start(1, shape, [c], settings), [c], settings, bounds)
        single = (time.perf_counter() - start) * layer.channels / args.sample
        print(f"{layer.name:24s} {layer.channels:4d} channels: batched {batched:6.1f} s, one at a time {single:7.1f} s "
              f"(scaled from {args.sample}), {single / batched:5.1f}x")


if __name__ == "__main__":
    main()
