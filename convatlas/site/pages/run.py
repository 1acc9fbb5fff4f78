"""The run page: what the latest run cost, job by job, from Snakemake's benchmark files."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ...workflow.benchmarks import (
    PIPELINE_STAGES,
    TRAINING_RULES,
    by_stage,
    critical_path,
    lanes,
    read_benchmarks,
    read_dependencies,
    rule_stages,
    summarise,
)
from ...workflow.plan_file import PLAN_PATH, plan_against_run, read_plan
from .. import layout
from ..plots import run_timeline
from ..render import Renderer

AFTER_TRAINING_TARGET = 0.5  # everything after training should take at most half the training time


def _records(table: pd.DataFrame, start: float) -> list[dict[str, Any]]:
    """Rows for a template, with start and end as seconds since the run's first job started."""
    rows = table.assign(start=table.start - start, end=table.end - start)
    return rows.to_dict("records")


def render_run_page(renderer: Renderer, jobs: pd.DataFrame, stage_order: list[str], log: str | None = None,
                    dependencies: dict | None = None, plan: dict | None = None) -> Path:
    """``run.html``: the run's headline numbers (wall time, jobs side by side, training against what
    follows it), the plan made before the run against what it cost, the timeline of its jobs,
    per-stage totals, the critical path and every job."""
    summary = summarise(jobs)
    start = float(jobs.start.min())
    training = jobs[jobs.rule.isin(TRAINING_RULES)]
    training_end = float(training.end.max()) if len(training) else None
    stages = by_stage(jobs, stage_order)
    run_timeline(jobs, lanes(jobs), list(stages.stage), training_end, renderer.path(layout.run_image("timeline")))
    return renderer.render(
        "run.html", layout.run_page(), summary=summary, target=AFTER_TRAINING_TARGET, log=log,
        stages=_records(stages.rename(columns={"first_start": "start", "last_end": "end"}), start),
        critical=_records(critical_path(jobs, dependencies), start), jobs=_records(jobs, start),
        training_rules=", ".join(TRAINING_RULES), plan=plan,
        # models analysed as loaded (epochs: 0) only evaluate in their training job: nothing to compare with
        trains=not plan or any(model["stages"]["train"].get("epochs") for model in plan["models"]),
        plan_rows=plan_against_run(plan, jobs) if plan else [])


def write_run_page(workdir: str | Path, rules_dir: str | Path, templates: str | Path, title: str,
                   since: float, log: str | None = None) -> Path | None:
    """Render the run page of the run that started at ``since`` from ``workdir``'s benchmark files;
    None (and nothing written) when no job of that run left one."""
    workdir = Path(workdir)
    jobs = read_benchmarks(workdir / "benchmarks", rule_stages(rules_dir), since=since)
    if jobs.empty:
        return None
    renderer = Renderer(templates, workdir / layout.SITE_ROOT, title)
    plan = read_plan(workdir / PLAN_PATH)
    return render_run_page(renderer, jobs, list(PIPELINE_STAGES), shown_log_path(log, workdir),
                           read_dependencies(workdir / "benchmarks"), plan)


def shown_log_path(log: str | None, workdir: Path) -> str | None:
    """Snakemake's log as the page names it: relative to the working folder (a shared site should
    not carry the build machine's paths), or only its file name when it lies elsewhere."""
    if not log:
        return None
    path = Path(log)
    try:
        return str(path.resolve().relative_to(workdir.resolve()))
    except ValueError:
        return path.name
