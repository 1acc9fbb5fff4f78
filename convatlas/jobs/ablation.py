"""Jobs of the ablation stage: channels switched off one by one and in named sets, the variants
(architectures with layers changed) against their base model, and the ablation page."""
from __future__ import annotations

from typing import Any

from ..core.logs import progress, work_starts


def _ablation_images(subject, limit: int | None):
    """The analysed images ablations are measured on: the first ``limit`` (None: all)."""
    images = subject.images
    return images.subset(limit) if limit and limit < len(images) else images


def run_channel_ablation(inputs: Any, outputs: Any, params: Any) -> None:
    """Accuracy with each channel of one layer switched off alone, overall and per class, as Parquet."""
    from ..analyses.ablation import channel_ablation, with_base_columns
    from ..core.io import write_parquet
    from .subject import load_subject

    work_starts()
    subject = load_subject(inputs.checkpoint, params.dataset, None, params.device, params.threads)
    settings = params.settings
    table = channel_ablation(subject.model, params.layer,
                             subject.inputs(settings["batch_size"], _ablation_images(subject, settings["images"])),
                             graph=subject.graph, channels=subject.selected_channels(params.layer, params.channels))
    write_parquet(with_base_columns(table), outputs.table)


def experiment_channels(spec: dict, stats, layers: list[str], key: str) -> dict[str, list[int]]:
    """The channels an experiment of the ``ablation.experiments`` block (at ``key``) switches off, per
    layer: its ``channels`` ({layer: [channel, ...]}), its ``top_selectivity`` most selective
    channels, or ``random`` channels (with ``seed``)."""
    from ..analyses.ablation import most_selective_channels, named_channels, random_channels

    if "channels" in spec:
        return named_channels(spec["channels"], stats, layers, f"{key}.channels")
    if "top_selectivity" in spec:
        return most_selective_channels(stats, layers, spec["top_selectivity"])
    return random_channels(stats, layers, spec["random"], spec.get("seed", 0))


def run_ablation_experiments(inputs: Any, outputs: Any, params: Any) -> None:
    """Every named experiment (channels switched off together), as JSON."""
    from ..analyses.ablation import CONTROL_DRAWS, intact_predictions, matched_controls, run_experiment
    from ..core.io import read_parquet
    from ..results.artifacts import AblationExperiments, ControlDraw
    from .subject import load_subject

    work_starts()
    subject = load_subject(inputs.checkpoint, params.dataset, params.layers, params.device, params.threads)
    settings = params.settings
    images = _ablation_images(subject, settings["images"])
    layers = [layer.name for layer in subject.layers]
    stats = read_parquet(inputs.stats)
    results = {}
    ablated = subject.inputs(settings["batch_size"], images)
    before = intact_predictions(subject.model, ablated)
    for name, spec in settings["experiments"].items():
        chosen = experiment_channels(spec, stats, layers, f"ablation.experiments.{name}")
        results[name] = run_experiment(subject.model, chosen, ablated, before)
        draws = spec.get("controls", CONTROL_DRAWS) if "top_selectivity" in spec else 0
        for draw in progress(matched_controls(chosen, stats, draws), f"{name}: matched random draws", enabled=draws > 0):
            control = run_experiment(subject.model, draw, ablated, before)
            results[name].controls.append(ControlDraw(control.channels, control.accuracy_after, control.change_interval))
    kinds = {name: next(key for key in ("channels", "top_selectivity", "random") if key in spec)
             for name, spec in settings["experiments"].items()}
    AblationExperiments(images.classes, len(images), results, kinds).write(outputs.experiments)


EVALUATION_BATCH = 256  # images per batch when the variants are evaluated


def run_variants(inputs: Any, outputs: Any, params: Any) -> None:
    """The variants table: train and test error of the base model and each variant, as Parquet."""
    from ..analyses.variants import TRAIN_IMAGES, variant_errors, variant_table
    from ..core.io import write_parquet
    from ..data.datasets import load_split
    from .subject import load_subject

    work_starts()
    checkpoints = {params.model: inputs.base, **dict(zip(params.variants, inputs.variants, strict=True))}
    rows, train = [], None
    for name, path in checkpoints.items():
        subject = load_subject(path, params.dataset, None, params.device, params.threads)
        if train is None:
            train = load_split(subject.dataset, "train").spread(TRAIN_IMAGES)
        rows.append(variant_errors(name, subject.model, subject.meta, subject.inputs(EVALUATION_BATCH, train),
                                   subject.inputs(EVALUATION_BATCH)))
    write_parquet(variant_table(rows), outputs.table)


def run_ablation_pages(inputs: Any, outputs: Any, params: Any) -> None:
    """The ablation page (no torch)."""
    from ..core.io import read_parquet
    from ..results.artifacts import AblationExperiments, IndexManifest
    from ..site.pages.ablation import render_ablation
    from . import fresh_page_folder, job_pictures, site_renderer

    work_starts()
    fresh_page_folder(outputs.page)
    pictures = job_pictures(params)
    render_ablation(site_renderer(params, IndexManifest.read(inputs.layers).provenance), params.model, int(params.epoch),
                    AblationExperiments.read(inputs.experiments),
                    {layer: read_parquet(path) for layer, path in zip(params.layer_names, inputs.layer_tables, strict=True)},
                    pictures.images, pictures.name)
