"""Benchmark: what connecting every channel costs, against a plain forward pass and the per-unit way.

Run in the demo's folder after `make demo` (or on the default atlas after `make atlas`):
    cd demo && ../.venv/bin/python ../bench/connections_cost.py results/lite0/checkpoints/epoch-0.pt
Measures, in one process, over the checkpoint's index (`results/<model>/epoch-<E>/index.parquet`):
a plain forward pass over the probe split; for each pair of consecutive analysed layers, what each
channel of the later one reads (:func:`connection_strengths`) and what each channel of the earlier
one feeds (:func:`feed_strengths`), for every channel; and the way before, where each top unit ran
the model from the input (head and tail per unit), for the channels a deconv job projects
(``--projected`` spread over the layer), checked to give the same strengths.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from convatlas.analyses.channel_selection import spread
from convatlas.analyses.connections import _contributions, connection_strengths, feed_strengths
from convatlas.core.io import read_parquet
from convatlas.data.model_inputs import ModelInputs
from convatlas.jobs.subject import load_subject
from convatlas.nn.surgery import LayerSplit
from convatlas.workflow.config import load_config


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def per_unit(subject, earlier: str, layer: str, index, inputs, channels: list[int]) -> np.ndarray:
    """The way before: every top unit's image through the model from the input, then back."""
    split = LayerSplit(subject.model, subject.graph, earlier, until=layer)
    rows = index[(index.layer == layer) & index.channel.isin(channels) & (index.value > 0)].sort_values(["channel", "rank"])
    sums, counts = np.zeros((len(channels), subject.graph.layer(earlier).channels)), np.zeros(len(channels))
    for start in range(0, len(rows), inputs.batch_size):
        chunk = rows.iloc[start:start + inputs.batch_size]
        with torch.no_grad():
            head = split.head(inputs.take(chunk.image.to_numpy(dtype=np.int64, copy=True)))
        contribution = _contributions(split, head[0], list(head[1:]), chunk)
        targets = [channels.index(int(c)) for c in chunk.channel]
        np.add.at(sums, targets, contribution.double().numpy())
        np.add.at(counts, targets, 1)
    return sums / np.maximum(counts, 1)[:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--projected", type=int, default=32, help="channels a deconv job projects (at 224 px on a CPU)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    config = load_config(args.config)
    meta_model = load_subject(args.checkpoint, None, None, "cpu", args.threads).meta
    dataset = config["models"][meta_model.model]["dataset"]
    subject = load_subject(args.checkpoint, config["datasets"][dataset], config["analysis"].get("layers"), "cpu",
                           args.threads)
    index = read_parquet(Path(args.checkpoint).parent.parent / f"epoch-{subject.meta.epoch}" / "index.parquet")
    inputs = ModelInputs(subject.images, subject.meta.mean, subject.meta.std, args.batch_size, show_progress=False)

    def plain():
        with torch.no_grad():
            for batch in inputs.batches():
                subject.model(batch.inputs)

    _, forward = timed(plain)
    names = [layer.name for layer in subject.layers]
    print(f"{subject.meta.model}: {len(inputs.images)} probe images; plain forward pass {forward:.2f} s")
    total = 0.0
    for earlier, layer in zip(names, names[1:], strict=False):
        width = subject.graph.layer(layer).channels
        every_later, every_earlier = list(range(width)), list(range(subject.graph.layer(earlier).channels))
        reads, read_time = timed(connection_strengths, subject.model, earlier, layer, index, inputs, every_later,
                                 subject.graph)
        _, feed_time = timed(feed_strengths, subject.model, earlier, layer, index, inputs, every_earlier, subject.graph)
        chosen = spread(width, min(args.projected, width))
        before, before_time = timed(per_unit, subject, earlier, layer, index, inputs, chosen)
        assert np.allclose(before, reads[chosen], atol=1e-4), (earlier, layer)
        total += read_time + feed_time
        print(f"{earlier} -> {layer}: reads of all {width} channels {read_time:.2f} s, feeds of all "
              f"{len(every_earlier)} {feed_time:.2f} s; the per-unit way for {len(chosen)} channels {before_time:.2f} s "
              f"(same strengths); all reads / per-unit {read_time / before_time:.2f}x")
    print(f"every connection both ways: {total:.2f} s = {total / forward:.1f}x the plain forward pass")


if __name__ == "__main__":
    main()
