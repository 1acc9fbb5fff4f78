"""Benchmark: incremental versus batched versus one-at-a-time occlusion, with identical maps.

    .venv/bin/python bench/occlusion_speed.py            # both cases below
Case 1: torchvision VGG16 (random weights, 224 px RGB, one image), a 32 px square at stride 16,
the strongest map of the last conv layer. Case 2: the default zf model (random weights are fine for
timing; 28 px grey), a 9 px square at stride 1, two images. Each method runs in this one process;
one-at-a-time is timed on a subset of positions and scaled.
"""
from __future__ import annotations

import argparse
import time

import torch

from convatlas.analyses.occlusion import occlude, occluded_copies
from convatlas.models import build_model
from convatlas.models.tv import build as build_tv
from convatlas.nn.graph import ModelGraph


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def one_at_a_time(model, images, targets, window, stride, layer, fill, limit):
    """Each occluded copy alone through the whole model, for the first ``limit`` positions."""
    copies = occluded_copies(images[0], window, stride, fill)[:limit]
    with torch.no_grad():
        for copy in copies:
            model(copy[None])
    return len(occluded_copies(images[0], window, stride, fill)) * len(images) / len(copies)


def case(name, model, images, window, stride, batch, limit):
    model.eval()
    graph = ModelGraph(model, tuple(images.shape[1:]))
    targets = [0] * len(images)
    t_batched, batched = timed(lambda: occlude(model, images, targets, window, stride, method="batched",
                                               batch_size=batch, graph=graph))
    t_incremental, incremental = timed(lambda: occlude(model, images, targets, window, stride, method="incremental",
                                                       batch_size=batch, graph=graph))
    t_auto, _ = timed(lambda: occlude(model, images, targets, window, stride, method="auto", batch_size=batch, graph=graph))
    from convatlas.analyses.occlusion import IncrementalPlan

    fraction = IncrementalPlan(model, graph, batched.layer).conv_fraction(window)
    start = time.perf_counter()
    scale = one_at_a_time(model, images, targets, window, stride, batched.layer, 0.0, limit)
    t_single = (time.perf_counter() - start) * scale
    same = (torch.allclose(batched.activity, incremental.activity, rtol=1e-4, atol=1e-3)
            and torch.allclose(batched.probability, incremental.probability, atol=1e-5)
            and torch.equal(batched.predicted, incremental.predicted))
    positions = batched.activity.numel()
    print(f"{name}: {positions} occluded copies, layer {batched.layer}")
    print(f"  one at a time (scaled from {limit}): {t_single:8.2f} s")
    print(f"  batched (batch {batch})          : {t_batched:8.2f} s")
    print(f"  incremental                       : {t_incremental:8.2f} s  "
          f"({t_batched / t_incremental:.2f}x faster than batched, {t_single / t_incremental:.1f}x than one at a time)")
    print(f"  auto (incremental when it recomputes < 60% of the conv work; here {100 * fraction:.0f}%): "
          f"{t_auto:8.2f} s  ({t_batched / t_auto:.2f}x batched)")
    print(f"  identical maps: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    case("vgg16, 224 px, window 32, stride 16", build_tv("vgg16", 3, 1000, 224), torch.randn(1, 3, 224, 224),
         32, 16, batch=16, limit=16)
    case("zf (default), 28 px, window 9, stride 1", build_model("zf", 1, 10, 28), torch.randn(2, 1, 28, 28),
         9, 1, batch=256, limit=200)


if __name__ == "__main__":
    main()
