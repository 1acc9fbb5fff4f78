"""The plan a run printed before its first job against what the run's jobs measured.

Reads ``results/plan.json`` (written when the run started) and the run's Snakemake benchmark files, and
prints, per stage of the plan, the estimated CPU time beside the measured CPU and wall time of the
jobs, and per model the chosen layers, projections and the disk the plan expected beside what
``results/`` and ``site/`` hold.

    python bench/plan_vs_run.py              # the latest run in this directory
    python bench/plan_vs_run.py path/to/workdir
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from convatlas.workflow.benchmarks import last_run_log, read_benchmarks, rule_stages, run_start
from convatlas.workflow.plan_file import PLAN_PATH, plan_against_run, read_plan

REPO = Path(__file__).resolve().parent.parent


def size_mb(path: Path) -> float:
    if not path.exists():
        return float("nan")
    return int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True).stdout.split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".", type=Path)
    args = parser.parse_args()
    plan = read_plan(args.workdir / PLAN_PATH)
    if plan is None:
        raise SystemExit(f"no plan at {args.workdir / PLAN_PATH}: run the workflow first")
    jobs = read_benchmarks(args.workdir / "benchmarks", rule_stages(REPO / "rules"), since=run_start(last_run_log(args.workdir)))
    print(f"plan: {plan['device']}, {plan['cores']} cores, {plan['cpu_seconds'] / 60:.1f} CPU-min estimated; "
          f"run: {len(jobs)} jobs, {jobs.cpu_seconds.sum() / 60:.1f} CPU-min measured, "
          f"wall {(jobs.end.max() - jobs.start.min()) / 60:.1f} min")
    for model in plan["models"]:
        print(f"{model['model']}: {len(model['layers'])} of {model['default_layers']} default layers, "
              f"{model['stages']['deconv']['projections']:,} projections, {model['images']:,} images at {model['input_side']} px")
    print("\n| stage | estimated CPU | jobs | measured CPU | measured wall | estimate / measured |\n|---|---:|---:|---:|---:|---:|")
    for row in plan_against_run(plan, jobs):
        print(f"| {row['stage']} | {row['planned_seconds']:.0f} s | {row['jobs']} | {row['cpu_seconds']:.0f} s | "
              f"{row['seconds']:.0f} s | {row['ratio']:.2f} |")
    print(f"\ndisk: results/ {size_mb(args.workdir / 'results'):.0f} MB (estimated {plan['disk_mb']['results']:.0f}), "
          f"site/ {size_mb(args.workdir / 'site'):.0f} MB (estimated {plan['disk_mb']['site']:.0f})")


if __name__ == "__main__":
    main()
