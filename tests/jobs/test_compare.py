"""The compare jobs: linear probes on the configured images and layers, the source-class model trained
anew, few-shot transfer to the target classes, and the comparison page built from all of it."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from convatlas import results
from convatlas.analyses.linear_probes import probe_layers
from convatlas.data.datasets import load_split
from convatlas.data.model_inputs import ModelInputs
from convatlas.jobs.analyses import run_occlusion
from convatlas.jobs.compare import run_compare, run_linear_probes, run_transfer, run_transfer_source
from convatlas.jobs.deconv import run_deconv
from convatlas.jobs.site import run_model_summary
from convatlas.jobs.subject import load_subject
from convatlas.models.checkpoint import load_checkpoint
from convatlas.site import layout
from convatlas.train.log import read_train_log
from convatlas.workflow.plan import sections

from .subjects import DATASET, MODEL, Files, broken_links, meta_value, page_params, run_index_job, train_tiny, working_in

EPOCH = 2


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    trained = train_tiny(root)
    config, checkpoint = trained.config, Files(checkpoint=trained.checkpoints[EPOCH])
    subject = load_subject(trained.checkpoints[EPOCH], trained.dataset, None, "cpu", 1)
    layers = [layer.name for layer in subject.layers]
    probes = trained.path(results.linear_probes(MODEL, EPOCH))
    run_linear_probes(checkpoint, Files(table=probes), SimpleNamespace(
        dataset=trained.dataset, layers=None, settings=config["linear_probes"], batch_size=16, device="cpu", threads=1))
    source = trained.path(results.transfer_source(MODEL))
    state_dir = root / results.transfer_dir(MODEL)
    run_transfer_source(Files(), Files(checkpoint=source), SimpleNamespace(
        model_name=MODEL, model=trained.model, dataset_name=DATASET, dataset=trained.dataset, settings=config["transfer"],
        state_dir=str(state_dir), tracked=None, device="cpu", threads=1))
    transfer = trained.path(results.transfer_table(MODEL))
    run_transfer(Files(source=source), Files(table=transfer), SimpleNamespace(
        model=trained.model, dataset_name=DATASET, dataset=trained.dataset, settings=config["transfer"], device="cpu",
        threads=1))
    # what the comparison page reads besides: summary, index, projections, occlusion
    index = run_index_job(trained, EPOCH)
    summary = Files(summary=trained.path(results.summary(MODEL)), curves=trained.path(results.plot(MODEL, "curves")),
                    per_class=trained.path(results.plot(MODEL, "per_class")))
    run_model_summary(Files(checkpoint=trained.checkpoints[EPOCH], train_log=trained.train_log), summary,
                      SimpleNamespace(model=MODEL, layers=None, threads=1))
    deconvs = [trained.path(results.projections(MODEL, EPOCH, layer)) for layer in layers]
    for layer, path in zip(layers, deconvs, strict=True):
        run_deconv(Files(checkpoint=trained.checkpoints[EPOCH], index=index.index), Files(projections=path),
                   SimpleNamespace(layer=layer, dataset=trained.dataset, probe=DATASET, methods=["deconvnet"], branches=False,
                                   checks=True, batch_size=16, channels="auto", device="cpu", threads=1))
    occlusion = trained.path(results.occlusion(MODEL, EPOCH))
    run_occlusion(checkpoint, Files(maps=occlusion), SimpleNamespace(
        dataset=trained.dataset, settings=config["occlusion"] | {"batch_size": 16}, device="cpu", threads=1))
    page = f"{layout.SITE_ROOT}/{layout.compare_page()}"
    inputs = Files(summaries=[summary.summary], stats=[index.stats], probes=[probes], occlusions=[occlusion],
                   transfers=[transfer], probe_stats=[], deconvs=deconvs, predictions=[index.predictions], pages=[])
    with working_in(root):
        run_compare(inputs, Files(page=page), page_params(
            trained, models=[MODEL], epochs={MODEL: EPOCH}, transfer_models=[MODEL], probe_pairs=[],
            deconv_pairs=[[MODEL, layer] for layer in layers], lead=config["deconv"]["lead"], sections=sections(config),
            own_datasets={MODEL: DATASET}))
    return SimpleNamespace(trained=trained, root=root, subject=subject, layers=layers, probes=pd.read_parquet(probes),
                           source=source, state_dir=state_dir, transfer=pd.read_parquet(transfer), page=root / page)


def test_a_linear_probe_per_analysed_layer(compared):
    settings, subject = compared.trained.config["linear_probes"], compared.subject
    table = compared.probes
    assert table.layer.tolist() == compared.layers
    assert table.features.tolist() == [layer.channels for layer in subject.layers]
    assert (table.test_images == settings["test_images"]).all()
    assert table.accuracy.between(0, 1).all() and table.train_accuracy.between(0, 1).all()
    train = load_split(compared.trained.spec, "train").spread(settings["train_images"])
    assert len(train) == settings["train_images"]
    mean, std = meta_value(subject.meta, "mean"), meta_value(subject.meta, "std")
    direct = probe_layers(subject.model, compared.layers, ModelInputs(train, mean, std, batch_size=7, show_progress=False),
                          ModelInputs(subject.images.subset(settings["test_images"]), mean, std, batch_size=7,
                                      show_progress=False))
    pd.testing.assert_frame_equal(table, direct)


def test_the_source_model_is_trained_on_the_source_classes(compared):
    settings = compared.trained.config["transfer"]
    model, meta = load_checkpoint(compared.source)
    classes = load_split(compared.trained.spec, "test").classes
    assert meta_value(meta, "classes") == [classes[c] for c in settings["source_classes"]]
    assert meta_value(meta, "epoch") == settings["epochs"] and meta_value(meta, "model") == f"{MODEL}-source"
    assert [row["epoch"] for row in read_train_log(compared.state_dir / "train_log.tsv")] == [settings["epochs"]]
    assert model(torch.zeros(1, 1, 16, 16)).shape == (1, len(settings["source_classes"]))
    # its test accuracy is on the source classes' test images only
    test = load_split(compared.trained.spec, "test")
    chosen = torch.isin(test.labels, torch.as_tensor(settings["source_classes"]))
    images = test.images(torch.nonzero(chosen).flatten()).float() / 255
    mean, std = meta_value(meta, "mean")[0], meta_value(meta, "std")[0]
    with torch.no_grad():
        predicted = model((images - mean) / std).argmax(dim=1)
    relabelled = torch.as_tensor([settings["source_classes"].index(int(c)) for c in test.labels[chosen]])
    assert meta_value(meta, "test_accuracy") == pytest.approx(float((predicted == relabelled).double().mean()))


def test_the_transfer_table(compared):
    settings, table = compared.trained.config["transfer"], compared.transfer
    classes = load_split(compared.trained.spec, "test").classes
    assert set(table.method) >= {"transfer", "random", "scratch", "last_hidden"}  # zf has a hidden linear layer
    assert sorted(set(table.shots)) == settings["shots"] and sorted(set(table.draw)) == list(range(settings["draws"]))
    assert len(table) == len(set(table.method)) * len(settings["shots"]) * settings["draws"]
    assert table.accuracy.between(0, 1).all()
    assert set(table.source_classes) == {", ".join(classes[c] for c in settings["source_classes"])}
    assert set(table.target_classes) == {", ".join(classes[c] for c in settings["target_classes"])}
    assert set(table.source_class_count) == {len(settings["source_classes"])}
    assert set(table.test_images) == {settings["test_images"]}
    _, meta = load_checkpoint(compared.source)
    assert np.allclose(table.source_accuracy, meta_value(meta, "test_accuracy"))


def test_the_comparison_page(compared):
    assert compared.page.is_file()
    text = compared.page.read_text()
    assert MODEL in text
    site = compared.root / layout.SITE_ROOT
    for name in ("transfer", "linear-probes"):
        assert (site / layout.compare_image(name)).is_file()
    assert broken_links(site, ["img"]) == []
