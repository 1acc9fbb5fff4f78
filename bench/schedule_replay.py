"""Replay a finished run's job graph with its measured times: the run's priorities against none and
against training first, over random orders of equally ranked jobs and job times varied by ±30%.

    python bench/schedule_replay.py               # the latest run in this directory, 2 cores
    python bench/schedule_replay.py path/to/workdir --cores 4 --runs 50

Prints, per policy, the range of wall times and of the after-training ratio (the time from the
last training job's end to the run's end over the training jobs' summed time) over the replays.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from convatlas.workflow.benchmarks import (
    TRAINING_RULES,
    last_run_log,
    read_benchmarks,
    read_dependencies,
    run_start,
    summarise,
)
from convatlas.workflow.replay import log_priorities, replay_many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".", type=Path)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.3)
    args = parser.parse_args()
    log = last_run_log(args.workdir)
    jobs = read_benchmarks(args.workdir / "benchmarks", since=run_start(log))
    seconds = {(row.rule, row.job): float(row.seconds) for row in jobs.itertuples()}
    needs = read_dependencies(args.workdir / "benchmarks")
    of_the_run = log_priorities(log)
    policies = {
        "the run's priorities": lambda job: of_the_run.get(job, 0.0),
        "no priorities": lambda job: 0.0,
        "training first": lambda job: 1.0 if job[0] in TRAINING_RULES else 0.0,
    }
    measured = summarise(jobs)
    print(f"run: {log.name}; {len(seconds)} jobs, {sum(seconds.values()) / 60:.1f} min summed; measured: wall "
          f"{measured['wall'] / 60:.1f} min, after training / training {measured['after_per_training_job_time']:.2f}")
    print(f"{args.runs} replays per policy on {args.cores} cores; job times as measured, then varied by ±{args.noise:.0%}")
    for name, priority in policies.items():
        for noise in (0.0, args.noise):
            runs = replay_many(seconds, needs, priority, args.cores, TRAINING_RULES, args.runs, noise)
            walls, ratios = [wall / 60 for wall, _ in runs], [ratio for _, ratio in runs]
            print(f"  {name:22s} ±{noise:<4.0%} wall {min(walls):5.1f}–{max(walls):5.1f} min, "
                  f"after training / training {min(ratios):.2f}–{max(ratios):.2f}")


if __name__ == "__main__":
    main()
