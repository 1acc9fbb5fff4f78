"""Benchmark: the networks in torch's default memory layout (NCHW) against channels-last (NHWC).

For the default atlas's two architectures on 28 px images, in one process with the threads a job
gets here: SGD training steps (batch 128, as `train`) and eval passes (batch 256, as the index and
the analyses), each way; and torch's 3x3/2 max pool alone, the op that differs most. The workflow
stores its own families' and torchvision's models channels-last (`models.registry.in_fast_layout`).

    .venv/bin/python bench/memory_format.py --threads 1
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from convatlas.models import build_model

ARCHS = {"zf": {}, "resnet": {"widths": [16, 32, 64], "blocks": 1}}


def seconds_per_call(call, repeats: int) -> float:
    call()  # warm-up: first calls choose kernels
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats


def network_times(arch: str, layout: torch.memory_format, repeats: int) -> tuple[float, float]:
    """(seconds per training step of 128 images, images per second in eval) for ``arch`` in ``layout``."""
    torch.manual_seed(0)
    model = build_model(arch, 1, 10, 28, ARCHS[arch]).to(memory_format=layout)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch, labels = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))

    def step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(batch), labels).backward()
        optimizer.step()

    model.train()
    train = seconds_per_call(step, repeats)
    model.eval()
    images = torch.randn(256, 1, 28, 28)
    with torch.no_grad():
        evaluate = seconds_per_call(lambda: model(images), repeats)
    return train, 256 / evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    layouts = {"NCHW": torch.contiguous_format, "NHWC": torch.channels_last}
    print(f"{args.threads} thread(s), {args.repeats} repeats, 28 px, 1 channel")
    print(f"{'':8s} {'train step, NCHW':>17s} {'NHWC':>8s} {'ratio':>6s}   {'eval img/s, NCHW':>17s} {'NHWC':>8s} {'ratio':>6s}")
    for arch in ARCHS:
        (train_a, eval_a), (train_b, eval_b) = (network_times(arch, layout, args.repeats) for layout in layouts.values())
        print(f"{arch:8s} {train_a * 1000:14.1f} ms {train_b * 1000:5.1f} ms {train_a / train_b:5.2f}x   "
              f"{eval_a:17.0f} {eval_b:8.0f} {eval_b / eval_a:5.2f}x")
    maps = [torch.randn(256, 32, 28, 28).contiguous(memory_format=layout) for layout in layouts.values()]
    pool = [seconds_per_call(lambda m=m: F.max_pool2d(m, 3, 2, 1), args.repeats) for m in maps]
    print(f"max pool 3x3/2 of 256 x 32 x 28 x 28: NCHW {pool[0] * 1000:.1f} ms, NHWC {pool[1] * 1000:.1f} ms "
          f"({pool[0] / pool[1]:.1f}x)")


if __name__ == "__main__":
    main()
