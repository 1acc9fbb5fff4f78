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


def test_the_plan_made_before_the_run_is_set_beside_what_its_jobs_cost(repo, tmp_path):
    from convatlas.workflow.plan_file import PLAN_PATH, write_plan

    write_job(tmp_path / "benchmarks", "train", "a", 1000, 100)
    write_job(tmp_path / "benchmarks", "index", "a-1", 1100, 30)
    stages = {"train": {"seconds": 50.0, "epochs": 2}, "index": {"seconds": 60.0},
              "deconv": {"projections": 1200, "seconds": 5.0}, "pages": {"channel_pages": 4, "seconds": 1.0}}
    write_plan({"device": "cpu", "cores": 2, "cpu_seconds": 116.0, "disk_mb": {"results": 12.0, "site": 3.0},
                "free_disk_mb": 999.0, "warnings": ["disk is short"],
                "models": [{"model": "a", "layers": ["x"], "default_layers": 2, "images": 64, "input_side": 16,
                            "stages": stages, "reasons": ["fewer layers"]}]}, tmp_path / PLAN_PATH)
    html = write_run_page(tmp_path, repo / "rules", repo / "templates", "t", since=990).read_text()
    assert "<h2>The plan</h2>" in html and "1.9 min of CPU time on cpu" in html and "disk is short" in html
    assert "1,200" in html and "1 of 2" in html and "fewer layers" in html
    rows = {re.sub("<.*?>", "", row.split("</td>")[0]): [re.sub("<.*?>", "", c).strip() for c in row.split("</td>")[1:-1]]
            for row in html.split("<th>estimate / measured</th></tr>")[1].split("</table>")[0].split("<tr><td>")[1:]}
    assert rows["train"] == ["50.0 s", "1", "1.7 min", "1.7 min", "0.50"]  # 50 s planned, 100 s measured
    assert rows["index"] == ["60.0 s", "1", "30.0 s", "30.0 s", "2.00"]
    assert rows["deconv"] == ["5.0 s", "0", "–", "0.0 s", "–"]  # planned, but no job of the run measured
