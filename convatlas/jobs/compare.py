"""Jobs of the compare stage: linear probes, transfer to new classes, and the comparison page."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..core.logs import work_starts
from ..workflow.datasets import dataset_spec


def run_linear_probes(inputs: Any, outputs: Any, params: Any) -> None:
    """A linear probe at every analysed layer of a checkpoint, as Parquet."""
    from ..analyses.linear_probes import probe_layers
    from ..core.io import write_parquet
    from ..data.datasets import load_split
    from .subject import load_subject

    work_starts()
    settings = params.settings
    subject = load_subject(inputs.checkpoint, params.dataset, params.layers, params.device, params.threads)
    meta = subject.meta
    if meta.predicted_labels is not None:  # unlabelled images: nothing to fit a probe to
        import pandas as pd

        write_parquet(pd.DataFrame(columns=["layer", "features", "train_accuracy", "accuracy"]), outputs.table)
        return
    train = load_split(subject.dataset, "train")
    if meta.label_map is not None:
        train = train.relabel(meta.label_map, meta.classes)
    train = train.spread(settings["train_images"])
    test = subject.images.subset(min(settings["test_images"], len(subject.images)))
    layers = [layer.name for layer in subject.layers]
    write_parquet(probe_layers(subject.model, layers, subject.inputs(params.batch_size, train),
                               subject.inputs(params.batch_size, test)),
                  outputs.table)


def run_transfer_source(inputs: Any, outputs: Any, params: Any) -> None:
    """Train the model anew on the transfer's source classes (resumable, in ``params.state_dir``)
    and publish the final checkpoint at ``outputs.checkpoint``."""
    from ..core.device import pick_device, set_threads
    from ..data.datasets import load_dataset
    from ..models.checkpoint import publish_checkpoint
    from .train import train_and_save

    work_starts()
    set_threads(params.threads)
    settings, epochs = params.settings, params.settings["epochs"]
    train, test = load_dataset(dataset_spec(params.dataset, params.dataset_name))
    source_config = copy.deepcopy(params.model)
    source_config.update(epochs=epochs, checkpoints=[epochs])
    state_dir = Path(params.state_dir)
    source = settings["source_classes"]
    train_and_save(f"{params.model_name}-source", source_config, params.dataset_name, params.dataset,
                   train.select_classes(source), test.select_classes(source), [epochs],
                   state_dir / "train_log.tsv", state_dir, pick_device(params.device), tracked=params.tracked)
    publish_checkpoint(state_dir / f"epoch-{epochs}.pt", outputs.checkpoint)


def run_transfer(inputs: Any, outputs: Any, params: Any) -> None:
    """Few-shot transfer of the source-class model (``inputs.source``) to the target classes
    against training from scratch, as Parquet."""
    from ..analyses.transfer import TransferDesign, transfer_table
    from ..core.device import pick_device, set_threads
    from ..core.io import write_parquet
    from ..data.datasets import load_dataset
    from ..models.checkpoint import load_checkpoint

    work_starts()
    set_threads(params.threads)
    settings, model_config = params.settings, params.model
    train, test = load_dataset(dataset_spec(params.dataset, params.dataset_name))
    device = pick_device(params.device)
    model, meta = load_checkpoint(inputs.source, device)
    target = settings["target_classes"]
    design = TransferDesign(tuple(settings["shots"]), settings["draws"], settings["seed"], settings["test_images"],
                            settings["scratch_steps"])
    table = transfer_table(model, meta, train.select_classes(target), test.select_classes(target), design,
                           model_config["arch"], model_config["params"], device)
    table["source_classes"] = ", ".join(train.classes[c] for c in settings["source_classes"])
    table["source_class_count"] = len(settings["source_classes"])
    table["target_classes"] = ", ".join(train.classes[c] for c in target)
    write_parquet(table, outputs.table)


def run_compare(inputs: Any, outputs: Any, params: Any) -> None:
    """The comparison page (no torch)."""
    from ..core.io import read_parquet
    from ..results.artifacts import ModelSummary, OcclusionStudy
    from ..site.pages.compare import render_comparison
    from . import site_renderer

    work_starts()
    models = params.models
    render_comparison(
        site_renderer(params), params.epochs,
        {m: ModelSummary.read(path) for m, path in zip(models, inputs.summaries, strict=True)},
        {m: read_parquet(path) for m, path in zip(models, inputs.stats, strict=True)},
        {m: read_parquet(path) for m, path in zip(models, inputs.probes, strict=True)} if params.sections["linear_probes"] else {},
        {m: OcclusionStudy.read_images(path) for m, path in zip(models, inputs.occlusions, strict=True)}
        if params.sections["occlusion"] else {},
        {m: read_parquet(path) for m, path in zip(params.transfer_models, inputs.transfers, strict=True)},
        probe_stats(params.own_datasets, params.probe_pairs, inputs.probe_stats),
        projected_channels(params.deconv_pairs, inputs.deconvs),
        picture_leads(params.deconv_pairs, inputs.deconvs, params.lead),
        {m: read_parquet(path) for m, path in zip(models, inputs.predictions, strict=True)},
    )


def projected_channels(pairs: list[list[str]], paths: list[str]) -> dict[str, dict[str, set[int]]]:
    """model -> layer -> the channels with deconvnet projections (``analysis.channels_per_layer``)."""
    from ..results.artifacts import Projections

    covered: dict[str, dict[str, set[int]]] = {}
    for (model, layer), path in zip(pairs, paths, strict=True):
        covered.setdefault(model, {})[layer] = set(Projections.read_channels(path).tolist())
    return covered


def picture_leads(pairs: list[list[str]], paths: list[str], forced: str = "auto") -> dict[str, dict[str, str]]:
    """model -> layer -> the picture its channel pages lead with (as the layer pages choose it from the
    sanity checks stored with the projections; "filter" at the first conv's layer)."""
    from ..analyses.sanity import layer_lead
    from ..results.artifacts import Projections

    leads: dict[str, dict[str, str]] = {}
    for (model, layer), path in zip(pairs, paths, strict=True):
        _, lead = layer_lead(*Projections.read_checks(path), forced)
        leads.setdefault(model, {})[layer] = lead or "deconvnet"
    return leads


def probe_stats(own: dict[str, str], pairs: list[list[str]], paths: list[str]) -> dict[str, dict[str, Any]]:
    """model -> {probe dataset -> its channel statistics} for models with other probe datasets; the
    model's own dataset (``own``) comes first, its statistics read by the page from the model's own."""
    from ..core.io import read_parquet

    tables: dict[str, dict[str, Any]] = {}
    for (model, probe), path in zip(pairs, paths, strict=True):
        tables.setdefault(model, {own[model]: None})[probe] = read_parquet(path)
    return tables
