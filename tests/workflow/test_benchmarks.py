"""Reading a run's benchmark files: the timeline, the training ratio and the critical path."""
import os
from datetime import datetime

import pytest

from convatlas.workflow.benchmarks import (
    by_stage,
    critical_path,
    lanes,
    last_run_log,
    read_benchmarks,
    read_dependencies,
    rule_stages,
    run_start,
    summarise,
    write_dependencies,
)

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_job(folder, rule, job, start, seconds, rss=100.0, cpu=None):
    """A Snakemake benchmark file for a job that ran from ``start`` for ``seconds``."""
    path = folder / rule / f"{job}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:00\t{rss}\t1\t1\t1\t2.5\t1.5\t90\t{cpu if cpu is not None else seconds}\n")
    os.utime(path, (start + seconds, start + seconds))


@pytest.fixture
def run(tmp_path):
    """Two trainings side by side, then analyses: t=0..100 train a, t=0..60 train b, b's index
    60..90 beside a's training, a's index 100..130, the site 131..140."""
    folder = tmp_path / "benchmarks"
    write_job(folder, "train", "a", 1000, 100, rss=900)
    write_job(folder, "train", "b", 1000, 60)
    write_job(folder, "index", "b-1", 1060, 30)
    write_job(folder, "index", "a-1", 1100, 30, cpu=50)
    write_job(folder, "site", "site", 1131, 9)
    write_job(folder, "deconv", "old-1-x", 500, 5)  # an earlier run
    return folder


def test_rule_stages_name_each_rule_by_its_file(tmp_path):
    (tmp_path / "train.smk").write_text("rule train:\n    output: 'x'\n\nrule publish_checkpoint:\n    input: 'x'\n")
    (tmp_path / "index.smk").write_text("checkpoint index:\n    output: 'y'\n")
    assert rule_stages(tmp_path) == {"train": "train", "publish_checkpoint": "train", "index": "index"}


def test_read_benchmarks_recovers_each_jobs_times_and_keeps_one_run(run):
    jobs = read_benchmarks(run, {"train": "train", "index": "index", "site": "site"})
    assert list(jobs.job[:2]) == ["old-1-x", "a"] and jobs.stage[0] == "deconv"  # unknown rule: its own stage
    this_run = read_benchmarks(run, since=1000)
    assert len(this_run) == 5 and set(this_run.rule) == {"train", "index", "site"}
    a = this_run.set_index("job").loc["a-1"]
    assert (a.start, a.end, a.seconds, a.cpu_seconds, a.io_in_mb) == pytest.approx((1100, 1130, 30, 50, 2.5))


def test_summary_gives_wall_time_parallelism_and_the_after_training_ratio(run):
    summary = summarise(read_benchmarks(run, since=1000))
    assert summary["wall"] == pytest.approx(140)
    assert summary["job_seconds"] == pytest.approx(229) and summary["parallelism"] == pytest.approx(229 / 140)
    assert summary["training_span"] == pytest.approx(100) and summary["training_seconds"] == pytest.approx(160)
    assert summary["after_training"] == pytest.approx(40) and summary["after_ratio"] == pytest.approx(0.4)
    assert summary["after_per_training_job_time"] == pytest.approx(40 / 160)
    assert summary["other_per_training_job_time"] == pytest.approx((summary["job_seconds"] - 160) / 160)
    assert summary["peak_rss_mb"] == 900 and summary["jobs"] == 5
    with pytest.raises(ValueError, match="no benchmark files"):
        summarise(read_benchmarks(run / "nothing"))


def test_by_stage_sums_and_spans(run):
    stages = by_stage(read_benchmarks(run, {"train": "train", "index": "index", "site": "site"}, since=1000),
                      order=["train", "index", "site"])
    assert list(stages.stage) == ["train", "index", "site"]
    index = stages.set_index("stage").loc["index"]
    assert (index.jobs, index.seconds, index.cpu_seconds, index.span) == pytest.approx((2, 60, 80, 70))


def test_critical_path_follows_what_each_job_waited_for(run):
    path = critical_path(read_benchmarks(run, since=1000))
    assert list(path.job) == ["a", "a-1", "site"]  # b and its index ran beside a: not on the path
    assert list(path.wait) == pytest.approx([0, 0, 1])


def test_critical_path_follows_dependencies_and_says_when_a_job_waited_for_a_core(run, tmp_path):
    write_dependencies(run, [("benchmarks/site/site.tsv", "benchmarks/index/a-1.tsv"), ("benchmarks/site/site.tsv", "benchmarks/index/b-1.tsv"),
                             ("benchmarks/index/a-1.tsv", "benchmarks/train/a.tsv"), ("benchmarks/index/b-1.tsv", "benchmarks/train/b.tsv"),
                             ("benchmarks/train/a.tsv", ""), ("benchmarks/train/b.tsv", "")])
    dependencies = read_dependencies(run)
    assert dependencies[("site", "site")] == {("index", "a-1"), ("index", "b-1")} and dependencies[("train", "a")] == set()
    path = critical_path(read_benchmarks(run, since=1000), dependencies)
    assert list(path.job) == ["a", "a-1", "site"] and list(path.waited_for) == ["–", "input", "input"]
    # a job whose input was ready long before it started waited for a core: the chain goes through the job that freed it
    write_job(run, "deconv", "b-1-x", 1140, 20)
    write_dependencies(run, [("benchmarks/deconv/b-1-x.tsv", "benchmarks/index/b-1.tsv")])
    path = critical_path(read_benchmarks(run, since=1000), read_dependencies(run))
    assert list(path.job) == ["a", "a-1", "site", "b-1-x"]
    assert list(path.waited_for) == ["–", "input or core", "input or core", "a free core"]
    assert read_dependencies(tmp_path / "nowhere") == {}


def test_lanes_put_jobs_that_overlap_on_different_rows(run):
    jobs = read_benchmarks(run, since=900)
    assigned = dict(zip(jobs.job, lanes(jobs), strict=True))
    assert assigned["a"] != assigned["b"]  # side by side
    assert assigned["b-1"] == assigned["b"]  # follows b on its row
    assert assigned["a-1"] == 0 and assigned["site"] == 0
    # brute force: no two jobs on one lane overlap
    rows = list(zip(jobs.start, jobs.end, lanes(jobs), strict=True))
    for i, (s1, e1, l1) in enumerate(rows):
        for s2, e2, l2 in rows[i + 1:]:
            assert l1 != l2 or e1 <= s2 + 0.5 or e2 <= s1 + 0.5


def test_run_start_reads_snakemakes_log_name_and_the_last_run_with_jobs(tmp_path):
    folder = tmp_path / ".snakemake" / "log"
    folder.mkdir(parents=True)
    (folder / "2026-11-22T184447.001405.snakemake.log").write_text("Finished job 3.\n")
    (folder / "2026-11-23T090000.000000.snakemake.log").write_text("Nothing to be done.\n")
    log = last_run_log(tmp_path)
    assert log.name.startswith("2026-11-22T184447")
    assert run_start(log) == pytest.approx(datetime(2026, 11, 22, 18, 44, 47, 1405).timestamp())
    with pytest.raises(ValueError, match="not a Snakemake log"):
        run_start("notes.txt")
