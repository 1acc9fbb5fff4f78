"""Reading a run's benchmark files: the timeline, the training ratio and the critical path."""
import os

import pytest

from convatlas.workflow.benchmarks import by_stage, critical_path, read_benchmarks, rule_stages, summarise

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
