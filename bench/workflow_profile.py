"""What a finished run cost: the numbers of the site's run page, printed.

Reads the run's Snakemake benchmark files (``benchmarks/<rule>/<job>.tsv``) and prints the headline
(wall time, jobs side by side, training span against everything after it), the per-stage table as
Markdown (docs/running.md's timing table is this output) and the critical path.

    python bench/workflow_profile.py              # the latest run with jobs in this directory
    python bench/workflow_profile.py path/to/workdir
    python bench/workflow_profile.py --all        # every benchmark file, whichever run wrote it
"""
from __future__ import annotations

import argparse
from pathlib import Path

from convatlas.workflow.benchmarks import (
    PIPELINE_STAGES,
    by_stage,
    critical_path,
    last_run_log,
    read_benchmarks,
    read_dependencies,
    rule_stages,
    run_start,
    summarise,
)

REPO = Path(__file__).resolve().parent.parent


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".", type=Path)
    parser.add_argument("--all", action="store_true", help="every benchmark file, not only the latest run's")
    args = parser.parse_args()
    since = None
    if not args.all:
        log = last_run_log(args.workdir)
        since = run_start(log)
        print(f"run: {log.name}")
    jobs = read_benchmarks(args.workdir / "benchmarks", rule_stages(REPO / "rules"), since=since)
    s = summarise(jobs)
    print(f"{s['jobs']} jobs; wall {minutes(s['wall'])}; summed job time {minutes(s['job_seconds'])} "
          f"(CPU {minutes(s['cpu_seconds'])}); {s['parallelism']:.2f} jobs side by side on average; "
          f"peak memory {s['peak_rss_mb']:.0f} MB")
    if "after_ratio" in s:
        print(f"training: {s['training_jobs']} jobs, {minutes(s['training_seconds'])} summed, spanning "
              f"{minutes(s['training_span'])}; after training {minutes(s['after_training'])}: "
              f"{s['after_per_training_job_time']:.2f}x the training jobs' time, {s['after_ratio']:.2f}x the training span; "
              f"all other jobs took {s['other_per_training_job_time']:.2f}x the training jobs' time")
    print()
    print("| stage | jobs | summed job time | longest job | peak memory | span (from the first start) |")
    print("|---|---:|---:|---:|---:|---|")
    start = float(jobs.start.min())
    for row in by_stage(jobs, list(PIPELINE_STAGES)).itertuples():
        print(f"| {row.stage} | {row.jobs} | {minutes(row.seconds)} | {minutes(row.longest)} | {row.max_rss_mb:.0f} MB "
              f"| {minutes(row.first_start - start)} – {minutes(row.last_end - start)} |")
    print(f"| **all** | {s['jobs']} | {minutes(s['job_seconds'])} | | {s['peak_rss_mb']:.0f} MB | wall {minutes(s['wall'])} |")
    print("\ncritical path (start, wall time, what it waited for, gap before):")
    for row in critical_path(jobs, read_dependencies(args.workdir / "benchmarks")).itertuples():
        print(f"  {minutes(row.start - start):>9}  {minutes(row.seconds):>9}  {row.waited_for:>14}  {minutes(row.wait):>6}  {row.rule} {row.job}")


if __name__ == "__main__":
    main()
