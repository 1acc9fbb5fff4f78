"""The index job: one streaming pass over the analysed images per checkpoint."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..analyses.feature_maps import layer_activations
from ..analyses.index import facet_tables, index_pass, index_tables, level_table
from ..analyses.summary import provenance
from ..core.io import write_npz, write_parquet
from ..core.logs import work_starts
from ..results.artifacts import FeatureMaps, IndexManifest, LayerRecord
from .subject import load_subject


def run_index(inputs: Any, outputs: Any, params: Any) -> None:
    """Write the top-k index, channel statistics, predictions and layers (shape, receptive field),
    and (for the model's own dataset) the feature maps of the first ``params.feature_map_images``
    images for the site. ``params.probe`` names the dataset indexed. With ``inputs.shards`` (the
    states of the shard jobs), the pass over the images is theirs and this job merges them."""
    work_starts()
    shard_files = list(inputs.shards) if "shards" in inputs.keys() else []
    device = "cpu" if shard_files else params.device  # a gather reads files; only feature maps need the model
    subject = load_subject(inputs.checkpoint, params.dataset, params.layers, device, params.threads, params.probe)
    images, meta = subject.images, subject.meta
    by_prediction = subject.predicted_labels
    if shard_files:
        from ..analyses.shards import merge_shards
        from ..core.io import read_npz

        accumulators, predictions, embeddings = merge_shards([read_npz(path) for path in shard_files], shard_files,
                                                             len(images))
    else:
        accumulators, predictions, embeddings = index_pass(subject.model, subject.layers, subject.inputs(params.batch_size),
                                                           params.top_k, params.ranking, by_prediction,
                                                           kept=params.facet_examples,
                                                           levels=bool(getattr(outputs, "levels", None)))
    index, stats = index_tables(accumulators, images.classes)
    write_parquet(index, outputs.index)
    write_parquet(stats, outputs.stats)
    write_parquet(predictions, outputs.predictions)
    if getattr(outputs, "levels", None):  # the model's own dataset: examples across each channel's range
        write_parquet(level_table(accumulators), outputs.levels)
    if getattr(outputs, "facets", None):  # and each channel's facets (at page epochs; none without a linear layer)
        faceted = embeddings is not None and params.facet_examples > 0
        facets = facet_tables(accumulators if faceted else {}, embeddings, predictions.label.to_numpy(), images.classes)
        write_parquet(facets, outputs.facets)
    IndexManifest(epoch=meta.epoch, ranking=params.ranking, top_k=params.top_k, probe_images=len(images),
                  classes=images.classes, layers=[LayerRecord.of(layer) for layer in subject.layers],
                  provenance=provenance(meta), dataset=params.probe,
                  predicted_labels=by_prediction or meta.predicted_labels is not None,
                  shards=max(1, len(shard_files))).write(outputs.layers)
    if getattr(outputs, "feature_maps", None):  # empty arrays when the feature_maps section is absent
        feature_maps(subject, params.feature_map_images).write(outputs.feature_maps)


def run_index_shard(inputs: Any, outputs: Any, params: Any) -> None:
    """Index shard ``params.shard`` of ``params.shards`` (a contiguous range of the probe images) and
    save its accumulated state for the gather (:mod:`convatlas.analyses.shards`)."""
    from ..analyses.shards import shard_indices, shard_state

    work_starts()
    subject = load_subject(inputs.checkpoint, params.dataset, params.layers, params.device, params.threads, params.probe)
    images = subject.images
    shard, shards = int(params.shard), int(params.shards)
    chosen = shard_indices(len(images), shard, shards)
    accumulators, predictions, embeddings = index_pass(subject.model, subject.layers, subject.inputs(params.batch_size),
                                                       params.top_k, params.ranking, subject.predicted_labels, indices=chosen,
                                                       kept=params.facet_examples)
    write_npz(outputs.state, shard_state(accumulators, predictions, shard, shards, len(images), embeddings))


def feature_maps(subject, count: int) -> FeatureMaps:
    """Every analysed layer's maps for the first ``count`` analysed images, with the images, their
    labels and the predicted classes."""
    count = min(count, len(subject.images))
    raw = subject.images.images(torch.arange(count))
    names = [layer.name for layer in subject.layers]
    if count:
        inputs = subject.normalise(raw)
        with torch.no_grad():
            predicted = subject.model(inputs).argmax(dim=1).cpu().numpy()
        maps = layer_activations(subject.model, names, inputs)
    else:  # no feature_maps section: nothing to run
        predicted = np.zeros(0, dtype=np.int64)
        maps = {name: np.zeros((0, *layer.shape), dtype=np.float32) for name, layer in zip(names, subject.layers, strict=True)}
    return FeatureMaps(raw.numpy(), subject.images.labels[:count].numpy(), predicted, list(subject.images.classes), maps)
