"""The site jobs on the outputs of the index, deconv, ablation and maximise jobs: the model summary
against its checkpoint and training log, every layer's page and channel pages, the feature-map pages,
and the index and model pages; every link among the pages built resolves."""
import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from convatlas import results
from convatlas.core.io import read_json
from convatlas.data import Pictures
from convatlas.jobs.ablation import run_channel_ablation
from convatlas.jobs.deconv import run_deconv
from convatlas.jobs.index import run_index
from convatlas.jobs.maximise import run_class_images, run_maximise
from convatlas.jobs.site import SHOWN_PREDICTIONS, prediction_rows, run_feature_maps, run_layer_pages, run_model_summary, run_site
from convatlas.jobs.subject import load_subject
from convatlas.models.checkpoint import load_checkpoint
from convatlas.results.artifacts import FindingsReport
from convatlas.site import layout
from convatlas.train.log import read_train_log
from convatlas.workflow.datasets import dataset_spec
from convatlas.workflow.plan import fitted_probe, sections

from .subjects import (
    DATASET,
    EPOCHS,
    MODEL,
    Files,
    broken_links,
    index_params,
    meta_value,
    page_params,
    run_index_job,
    train_tiny,
    working_in,
)

EPOCH = EPOCHS[-1]
EXTRAS = "features.relu2"  # the layer whose page also shows the ablation table and maximised images
PROBE = "other"  # another probe dataset of the model, shown beside its own on the layer pages


def site_path(path: str) -> str:
    return f"{layout.SITE_ROOT}/{path}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    trained = train_tiny(root, {PROBE: {"kind": "synthetic", "synthetic": {"size": 16, "classes": 3, "test_count": 20,
                                                                          "seed": 5}}})
    config = trained.config
    probe = fitted_probe(config, MODEL, PROBE)
    subject = load_subject(trained.checkpoints[EPOCH], trained.dataset, None, "cpu", 1)
    layers = [layer.name for layer in subject.layers]
    indexes = {epoch: run_index_job(trained, epoch) for epoch in EPOCHS}
    projections = {}
    for epoch in EPOCHS:  # every layer's projections at every checkpoint (the evolution strips)
        for layer in layers:
            projections[epoch, layer] = trained.path(results.projections(MODEL, epoch, layer))
            methods = config["deconv"]["methods"] if epoch == EPOCH else ["deconvnet"]
            run_deconv(Files(checkpoint=trained.checkpoints[epoch], index=indexes[epoch].index),
                       Files(projections=projections[epoch, layer]),
                       SimpleNamespace(layer=layer, dataset=trained.dataset, probe=DATASET, methods=methods, branches=False,
                                       checks=epoch == EPOCH, batch_size=16, channels="auto", device="cpu", threads=1,
                                       previous_layer=layers[layers.index(layer) - 1] if layers.index(layer) else "",
                                       next_layer=layers[layers.index(layer) + 1] if layer != layers[-1] else ""))
    probe_index = Files(index=trained.path(results.index(MODEL, EPOCH, PROBE)),
                        stats=trained.path(results.channel_stats(MODEL, EPOCH, PROBE)),
                        predictions=trained.path(results.predictions(MODEL, EPOCH, PROBE)),
                        layers=trained.path(results.manifest(MODEL, EPOCH, PROBE)))
    run_index(Files(checkpoint=trained.checkpoints[EPOCH]), probe_index,
              index_params(trained, dataset=probe, probe=PROBE, feature_map_images=0))
    probe_projections = {}
    for layer in layers:  # the probe_deconv rule: one method, no checks
        probe_projections[layer] = trained.path(results.projections(MODEL, EPOCH, layer, PROBE))
        run_deconv(Files(checkpoint=trained.checkpoints[EPOCH], index=probe_index.index),
                   Files(projections=probe_projections[layer]),
                   SimpleNamespace(layer=layer, dataset=probe, probe=PROBE, methods=config["deconv"]["methods"][:1],
                                   branches=False, checks=False, batch_size=16, channels="auto", device="cpu", threads=1))
    checkpoint = Files(checkpoint=trained.checkpoints[EPOCH])
    ablation = trained.path(results.channel_ablation(MODEL, EPOCH, EXTRAS))
    run_channel_ablation(checkpoint, Files(table=ablation), SimpleNamespace(
        layer=EXTRAS, dataset=trained.dataset, settings=config["ablation"], channels="auto", device="cpu", threads=1))
    maximised = trained.path(results.maximised(MODEL, EPOCH, EXTRAS))
    run_maximise(Files(checkpoint=trained.checkpoints[EPOCH], index=indexes[EPOCH].index), Files(images=maximised),
                 SimpleNamespace(layer=EXTRAS, dataset=trained.dataset, settings=config["maximise"], batch_size=8,
                                 channels="auto", device="cpu", threads=1))
    class_images = Files(images=trained.path(results.class_images(MODEL, EPOCH, "npz")),
                         png=trained.path(results.class_images(MODEL, EPOCH, "png")))
    run_class_images(Files(checkpoint=trained.checkpoints[EPOCH], predictions=indexes[EPOCH].predictions), class_images,
                     SimpleNamespace(settings=config["maximise"], device="cpu", threads=1))
    summary = Files(summary=trained.path(results.summary(MODEL)), curves=trained.path(results.plot(MODEL, "curves")),
                    per_class=trained.path(results.plot(MODEL, "per_class")))
    run_model_summary(Files(checkpoint=trained.checkpoints[EPOCH], train_log=trained.train_log), summary,
                      SimpleNamespace(model=MODEL, layers=None, threads=1))
    findings = trained.path(results.findings(MODEL))
    FindingsReport(MODEL, EPOCH, [{"verdict": "reproduced"}, {"verdict": "reproduced"}, {"verdict": "not measured"}]).write(findings)
    index = indexes[EPOCH]
    common = {"model": MODEL, "epoch": str(EPOCH), "sections": sections(config)}
    with working_in(root):
        for layer in layers:
            inputs = Files(probe_indexes=[probe_index.index], probe_stats=[probe_index.stats],
                           probe_predictions=[probe_index.predictions], probe_layers=[probe_index.layers],
                           probe_projections=[probe_projections[layer]],
                           index=index.index, stats=index.stats, predictions=index.predictions, layers=index.layers,
                           projections=projections[EPOCH, layer], evolution=[projections[e, layer] for e in EPOCHS],
                           levels=index.levels, facets=index.facets)
            if layer == EXTRAS:
                inputs.ablation, inputs.maximise = ablation, maximised
            run_layer_pages(inputs, Files(page=site_path(layout.layer_page(MODEL, EPOCH, layer))), page_params(
                trained, layer=layer, probes={PROBE: probe}, layer_names=layers, page_epochs=[EPOCH], evolution_epochs=EPOCHS,
                overview_channels=config["deconv"]["overview_channels"],
                evolution_channels=config["deconv"]["evolution_channels"], lead=config["deconv"]["lead"], **common))
        run_feature_maps(Files(maps=index.feature_maps, layers=index.layers),
                         Files(page=site_path(layout.feature_maps_page(MODEL, EPOCH))), page_params(trained, **common))
        run_site(Files(summaries=[summary.summary], curves=[summary.curves], per_class=[summary.per_class], pages=[],
                       findings=[findings], variants=[], class_images=[class_images.png], class_names=[class_images.images],
                       predictions=[index.predictions], layers=[index.layers]),
                 Files(index=site_path(layout.index_page()), model_pages=[site_path(layout.model_page(MODEL))]),
                 page_params(trained, models=[MODEL], page_epochs={MODEL: [EPOCH]}, variant_bases=[],
                             sections=sections(config), datasets={MODEL: trained.dataset}))
    return SimpleNamespace(trained=trained, root=root, site=root / layout.SITE_ROOT, subject=subject, layers=layers,
                           summary=summary, index=index, probe_index=probe_index)


def test_the_model_summary(built):
    summary = read_json(built.summary.summary)
    model, meta = load_checkpoint(built.trained.checkpoints[EPOCH])
    assert summary["name"] == MODEL and summary["epoch"] == EPOCH
    for key in ("classes", "test_accuracy", "per_class_accuracy", "arch", "params"):
        assert summary[key] == meta_value(meta, key), key
    assert summary["input_shape"] == [1, 16, 16]
    assert summary["parameters"] == sum(p.numel() for p in model.parameters())
    assert [layer["name"] for layer in summary["layers"]] == built.layers
    assert [layer["channels"] for layer in summary["layers"]] == [layer.channels for layer in built.subject.layers]
    logged = read_train_log(built.trained.train_log)
    assert [row["epoch"] for row in summary["train_log"]] == [row["epoch"] for row in logged] == EPOCHS
    assert summary["train_log"][-1]["test_accuracy"] == pytest.approx(logged[-1]["test_accuracy"])
    for plot in (built.summary.curves, built.summary.per_class):
        with Image.open(plot) as image:
            assert image.width > 100 and image.height > 100


def test_a_page_per_layer_and_per_channel(built):
    for layer in built.subject.layers:
        assert (built.site / layout.layer_page(MODEL, EPOCH, layer.name)).is_file()
        for channel in range(layer.channels):
            assert (built.site / layout.channel_page(MODEL, EPOCH, layer.name, channel)).is_file(), (layer.name, channel)
    stats = pd.read_parquet(built.index.stats)
    page = (built.site / layout.layer_page(MODEL, EPOCH, EXTRAS)).read_text()
    assert EXTRAS in page and len(stats[stats.layer == EXTRAS]) == built.subject.graph.layer(EXTRAS).channels


def test_the_top_images_of_a_channel_are_on_its_page(built):
    index = pd.read_parquet(built.index.index)
    rows = index[(index.layer == EXTRAS) & (index.channel == 0)].sort_values("rank")
    page = (built.site / layout.channel_page(MODEL, EPOCH, EXTRAS, 0)).read_text()
    assert all(f"image {int(image)}" in page for image in rows.image)


def test_the_other_probe_dataset_beside_the_own(built):
    layer_page = (built.site / layout.layer_page(MODEL, EPOCH, EXTRAS)).read_text()
    assert f"<b>{PROBE}</b>" in layer_page and f"<b>{DATASET}</b>" in layer_page
    index = pd.read_parquet(built.probe_index.index)
    rows = index[(index.layer == EXTRAS) & (index.channel == 0)].sort_values("rank")
    page = (built.site / layout.channel_page(MODEL, EPOCH, EXTRAS, 0)).read_text()
    assert f"max on {PROBE}" in page and f'id="on-{PROBE}"' in page
    assert len(rows) == built.trained.config["analysis"]["top_k"]


def test_the_feature_map_pages(built):
    count = built.trained.config["feature_maps"]["images"]
    assert (built.site / layout.feature_maps_page(MODEL, EPOCH)).is_file()
    for image in range(count):
        assert (built.site / layout.feature_maps_page(MODEL, EPOCH, image)).is_file(), image
    assert not (built.site / layout.feature_maps_page(MODEL, EPOCH, count)).exists()


def test_the_index_and_model_pages(built):
    index = (built.site / layout.index_page()).read_text()
    assert MODEL in index and "2 reproduced, 1 not measured" in index
    model = (built.site / layout.model_page(MODEL)).read_text()
    for name in ("curves", "per_class", "classes"):
        assert (built.site / layout.model_image(MODEL, name)).is_file(), name
    predictions = pd.read_parquet(built.index.predictions)
    classes = built.subject.images.classes
    first = predictions.iloc[0]
    assert f"image {int(first.image)}" in model and classes[int(first.predicted)] in model


def test_every_link_among_the_built_pages_resolves(built):
    owned = [layout.layer_dir(MODEL, EPOCH, layer) for layer in built.layers]
    owned += [layout.feature_maps_dir(MODEL, EPOCH), layout.index_page(), layout.model_page(MODEL)]
    owned += [layout.model_image(MODEL, name) for name in ("curves", "per_class", "classes")]
    assert broken_links(built.site, owned) == []


def test_prediction_rows(tmp_path):
    predictions = pd.DataFrame({"image": range(60), "label": [i % 3 for i in range(59)] + [-1],
                                "predicted": [(i + 1) % 3 for i in range(60)], "probability": [0.5] * 60})
    classes = ["a", "b", "c"]
    dataset = dataset_spec({"kind": "synthetic"})
    rows = prediction_rows(predictions, classes, dataset)
    assert len(rows) == SHOWN_PREDICTIONS
    assert rows[4] == {"image": 4, "name": "image 4", "predicted": "c", "probability": 0.5, "label": "b"}
    assert all(row["label"] is None for row in prediction_rows(predictions, classes, dataset, labelled=False))
    last = prediction_rows(predictions.tail(1), classes, dataset)[0]
    assert last["label"] is None and last["predicted"] == "a"  # no label (-1): none shown
    # an image folder names each image by its file, as every page names it
    for label in classes:
        (tmp_path / "test" / label).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8)).save(tmp_path / "test" / label / f"{label}{i}.png")
    folder = {"kind": "imagefolder", "root": str(tmp_path), "probe_split": "test", "held_out": None}
    named = prediction_rows(predictions.head(6), classes, dataset_spec(folder))
    pictures = Pictures(dataset_spec(folder))
    assert [row["name"] for row in named] == [pictures.name(i) for i in range(6)]
    assert [row["name"].rsplit("/", 2)[-2:] for row in named] == [[c, f"{c}{i}.png"] for c in classes for i in range(2)]
    assert json.dumps(named)  # plain values, for the template



def test_every_live_channel_page_shows_three_levels_and_its_facets(built):
    stats = pd.read_parquet(built.index.stats)
    facets = pd.read_parquet(built.index.facets)
    for layer in built.subject.layers:
        live = stats[(stats.layer == layer.name) & ~stats.dead].channel
        for channel in live:
            page = (built.site / layout.channel_page(MODEL, EPOCH, layer.name, int(channel))).read_text()
            labels = " ".join(re.findall(r"<b>([^<]*percentile)</b>", page))  # rows; levels in one bin share one
            assert all(f"{p}th" in labels for p in (99, 90, 50)), (layer.name, channel)
            if ((facets.layer == layer.name) & (facets.channel == channel)).any():
                assert "Facets of its top" in page, (layer.name, channel)


def test_channel_pages_link_at_least_three_channels_each_way_where_the_neighbours_are_analysed(built):
    """Connections as the deconv job computed them, against the analysis called directly."""
    from convatlas.analyses.connections import connection_strengths, feed_strengths
    from convatlas.results.artifacts import Projections

    names = [layer.name for layer in built.subject.layers]
    stats = pd.read_parquet(built.index.stats)
    index = pd.read_parquet(built.index.index)
    inputs = built.subject.inputs(16)
    for position, name in enumerate(names):
        stored = Projections.read(built.trained.path(results.projections(MODEL, EPOCH, name)))
        if position:
            assert stored.connections_from == names[position - 1]
            every = list(range(built.subject.graph.layer(name).channels))  # every channel, projected or not
            direct = connection_strengths(built.subject.model, names[position - 1], name, index, inputs, every,
                                          built.subject.graph)
            assert stored.connections.shape == (len(every), built.subject.graph.layer(names[position - 1]).channels)
            assert np.allclose(stored.connections, direct, atol=1e-6)
        if position + 1 < len(names):
            assert stored.feeds_to == names[position + 1]
            every = list(range(built.subject.graph.layer(name).channels))
            direct = feed_strengths(built.subject.model, name, names[position + 1], index, inputs, every, built.subject.graph)
            assert np.allclose(stored.feeds, direct, atol=1e-6)
        for channel in stats[(stats.layer == name) & ~stats.dead].channel:
            page = (built.site / layout.channel_page(MODEL, EPOCH, name, int(channel))).read_text()
            reads = page.count(f'href="../{names[position - 1]}/channel-') if position else None
            feeds = page.count(f'href="../{names[position + 1]}/channel-') if position + 1 < len(names) else None
            assert reads is None or reads >= 3, (name, channel)
            assert feeds is None or feeds >= 3, (name, channel)
