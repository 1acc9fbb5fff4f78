"""Two jobs with 1 thread each side by side, against the same two jobs one after the other with 2.

The work of one job: training steps of the default `zf` net (28 px, batch 128, SGD) and an
eval pass as the index makes, on random images (the speed does not depend on the pixels). Each job
is a separate process, as Snakemake runs them; the wall time of both ways is printed with the
ratio, measured in one run.

    .venv/bin/python bench/threads_vs_jobs.py --steps 60 --images 5120
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time


def work(steps: int, images: int, threads: int) -> None:
    """One job's work, in this process."""
    import torch
    from torch.nn import functional as F

    from convatlas.models import build_model
    from convatlas.models.registry import in_fast_layout

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = in_fast_layout(build_model("zf", 1, 10, 28, {}), "zf")  # as the workflow trains it
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch, labels = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(batch), labels).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        for _ in range(images // 256):
            model(torch.randn(256, 1, 28, 28))


def run(jobs: list[list[str]]) -> float:
    """Start the jobs together and wait for all: wall seconds."""
    start = time.perf_counter()
    processes = [subprocess.Popen(job) for job in jobs]
    for process in processes:
        if process.wait():
            raise SystemExit(f"a job failed: {process.args}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--images", type=int, default=5120)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # threads, in a worker process
    args = parser.parse_args()
    if args.worker:
        work(args.steps, args.images, args.worker)
        return
    job = [sys.executable, __file__, "--steps", str(args.steps), "--images", str(args.images), "--worker"]
    serial = run([[*job, "2"]]) + run([[*job, "2"]])
    side_by_side = run([[*job, "1"], [*job, "1"]])
    print(f"two jobs, one after the other, 2 threads each: {serial:.1f} s")
    print(f"two jobs side by side, 1 thread each:          {side_by_side:.1f} s "
          f"({serial / side_by_side:.2f}x as fast)")


if __name__ == "__main__":
    main()
