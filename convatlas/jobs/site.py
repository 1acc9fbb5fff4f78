"""Jobs of the site stage: model summaries, layer and channel pages, feature-map pages, the index
and model pages. Only the summary loads a model; the page jobs read tables, arrays and pictures."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.logs import work_starts
from ..workflow.datasets import dataset_spec

if TYPE_CHECKING:
    from ..data.spec import DatasetSpec


def run_model_summary(inputs: Any, outputs: Any, params: Any) -> None:
    """A model's summary JSON (from its last checkpoint and training log) and its two plots."""
    from ..analyses.summary import summarise_model
    from ..site.pages.overview import PER_CLASS_PLOTTED
    from ..site.plots import class_bars, training_curves
    from ..train.log import read_train_log
    from .subject import load_subject

    work_starts()
    subject = load_subject(inputs.checkpoint, None, params.layers, "cpu", params.threads)
    summary = summarise_model(params.model, subject.model, subject.meta, subject.layers, read_train_log(inputs.train_log))
    training_curves(summary.train_log, outputs.curves, title=params.model)
    # the classes with test images only, as many as the model page shows (1,000 bars would cost 30 s and show nothing)
    measured = [(name, accuracy) for name, accuracy in zip(summary.classes, summary.per_class_accuracy, strict=True)
                if accuracy == accuracy][:PER_CLASS_PLOTTED]
    class_bars([accuracy for _, accuracy in measured], [name for name, _ in measured], outputs.per_class, "test accuracy",
               title=f"{params.model}: per-class test accuracy (epoch {summary.epoch})")
    summary.write(outputs.summary)


def run_layer_pages(inputs: Any, outputs: Any, params: Any) -> None:
    """The layer page and every channel page of one layer."""
    from ..core.io import read_parquet
    from ..results.artifacts import ChannelArrays, IndexManifest, Projections
    from ..site.pages.layer import LayerPage, render_layer
    from . import fresh_page_folder, job_pictures, site_renderer

    work_starts()
    fresh_page_folder(outputs.page)
    layer = params.layer
    manifest = IndexManifest.read(inputs.layers)
    projections = Projections.read(inputs.projections)
    evolution = {}
    if "deconvnet" in projections.pictures:  # each checkpoint's top-1 projection, rows as this one's
        for e, path in zip(params.evolution_epochs, inputs.evolution, strict=True):
            evolution[int(e)] = Projections.read(path).top("deconvnet", projections.channels)
    probes = [probe_view(name, params.probes[name], *files) for name, *files in zip(
        params.probes, inputs.probe_indexes, inputs.probe_stats, inputs.probe_predictions, inputs.probe_layers,
        inputs.probe_projections, strict=True)]
    page = LayerPage(
        params.model, int(params.epoch), layer, manifest.layer(layer), params.layer_names, params.page_epochs,
        read_parquet(inputs.index), read_parquet(inputs.stats), read_parquet(inputs.predictions),
        job_pictures(params), manifest.classes, projections=projections, evolution=evolution,
        ablation=read_parquet(inputs.ablation) if "ablation" in inputs.keys() else None,
        maximised=ChannelArrays.read(inputs.maximise) if "maximise" in inputs.keys() else None,
        overview_channels=params.overview_channels, evolution_channels=params.evolution_channels,
        dataset=params.dataset_name, probe_images=manifest.probe_images, predicted_labels=manifest.predicted_labels,
        probes=probes, lead=params.lead, levels=read_parquet(inputs.levels) if "levels" in inputs.keys() else None,
        facets=read_parquet(inputs.facets) if "facets" in inputs.keys() else None,
    )
    render_layer(page, site_renderer(params, manifest.provenance))


def probe_view(name: str, dataset: dict, index: str, stats: str, predictions: str, layers: str, projections: str):
    """What a layer page shows of another probe dataset: its index, statistics, pictures and projections."""
    from ..core.io import read_parquet
    from ..data import Pictures
    from ..results.artifacts import IndexManifest, Projections
    from ..site.pages.layer import ProbeView

    manifest = IndexManifest.read(layers)
    return ProbeView(name, read_parquet(index), read_parquet(stats), read_parquet(predictions), Pictures(dataset_spec(dataset, name)),
                     manifest.probe_images, manifest.predicted_labels, Projections.read(projections))


def run_feature_maps(inputs: Any, outputs: Any, params: Any) -> None:
    """The feature-map pages, from the maps the index job recorded."""
    from ..results.artifacts import FeatureMaps, IndexManifest
    from ..site.pages.feature_maps import render_feature_maps
    from . import fresh_page_folder, job_pictures, site_renderer

    work_starts()
    fresh_page_folder(outputs.page)
    maps = FeatureMaps.read(inputs.maps)
    manifest = IndexManifest.read(inputs.layers)
    pictures = job_pictures(params)  # the maps are of its first images
    names = [pictures.name(i) for i in range(len(maps.images))]
    render_feature_maps(site_renderer(params, manifest.provenance), params.model, int(params.epoch),
                        maps, manifest.layers, names)


SHOWN_PREDICTIONS = 50  # images listed with their prediction on a model page


def prediction_rows(predictions, classes: list[str], dataset: DatasetSpec, labelled: bool = True) -> list[dict]:
    """The first analysed images with their true class (if ``labelled``), top-1 prediction and its
    probability; image folders name each image by its file."""
    from ..data.sources import image_file_name, list_folder_split

    names = {}
    if dataset.is_folder:  # named as every page names them (convatlas.data.Pictures.name)
        files, _, _ = list_folder_split(dataset, dataset.probe_split)
        names = {i: image_file_name(path, dataset.folder()) for i, path in enumerate(files[:SHOWN_PREDICTIONS])}
    return [{"image": int(row.image), "name": names.get(int(row.image), f"image {int(row.image)}"),
             "predicted": classes[int(row.predicted)], "probability": float(row.probability),
             "label": classes[int(row.label)] if labelled and row.label >= 0 else None}
            for row in predictions.head(SHOWN_PREDICTIONS).itertuples()]


def run_site(inputs: Any, outputs: Any, params: Any) -> None:
    """The index page and one page per model, with the model's plots copied in."""
    from ..analyses.findings import verdict_counts
    from ..core.io import read_parquet
    from ..results.artifacts import ClassImages, FindingsReport, IndexManifest, ModelSummary
    from ..site import layout
    from ..site.pages.overview import render_overview
    from . import site_renderer

    work_starts()
    renderer = site_renderer(params)
    for model, curves, per_class in zip(params.models, inputs.curves, inputs.per_class, strict=True):
        for name, source in (("curves", curves), ("per_class", per_class)):
            renderer.copy(source, layout.model_image(model, name))
    for model, classes in zip(params.models, inputs.class_images, strict=False):  # none without maximise
        renderer.copy(classes, layout.model_image(model, "classes"))
    variants = {base: read_parquet(path).to_dict("records") for base, path in zip(params.variant_bases, inputs.variants, strict=True)}
    class_images = {model: ClassImages.read_classes(path)
                    for model, path in zip(params.models, inputs.class_names, strict=False)}  # none without maximise
    recorded = {model: IndexManifest.read(path) for model, path in zip(params.models, inputs.layers, strict=True)}
    predictions = {model: prediction_rows(read_parquet(path), recorded[model].classes, dataset_spec(params.datasets[model]),
                                          not recorded[model].predicted_labels)
                   for model, path in zip(params.models, inputs.predictions, strict=True)}
    verdicts = {model: verdict_counts(FindingsReport.read(path).verdicts)
                for model, path in zip(params.models, inputs.findings, strict=True)}
    render_overview(renderer, [ModelSummary.read(path) for path in inputs.summaries], params.page_epochs, variants, class_images,
                    predictions, verdicts)
