"""The run page, from synthetic benchmark files: every job listed, the training ratio right."""
import re

from convatlas.site.pages.run import write_run_page
from tests.workflow.test_benchmarks import write_job


def test_run_page_lists_every_job_of_the_run_and_the_ratio(repo, tmp_path):
    folder = tmp_path / "benchmarks"
    write_job(folder, "train", "a", 1000, 100, rss=900)
    write_job(folder, "train", "b", 1000, 60)
    write_job(folder, "index", "a-1", 1100, 30)
    write_job(folder, "layer_pages", "a-1-conv1", 1130, 10)
    write_job(folder, "deconv", "old-1-x", 500, 5)  # an earlier run: not on the page
    page = write_run_page(tmp_path, repo / "rules", repo / "templates", "test atlas", since=990)
    html = page.read_text()
    assert page == tmp_path / "site/run.html" and (tmp_path / "site/img/run-timeline.png").stat().st_size > 1000
    every_job = html.split("<h2>Every job</h2>")[1]
    assert [re.sub("<.*?>", "", c) for c in re.findall(r"<td><code>(.*?)</code></td>", every_job)] == ["a", "b", "a-1", "a-1-conv1"]
    assert "old-1-x" not in html
    # training spans 0-100 s (two jobs, 160 s summed); after it, 40 s: 0.40 of the span, 0.25 of the jobs' time
    assert "0.40" in html and "0.25" in html and "target ≤ 0.5: met" in html  # 40 s after 160 s of training jobs
    assert "2.3 min" in html  # the 140 s wall time, in minutes beyond 90 s
    assert ">site<" in html and ">index<" in html  # stages by rules/<stage>.smk (layer_pages is in site.smk)


def test_no_run_page_when_no_job_of_the_run_left_a_benchmark(repo, tmp_path):
    write_job(tmp_path / "benchmarks", "train", "a", 1000, 100)
    assert write_run_page(tmp_path, repo / "rules", repo / "templates", "t", since=5000) is None
    assert not (tmp_path / "site/run.html").exists()


def test_the_run_page_names_snakemakes_log_without_the_machines_paths(tmp_path):
    from convatlas.site.pages.run import shown_log_path

    log = tmp_path / ".snakemake/log/2026-12-03T1.snakemake.log"
    assert shown_log_path(str(log), tmp_path) == ".snakemake/log/2026-12-03T1.snakemake.log"
    assert shown_log_path("/elsewhere/x.snakemake.log", tmp_path) == "x.snakemake.log"
    assert shown_log_path(None, tmp_path) is None
