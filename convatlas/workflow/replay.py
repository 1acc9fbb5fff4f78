"""Replay a finished run's job graph with its measured job times under other scheduling policies.

What would the run have cost with other priorities, another order of equally ranked jobs, or job
times a little off? List scheduling, as Snakemake does it on one machine: whenever a core is free,
the ready job of the highest priority starts (ties in a given order); every job holds one core (as
on 2 cores here, where heavy jobs get one thread). The graph comes from the run's
``dependencies.tsv``, the times from its benchmark files, the priorities from its Snakemake log.
"""
from __future__ import annotations

import heapq
import random
import re
from collections.abc import Callable
from pathlib import Path

Job = tuple[str, str]  # (rule, job), as benchmarks.read_dependencies names them


def replay(seconds: dict[Job, float], needs: dict[Job, set[Job]], priority: Callable[[Job], float],
           cores: int, tie_order: dict[Job, float] | None = None) -> dict[Job, tuple[float, float]]:
    """Each job's (start, end) when ``cores`` run the graph by priority, ties by ``tie_order``
    (lowest first; the job's name when None). A job's dependencies outside ``seconds`` count as done."""
    tie_order = tie_order or {}
    waiting = {job: {need for need in needs.get(job, set()) if need in seconds} for job in seconds}
    dependants: dict[Job, list[Job]] = {job: [] for job in seconds}
    for job, before in waiting.items():
        for need in before:
            dependants[need].append(job)

    def rank(job: Job) -> tuple:
        return (-priority(job), tie_order.get(job, 0.0), job)

    ready = [rank(job) for job, before in waiting.items() if not before]
    heapq.heapify(ready)
    running: list[tuple[float, Job]] = []
    times: dict[Job, tuple[float, float]] = {}
    now = 0.0
    while ready or running:
        while ready and len(running) < cores:
            job = heapq.heappop(ready)[-1]
            times[job] = (now, now + seconds[job])
            heapq.heappush(running, (now + seconds[job], job))
        now, finished = heapq.heappop(running)
        for job in dependants[finished]:
            waiting[job].discard(finished)
            if not waiting[job]:
                heapq.heappush(ready, rank(job))
    if len(times) < len(seconds):
        raise ValueError("the job graph has a cycle: some jobs never became ready")
    return times


def after_training(times: dict[Job, tuple[float, float]], seconds: dict[Job, float],
                   training_rules: tuple[str, ...]) -> float:
    """The time from the last training job's end to the run's end, over the training jobs' summed time."""
    training = [job for job in times if job[0] in training_rules]
    end = max(stop for _, stop in times.values())
    return (end - max(times[job][1] for job in training)) / sum(seconds[job] for job in training)


def log_priorities(log: str | Path) -> dict[Job, float]:
    """(rule, job) -> the priority Snakemake's log of the run printed for it (jobs without one: 0)."""
    priorities: dict[Job, float] = {}
    text = Path(log).read_text(encoding="utf-8", errors="replace")
    for block in re.split(r"^(?=(?:local)?rule \w+:$)", text, flags=re.MULTILINE):  # one block per job
        benchmark = re.search(r"^\s+benchmark: benchmarks/(\w+)/(.+)\.tsv$", block, flags=re.MULTILINE)
        if benchmark:
            value = re.search(r"^\s+priority: (-?[\d.]+)$", block, flags=re.MULTILINE)
            priorities[(benchmark.group(1), benchmark.group(2))] = float(value.group(1)) if value else 0.0
    return priorities


def replay_many(seconds: dict[Job, float], needs: dict[Job, set[Job]], priority: Callable[[Job], float],
                cores: int, training_rules: tuple[str, ...], runs: int = 20, noise: float = 0.0,
                seed: int = 0) -> list[tuple[float, float]]:
    """(wall, after-training ratio) of ``runs`` replays, each with its own random order of equally
    ranked jobs and, with ``noise``, every job time scaled by a random factor in [1 - noise, 1 + noise]."""
    generator = random.Random(seed)
    results = []
    for _ in range(runs):
        scaled = {job: time * (1 + generator.uniform(-noise, noise)) for job, time in seconds.items()}
        order = {job: generator.random() for job in seconds}
        times = replay(scaled, needs, priority, cores, order)
        results.append((max(stop for _, stop in times.values()), after_training(times, scaled, training_rules)))
    return results
