"""The cluster path, exercised without a cluster: Snakemake's generic cluster executor submits every
job to a stand-in submit command (tests/cluster/submit.py) that runs it as a separate process and
reports its status, as sbatch and sacct would. Job scripts, the shared file system, latency waits
and status checks all take the cluster's route."""
import sys

import pandas as pd
import pytest

from convatlas.data.model_inputs import ModelInputs

pytestmark = pytest.mark.e2e

CONFIG = {
    "datasets": {"shapes": {"kind": "synthetic", "synthetic": {"size": 16, "classes": 4, "train_count": 64, "test_count": 48}}},
    "models": {"mini": {"arch": "zf", "dataset": "shapes", "epochs": 1, "batch_size": 32, "params": {"widths": [4, 8], "fc": [8]}}},
    "analysis": {"batch_size": 8, "shards": 3},
    "cluster_training_threads": 1, "cluster_analysis_threads": 1,  # the stand-in cluster is this 2-core machine
}


def cluster_args(repo):
    python = sys.executable
    return ["--executor", "cluster-generic", "--jobs", "4", "--latency-wait", "10",
            "--cluster-generic-submit-cmd", f"{python} {repo / 'tests/cluster/submit.py'}",
            "--cluster-generic-status-cmd", f"{python} {repo / 'tests/cluster/status.py'}",
            "--max-status-checks-per-second", "5"]


def test_a_run_through_a_cluster_executor_completes_in_separate_processes(write_config, run_snakemake, repo, tmp_path, monkeypatch):
    workdir = write_config(CONFIG)
    state = tmp_path / "standin-cluster"
    monkeypatch.setenv("STANDIN_CLUSTER_DIR", str(state))
    first = run_snakemake(workdir, *cluster_args(repo))
    log = first.stdout + first.stderr
    ledger = [line.split("\t") for line in (state / "ledger.tsv").read_text().splitlines()]
    submitted = {row[0] for row in ledger}
    # every job but the local ones (the target rule, checkpoint copies) was submitted, each as its own process
    finished, local = log.count("Finished jobid"), log.count("localrule ")
    assert len(ledger) >= 10 and len(ledger) == finished - local, log
    assert {row[2].split(".")[1] for row in ledger} >= {"train", "index_shard", "index", "deconv", "layer_pages", "site"}
    assert len({row[1] for row in ledger}) == len(ledger)
    assert all((state / f"{job}.exit").read_text().strip() == "0" for job in submitted)
    shards = [workdir / f"results/mini/epoch-1/index-shards/{shard}.npz" for shard in range(3)]
    assert all(path.is_file() for path in shards)
    assert (workdir / "site/index.html").is_file() and (workdir / "site/run.html").is_file()
    assert (workdir / "site/models/mini/epoch-1/features.relu1/index.html").is_file()

    # the merged index equals a single pass over the same checkpoint, computed here
    from convatlas.analyses.index import build_index
    from convatlas.jobs.subject import load_subject
    from convatlas.workflow.config import validate_config

    config = validate_config({**CONFIG, "analysis": dict(CONFIG["analysis"])})
    subject = load_subject(workdir / "results/mini/checkpoints/epoch-1.pt", config["datasets"]["shapes"], None, "cpu", 1)
    index, _, predictions = build_index(subject.model, subject.layers, ModelInputs(subject.images, subject.meta.mean, subject.meta.std, batch_size=8, show_progress=False), k=9)
    pd.testing.assert_frame_equal(pd.read_parquet(workdir / "results/mini/epoch-1/index.parquet"), index)
    pd.testing.assert_frame_equal(pd.read_parquet(workdir / "results/mini/epoch-1/predictions.parquet"), predictions)

    again = run_snakemake(workdir, *cluster_args(repo))
    assert "Nothing to be done" in again.stdout + again.stderr
    assert len((state / "ledger.tsv").read_text().splitlines()) == len(ledger)  # nothing submitted

    # a run killed while shard 1 ran, before the merge: the finished shards stand, shard 1 and the merge are redone
    kept = {path: path.stat().st_mtime_ns for path in (shards[0], shards[2])}
    merged = pd.read_parquet(workdir / "results/mini/epoch-1/index.parquet")
    shards[1].unlink()
    (workdir / "results/mini/epoch-1/index.parquet").unlink()
    resumed = run_snakemake(workdir, "--cores", "1", "results/mini/epoch-1/index.parquet")
    out = resumed.stdout + resumed.stderr
    assert out.count("rule index_shard:") == 1 and "shard=1" in out and out.count("rule index:") == 1, out
    assert {path: path.stat().st_mtime_ns for path in kept} == kept
    pd.testing.assert_frame_equal(pd.read_parquet(workdir / "results/mini/epoch-1/index.parquet"), merged)
