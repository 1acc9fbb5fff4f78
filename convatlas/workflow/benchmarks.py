"""What a run cost: every job's Snakemake benchmark file, read into one table and summarised.

Each rule writes ``benchmarks/<rule>/<wildcards>.tsv`` (Snakemake's own measurement: wall seconds,
CPU seconds, peak memory, I/O). A job's end is the file's modification time (Snakemake writes it
as the job ends) and its start that minus its wall seconds, so the run's timeline, its critical
path and how much ran side by side follow from the files alone.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

PIPELINE_STAGES = ("train", "index", "deconv", "analyses", "ablation", "compare", "maximise", "site")  # rules/<stage>.smk, in order
TRAINING_RULES = ("train",)  # the jobs that train the networks; the ratio compares the rest with them
COLUMNS = ["rule", "job", "stage", "seconds", "cpu_seconds", "max_rss_mb", "io_in_mb", "io_out_mb", "start", "end"]


def rule_stages(rules_dir: str | Path) -> dict[str, str]:
    """Each rule's stage: the name of the ``rules/<stage>.smk`` file that defines it."""
    stages = {}
    for path in sorted(Path(rules_dir).glob("*.smk")):
        for name in re.findall(r"^(?:rule|checkpoint) (\w+):", path.read_text(), flags=re.MULTILINE):
            stages[name] = path.stem
    return stages


def _number(row: pd.Series, key: str) -> float:
    value = pd.to_numeric(row.get(key, float("nan")), errors="coerce")
    return float(value) if pd.notna(value) else float("nan")


def finished_since(folder: str | Path, since: float) -> int:
    """How many jobs finished at or after ``since`` (Unix seconds): their benchmark files' count."""
    return sum(1 for path in Path(folder).glob("*/**/*.tsv") if path.stat().st_mtime >= since)


def read_benchmarks(folder: str | Path, stages: dict[str, str] | None = None, since: float | None = None) -> pd.DataFrame:
    """One row per benchmark file under ``folder`` (``<rule>/<job>.tsv``): wall and CPU seconds,
    peak resident memory and I/O in MB, start and end (Unix seconds), sorted by start. With
    ``since``, only the jobs that started at or after it (one run). Files are read whole; a job
    repeated with ``--benchmark-repeats`` counts with its first repeat."""
    rows = []
    for path in sorted(Path(folder).glob("*/**/*.tsv")):
        table = pd.read_csv(path, sep="\t")
        if table.empty:
            continue
        first = table.iloc[0]
        seconds = _number(first, "s")
        end = path.stat().st_mtime
        rule = path.relative_to(folder).parts[0]
        rows.append({"rule": rule, "job": str(path.relative_to(Path(folder) / rule).with_suffix("")),
                     "stage": (stages or {}).get(rule, rule), "seconds": seconds,
                     "cpu_seconds": _number(first, "cpu_time"), "max_rss_mb": _number(first, "max_rss"),
                     "io_in_mb": _number(first, "io_in"), "io_out_mb": _number(first, "io_out"),
                     "start": end - seconds, "end": end})
    table = pd.DataFrame(rows, columns=COLUMNS)
    if since is not None:
        table = table[table.start >= since - 1.0]  # the clock of a file's time is coarser than a second on some file systems
    return table.sort_values(["start", "rule", "job"]).reset_index(drop=True)


def summarise(jobs: pd.DataFrame, training_rules: tuple[str, ...] = TRAINING_RULES) -> dict[str, Any]:
    """The run in numbers: wall time (first start to last end), the jobs' summed wall and CPU time,
    how many ran side by side on average (summed job time / wall time), and the training span
    (first training job's start to the last one's end) against the time after it (last training
    end to the run's end): ``after_ratio`` = after / training span, and
    ``after_per_training_job_time`` = after / the training jobs' summed time, and
    ``other_per_training_job_time`` = every other job's summed time / the training jobs' (the
    analyses' cost against training's, whatever the order the jobs ran in). Seconds throughout."""
    if jobs.empty:
        raise ValueError("no benchmark files: nothing ran with this workflow's benchmarks yet")
    start, end = float(jobs.start.min()), float(jobs.end.max())
    wall = end - start
    training = jobs[jobs.rule.isin(training_rules)]
    summary: dict[str, Any] = {
        "jobs": len(jobs), "wall": wall, "job_seconds": float(jobs.seconds.sum()),
        "cpu_seconds": float(jobs.cpu_seconds.sum()), "parallelism": float(jobs.seconds.sum()) / wall if wall else float("nan"),
        "peak_rss_mb": float(jobs.max_rss_mb.max()), "training_jobs": len(training),
        "training_seconds": float(training.seconds.sum()),
    }
    if len(training):
        span = float(training.end.max() - training.start.min())
        after = end - float(training.end.max())
        training_seconds = summary["training_seconds"]
        summary.update(training_span=span, after_training=after, after_ratio=after / span if span else float("nan"),
                       after_per_training_job_time=after / training_seconds if training_seconds else float("nan"),
                       other_per_training_job_time=(summary["job_seconds"] - training_seconds) / training_seconds
                       if training_seconds else float("nan"))
    return summary


def by_stage(jobs: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """Per stage: jobs (and how many of each rule, "train 7, publish_checkpoint 7"), summed wall and
    CPU seconds, the longest job, the peak memory, and the stage's span on the timeline (its first
    start to its last end), in ``order`` (else by start)."""
    grouped = jobs.groupby("stage")
    table = pd.DataFrame({
        "jobs": grouped.size(),
        "rules": grouped.rule.agg(lambda rules: ", ".join(f"{rule} {count}" for rule, count in rules.value_counts().items())), "seconds": grouped.seconds.sum(), "cpu_seconds": grouped.cpu_seconds.sum(),
        "longest": grouped.seconds.max(), "max_rss_mb": grouped.max_rss_mb.max(),
        "first_start": grouped.start.min(), "last_end": grouped.end.max(),
    })
    table["span"] = table.last_end - table.first_start
    if order:
        table = table.reindex([s for s in order if s in table.index] + [s for s in table.index if s not in order])
    else:
        table = table.sort_values("first_start")
    return table.reset_index()


DEPENDENCIES_FILE = "dependencies.tsv"  # in the benchmarks folder: job -> the jobs whose outputs it read


def write_dependencies(folder: str | Path, edges: list[tuple[str, str]]) -> None:
    """Record which job read which job's outputs, as pairs of benchmark files (the workflow writes it
    from Snakemake's DAG when a run ends; :func:`critical_path` follows it). A pair with an empty
    dependency records a job that depends on no other."""
    from ..core.io import write_text

    lines = ["job\tdependency", *(f"{job}\t{dependency}" for job, dependency in sorted(set(edges)))]
    write_text(Path(folder) / DEPENDENCIES_FILE, "\n".join(lines) + "\n")


def read_dependencies(folder: str | Path) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(rule, job) -> the (rule, job) pairs it depended on, from :func:`write_dependencies`'s file
    (empty when there is none)."""
    path = Path(folder) / DEPENDENCIES_FILE
    if not path.is_file():
        return {}

    def key(benchmark: str) -> tuple[str, str]:
        relative = Path(benchmark).relative_to(Path(benchmark).parts[0]) if Path(benchmark).parts[0] == "benchmarks" else Path(benchmark)
        return relative.parts[0], str(Path(*relative.parts[1:]).with_suffix(""))

    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in pd.read_csv(path, sep="\t", keep_default_na=False).itertuples():
        needs = edges.setdefault(key(row.job), set())
        if row.dependency:
            needs.add(key(row.dependency))
    return edges


def critical_path(jobs: pd.DataFrame, dependencies: dict | None = None, slack: float = 2.0) -> pd.DataFrame:
    """The chain of jobs that set the run's wall time, first job first: from the job that ended
    last, back through what each job waited for. With ``dependencies`` ((rule, job) -> the jobs
    whose outputs it read), that is the dependency of this run that ended last, if the job started
    within ``slack`` seconds of it (``waited_for`` "input"); otherwise the job waited for a free
    core, and the chain goes on through the job that ended last before it started ("a free core").
    For a job without recorded dependencies that step reads "input or core". ``wait`` is the gap
    before each job (scheduling and start-up outside the jobs)."""
    if jobs.empty:
        return jobs.assign(wait=pd.Series(dtype=float), waited_for=pd.Series(dtype=str))
    position = {(rule, job): i for i, (rule, job) in enumerate(zip(jobs.rule, jobs.job, strict=True))}
    chain, current = [], jobs.index[jobs.end.values.argmax()]
    while True:
        row = jobs.loc[current]
        needs = [position[d] for d in (dependencies or {}).get((row.rule, row.job), ()) if d in position]
        latest_input = max(needs, key=lambda i: jobs.end.iloc[i]) if needs else None
        before = jobs[(jobs.end <= row.start + slack) & (jobs.start < row.start) & (jobs.index != current)]
        if latest_input is not None and row.start - jobs.end.iloc[latest_input] <= slack:
            previous, reason = jobs.index[latest_input], "input"
        elif len(before):
            known = (row.rule, row.job) in (dependencies or {})  # its inputs are known: it waited for a core
            previous, reason = before.end.idxmax(), "a free core" if known else "input or core"
        else:
            previous, reason = None, "–"
        wait = max(0.0, float(row.start - jobs.loc[previous].end)) if previous is not None else 0.0
        chain.append({**row.to_dict(), "wait": wait, "waited_for": reason})
        if previous is None:
            break
        current = previous
    return pd.DataFrame(chain[::-1]).reset_index(drop=True)


def run_start(log: str | Path) -> float:
    """When a run began (Unix seconds), from the name of its Snakemake log file
    (``.snakemake/log/<local ISO time>.snakemake.log``)."""
    stamp = Path(log).name.split(".snakemake.log")[0]
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H%M%S.%f").timestamp()
    except ValueError:
        raise ValueError(f"{log}: not a Snakemake log file name (<date>T<time>.snakemake.log)") from None


def last_run_log(workdir: str | Path) -> Path:
    """The log of the latest run in ``workdir`` that ran jobs (a dry run or a run with nothing to
    do logs no finished job)."""
    for log in sorted((Path(workdir) / ".snakemake" / "log").glob("*.snakemake.log"), reverse=True):
        if "Finished job" in log.read_text(errors="replace"):
            return log
    raise FileNotFoundError(f"no Snakemake log of a run with jobs under {Path(workdir) / '.snakemake' / 'log'}")


def lanes(jobs: pd.DataFrame) -> list[int]:
    """A lane per job for a timeline, in the order of ``jobs``: the lowest lane free at the job's
    start, so that jobs which ran side by side sit on different lanes."""
    free_at: list[float] = []  # each lane's end
    assigned = []
    for start, end in zip(jobs.start, jobs.end, strict=True):
        lane = next((i for i, busy in enumerate(free_at) if busy <= start + 0.5), len(free_at))
        if lane == len(free_at):
            free_at.append(end)
        else:
            free_at[lane] = end
        assigned.append(lane)
    return assigned
