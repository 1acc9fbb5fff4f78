"""The ablation jobs: accuracy with channels switched off (recomputed here by zeroing them in a forward
hook), the named experiments, the variants table against each checkpoint's own errors, and the page."""
import copy
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from convatlas import results
from convatlas.data.datasets import load_dataset, load_split
from convatlas.jobs.ablation import run_ablation_experiments, run_ablation_pages, run_channel_ablation, run_variants
from convatlas.jobs.subject import load_subject
from convatlas.jobs.train import train_and_save
from convatlas.results.artifacts import AblationExperiments
from convatlas.site import layout

from .subjects import DATASET, MODEL, Files, broken_links, meta_value, page_params, run_index_job, train_tiny, working_in

EPOCH = 2
VARIANT = f"{MODEL}-wide"


@pytest.fixture(scope="module")
def ablated(tmp_path_factory):
    root = tmp_path_factory.mktemp("ablation")
    trained = train_tiny(root)
    config = trained.config
    index = run_index_job(trained, EPOCH)
    subject = load_subject(trained.checkpoints[EPOCH], trained.dataset, None, "cpu", 1)
    layers = [layer.name for layer in subject.layers]
    checkpoint = Files(checkpoint=trained.checkpoints[EPOCH])
    tables = {}
    for layer in layers:
        tables[layer] = trained.path(results.channel_ablation(MODEL, EPOCH, layer))
        run_channel_ablation(checkpoint, Files(table=tables[layer]), SimpleNamespace(
            layer=layer, dataset=trained.dataset, settings=config["ablation"], channels=3 if layer == "features.relu2" else "auto",
            device="cpu", threads=1))
    experiments = trained.path(results.ablation_experiments(MODEL, EPOCH))
    run_ablation_experiments(Files(checkpoint=trained.checkpoints[EPOCH], stats=index.stats), Files(experiments=experiments),
                             SimpleNamespace(dataset=trained.dataset, settings=config["ablation"], layers=None, device="cpu",
                                             threads=1))
    variant = copy.deepcopy(trained.model) | {"epochs": 1, "checkpoints": [1], "params": {"widths": [6, 8], "fc": [16]}}
    train, test = load_dataset(trained.spec)
    train_and_save(VARIANT, variant, DATASET, trained.dataset, train, test, [1], root / "variant.tsv", root / "variant")
    variants = trained.path(results.variants(MODEL))
    run_variants(Files(base=trained.checkpoints[EPOCH], variants=[str(root / "variant" / "epoch-1.pt")]),
                 Files(table=variants),
                 SimpleNamespace(model=MODEL, variants=[VARIANT], dataset=trained.dataset, device="cpu", threads=1))
    page = f"{layout.SITE_ROOT}/{layout.ablation_page(MODEL, EPOCH)}"
    with working_in(root):
        run_ablation_pages(Files(experiments=experiments, layer_tables=[tables[layer] for layer in layers], layers=index.layers),
                           Files(page=page), page_params(trained, model=MODEL, epoch=str(EPOCH), layer_names=layers))
    return SimpleNamespace(trained=trained, root=root, index=index, subject=subject, tables=tables,
                           experiments=AblationExperiments.read(experiments), variants=pd.read_parquet(variants),
                           variant=str(root / "variant" / "epoch-1.pt"), page=root / page)


def predictions_without(subject, switched: dict[str, list[int]]) -> torch.Tensor:
    """The model's predictions on every analysed image with ``switched`` channels zeroed at their layers."""
    def zeroed(channels):
        def hook(module, args, output):
            output = output.clone()
            output[:, channels] = 0
            return output
        return hook

    hooks = [subject.model.get_submodule(layer).register_forward_hook(zeroed(channels)) for layer, channels in switched.items()]
    images = subject.images
    with torch.no_grad():
        predicted = subject.model(subject.normalise(images.images(torch.arange(len(images))))).argmax(dim=1)
    for hook in hooks:
        hook.remove()
    return predicted


def accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    return float((predicted == labels).double().mean())


def test_each_channel_switched_off_alone(ablated):
    subject = ablated.subject
    labels = subject.images.labels
    base = accuracy(predictions_without(subject, {}), labels)
    for layer in ablated.tables:
        table = pd.read_parquet(ablated.tables[layer])
        channels = subject.graph.layer(layer).channels
        expected_channels = [0, channels // 2, channels - 1] if layer == "features.relu2" else list(range(channels))
        assert table.channel.tolist() == expected_channels, layer
        assert (table.images == len(labels)).all() and np.allclose(table.base_accuracy, base)
        for row in table.itertuples():
            predicted = predictions_without(subject, {layer: [row.channel]})
            assert row.accuracy == pytest.approx(accuracy(predicted, labels)), (layer, row.channel)
            assert row.accuracy_drop == pytest.approx(base - row.accuracy)
            for c, value in enumerate(row.class_accuracy):
                assert value == pytest.approx(accuracy(predicted[labels == c], labels[labels == c]))


def test_the_experiments(ablated):
    found, settings = ablated.experiments, ablated.trained.config["ablation"]
    subject, labels = ablated.subject, ablated.subject.images.labels
    assert found.images == len(labels) and found.classes == subject.images.classes
    assert found.kinds == {"named": "channels", "selective": "top_selectivity", "drawn": "random"}
    named = found.experiments["named"]
    assert named.channels == {"features.relu2": [0, 1]}
    assert named.accuracy_before == pytest.approx(accuracy(predictions_without(subject, {}), labels))
    assert named.accuracy_after == pytest.approx(accuracy(predictions_without(subject, {"features.relu2": [0, 1]}), labels))
    stats = pd.read_parquet(ablated.index.stats)
    ranked = stats.dropna(subset=["selectivity"]).sort_values(["selectivity_low", "layer", "channel"],
                                                                ascending=[False, True, True]).head(2)
    selective = found.experiments["selective"]
    assert sorted((layer, c) for layer, cs in selective.channels.items() for c in cs) == sorted(
        zip(ranked.layer, ranked.channel.astype(int), strict=True))
    assert selective.accuracy_after == pytest.approx(accuracy(predictions_without(subject, selective.channels), labels))
    assert len(selective.controls) == settings["experiments"]["selective"]["controls"]
    for control in selective.controls:
        assert {layer: len(cs) for layer, cs in control.channels.items()} == {
            layer: len(cs) for layer, cs in selective.channels.items()}
        assert control.accuracy_after == pytest.approx(accuracy(predictions_without(subject, control.channels), labels))
    drawn = found.experiments["drawn"]
    assert sum(len(cs) for cs in drawn.channels.values()) == settings["experiments"]["drawn"]["random"]
    assert drawn.controls == [] and named.controls == []


def test_the_variants_table(ablated):
    table = ablated.variants
    assert table.model.tolist() == [MODEL, VARIANT]
    train = load_split(ablated.trained.spec, "train")
    for name, path in zip(table.model, [ablated.trained.checkpoints[EPOCH], ablated.variant], strict=True):
        subject = load_subject(path, ablated.trained.dataset, None, "cpu", 1)
        row = table[table.model == name].iloc[0]
        test = subject.images
        with torch.no_grad():
            test_predicted = subject.model(subject.normalise(test.images(torch.arange(len(test))))).argmax(dim=1)
            train_predicted = subject.model(subject.normalise(train.images(torch.arange(len(train))))).argmax(dim=1)
        assert row.test_error == pytest.approx(1 - accuracy(test_predicted, test.labels))
        assert row.train_error == pytest.approx(1 - accuracy(train_predicted, train.labels))  # 64 < the spread's cap: all
        assert row.test_images == len(test) and row.train_images == len(train)
        assert json.loads(row.params) == meta_value(subject.meta, "params") and row.epoch == meta_value(subject.meta, "epoch")
        assert row.parameters == sum(p.numel() for p in subject.model.parameters())
        assert np.array_equal(row.test_correct, (test_predicted == test.labels).numpy())
    assert table.parameters.iloc[1] > table.parameters.iloc[0]  # wider first conv


def test_the_ablation_page(ablated):
    assert ablated.page.is_file()
    text = ablated.page.read_text()
    assert all(name in text for name in ("named", "selective", "drawn"))
    site = ablated.root / layout.SITE_ROOT
    assert broken_links(site, [layout.ablation_dir(MODEL, EPOCH)]) == []
