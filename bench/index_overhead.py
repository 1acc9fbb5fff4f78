"""Benchmark: the index pass versus a plain eval forward pass, and versus the naive way.

Run on the default model after `make atlas`:
    .venv/bin/python bench/index_overhead.py results/zf/checkpoints/epoch-5.pt
Measures, in one process, on the full probe split with the same batch size: a plain forward pass;
the index pass as the index job runs it at a page epoch (hooks on every analysed layer, running
top-k and statistics, the examples across each channel's range, its top 50 for facets and every
image's embedding); the same without levels and facets (the index before them); and the naive way
(one image at a time through the model, then one channel at a time into a Python top-k list),
timed on a subset and compared per image.
"""
from __future__ import annotations

import argparse
import heapq
import time

import torch

from convatlas.analyses.index import index_pass
from convatlas.data.datasets import probe_split
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.models.checkpoint import load_checkpoint
from convatlas.nn.graph import ModelGraph
from convatlas.workflow.config import load_config
from convatlas.workflow.datasets import dataset_spec


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint", nargs="?", default="results/zf/checkpoints/epoch-5.pt")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--naive-images", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, meta = load_checkpoint(args.checkpoint)
    config = load_config(args.config)
    images = probe_split(dataset_spec(config["datasets"][meta.dataset], meta.dataset))
    size = meta.image_size
    layers = ModelGraph(model, (meta.in_channels, size, size)).layers
    mean, std = meta.mean, meta.std

    @torch.no_grad()
    def plain():
        for _, batch, _ in images.batches(args.batch_size):
            model(normalise(batch, mean, std))

    inputs = ModelInputs(images, mean, std, batch_size=args.batch_size, show_progress=False)

    def index():
        index_pass(model, layers, inputs, k=9, kept=config["analysis"]["facet_examples"])

    def index_alone():  # no level samples, top 9 only: the pass before levels and facets
        index_pass(model, layers, inputs, k=9, levels=False)

    subset = images.subset(args.naive_images)

    @torch.no_grad()
    def naive():
        heaps = {(l.name, c): [] for l in layers for c in range(l.channels)}
        stored = {}
        handles = [model.get_submodule(l.name).register_forward_hook(
            lambda m, i, o, n=l.name: stored.__setitem__(n, o)) for l in layers]
        for i in range(len(subset)):
            model(normalise(subset.data[i:i + 1], mean, std))
            for layer in layers:
                out = stored[layer.name][0]
                for c in range(layer.channels):
                    value = float(out[c].max())
                    heap = heaps[(layer.name, c)]
                    if len(heap) < 9:
                        heapq.heappush(heap, (value, -i))
                    elif value > heap[0][0]:
                        heapq.heapreplace(heap, (value, -i))
        for h in handles:
            h.remove()

    plain(); index()  # warm up
    # interleaved, best of 5 each: the machine's load drifts over a minute, and all three see the same
    times = {fn: [] for fn in (plain, index, index_alone)}
    for _ in range(5):
        for fn, kept in times.items():
            kept.append(best_of(1, fn))
    t_plain, t_index, t_alone = (min(kept) for kept in times.values())
    t_naive = best_of(1, naive) * len(images) / len(subset)
    channels = sum(l.channels for l in layers)
    print(f"model {meta.arch} epoch {meta.epoch}: {len(images)} probe images, {len(layers)} layers, "
          f"{channels} channels, batch {args.batch_size}, {args.threads} threads")
    print(f"plain forward pass : {t_plain:7.2f} s")
    print(f"index pass         : {t_index:7.2f} s  ({t_index / t_plain:.2f}x the plain pass; levels, top 50, embeddings)")
    print(f"  without them     : {t_alone:7.2f} s  ({t_alone / t_plain:.2f}x the plain pass)")
    print(f"naive (estimated from {len(subset)} images): {t_naive:7.2f} s  "
          f"({t_naive / t_index:.1f}x the index pass)")


if __name__ == "__main__":
    main()
