"""The findings jobs on tiny synthetic inputs, called with plain namespaces as Snakemake would."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from convatlas.core.io import write_json
from convatlas.jobs.findings import run_evolution, run_findings
from convatlas.models import build_model
from convatlas.models.checkpoint import save_checkpoint
from convatlas.results.artifacts import FindingsReport, IndexManifest, ModelSummary, SummaryLayer
from convatlas.workflow.config import validate_config

from ..analyses.test_findings import invariance_table, pairs_table
from ..conftest import REPO

PARAMS = {"widths": [4, 8], "fc": [16]}


def checkpoint(path, epoch: int, seed: int) -> str:
    torch.manual_seed(seed)
    model = build_model("zf", 1, 4, 16, PARAMS)
    meta = {"arch": "zf", "params": PARAMS, "dataset": "shapes", "classes": ["disc", "square", "hstripes", "vstripes"],
            "in_channels": 1, "image_size": 16, "epoch": epoch, "mean": [0.3], "std": [0.3]}
    save_checkpoint(path, model, meta)
    return str(path)


def test_evolution_job_correlates_every_checkpoint_with_the_last(tmp_path, tiny_config):
    dataset = validate_config(tiny_config())["datasets"]["shapes"]
    paths = [checkpoint(tmp_path / "e1.pt", 1, 0), checkpoint(tmp_path / "e2.pt", 2, 1), checkpoint(tmp_path / "e3.pt", 3, 1)]
    out = tmp_path / "evolution.parquet"
    run_evolution(SimpleNamespace(checkpoints=paths), SimpleNamespace(table=str(out)),
                  SimpleNamespace(epochs=[1, 2, 3], dataset=dataset, layers=["features.relu1", "classifier.fc1_relu"],
                                  images=40, batch_size=16, device="cpu", threads=1))
    table = pd.read_parquet(out)
    assert set(table.epoch) == {1, 2} and set(table.last_epoch) == {3} and set(table.images) == {40}
    same = table[table.epoch == 2].correlation.dropna()  # epoch 2 has the last one's weights: correlation 1
    assert len(same) and np.allclose(same, 1.0)
    assert (table[table.epoch == 1].correlation.dropna() < 0.999).any()


def test_findings_job_writes_the_json_and_the_page(tmp_path, monkeypatch, tiny_config):
    monkeypatch.chdir(tmp_path)
    pairs_table({"features.relu1": 0.1, "classifier.fc1_relu": 0.45},
                {"features.relu1": 0.5, "classifier.fc1_relu": 0.5}).to_parquet("pairs.parquet")
    write_json("meta.json", {"class": "disc", "images": list(range(6)), "boxes": {}, "layers": ["features.relu1", "classifier.fc1_relu"]})
    invariance_table(0.8, 0.3, {"translation": 0.8, "scale": 0.7, "rotation": 0.1}).to_parquet("invariance.parquet")
    np.savez("strips.npz", first_layer=np.array("features.relu1"), top_layer=np.array("classifier.fc1_relu"))
    IndexManifest(epoch=3, ranking="max", top_k=9, probe_images=64, classes=["a", "b"], layers=[]).write("layers.json")
    ModelSummary(name="tiny", arch="zf", params={}, class_name="ZFNet", dataset="shapes", dataset_kind="synthetic",
                 classes=["a", "b"], input_shape=[1, 16, 16], parameters=100, trainable_parameters=100, epoch=2,
                 layers=[SummaryLayer("features.relu1", "conv", [4, 16, 16], 4, 5)]).write("summary.json")
    inputs = SimpleNamespace(correspondence_pairs="pairs.parquet", correspondence_meta="meta.json",
                             invariance_table="invariance.parquet", invariance_strips="strips.npz",
                             layers="layers.json", summary="summary.json")
    outputs = SimpleNamespace(findings="findings.json", page="site/models/tiny/findings.html")
    dataset = validate_config(tiny_config())["datasets"]["shapes"]
    run_findings(inputs, outputs, SimpleNamespace(model="tiny", epoch=2, dataset=dataset, dataset_name="shapes",
                                                  sections={}, templates=str(REPO / "templates"),
                                                  title="convatlas", threads=1))
    found = FindingsReport.read("findings.json")
    assert found.model == "tiny" and found.epoch == 2 and found.verdicts == [
        "reproduced", "reproduced", "reproduced", "not measured", "not measured", "not measured"]
    page = (tmp_path / "site/models/tiny/findings.html").read_text()
    assert "3 reproduced, 3 not measured" in page
