"""Where every result file of the workflow lives, below ``results/``: the one place that knows (as
:mod:`convatlas.site.layout` does for pages). Rules and their input functions call these; called
with wildcard strings (``checkpoint("{model}", "{epoch}")``) they give the rule's pattern.

A checkpoint's results sit in ``results/<model>/epoch-<E>/``; those over another probe dataset in
its ``probe-<name>/`` folder, with the same file names.
"""
from __future__ import annotations

ROOT = "results"

Epoch = int | str  # an epoch, or a wildcard such as "{epoch}"


def plan() -> str:
    """What the run plans (layers, projections, estimated work), for the run page."""
    return f"{ROOT}/plan.json"


# per model -----------------------------------------------------------------------------------------


def model_dir(model: str) -> str:
    return f"{ROOT}/{model}"


def checkpoint(model: str, epoch: Epoch) -> str:
    """A published checkpoint (weights and meta)."""
    return f"{model_dir(model)}/checkpoints/epoch-{epoch}.pt"


def train_dir(model: str) -> str:
    """Training state: stashed checkpoints, the optimiser's state and the per-segment logs."""
    return f"{model_dir(model)}/train"


def train_log(model: str, epoch: Epoch) -> str:
    """The training log of the segment that ends at ``epoch``."""
    return f"{train_dir(model)}/log-{epoch}.tsv"


def summary(model: str) -> str:
    return f"{model_dir(model)}/summary.json"


def plot(model: str, name: str) -> str:
    """A model's plot: ``curves`` or ``per_class``."""
    return f"{model_dir(model)}/plots/{name}.png"


def evolution(model: str) -> str:
    """How each channel's responses settle over the checkpoints."""
    return f"{model_dir(model)}/evolution.parquet"


def findings(model: str) -> str:
    """The model's Zeiler & Fergus findings."""
    return f"{model_dir(model)}/findings.json"


def variants(model: str) -> str:
    """The architecture variants table of a base model."""
    return f"{model_dir(model)}/variants.parquet"


# per checkpoint ------------------------------------------------------------------------------------


def epoch_dir(model: str, epoch: Epoch, probe: str | None = None) -> str:
    """A checkpoint's results, or (``probe``) those over another probe dataset."""
    folder = f"{model_dir(model)}/epoch-{epoch}"
    return f"{folder}/probe-{probe}" if probe else folder


def index(model: str, epoch: Epoch, probe: str | None = None) -> str:
    """Each channel's top-k activations."""
    return f"{epoch_dir(model, epoch, probe)}/index.parquet"


def channel_stats(model: str, epoch: Epoch, probe: str | None = None) -> str:
    return f"{epoch_dir(model, epoch, probe)}/channel_stats.parquet"


def predictions(model: str, epoch: Epoch, probe: str | None = None) -> str:
    return f"{epoch_dir(model, epoch, probe)}/predictions.parquet"


def levels(model: str, epoch: Epoch) -> str:
    """Each channel's examples at several levels of its positive responses."""
    return f"{epoch_dir(model, epoch)}/levels.parquet"


def facets(model: str, epoch: Epoch) -> str:
    """Each channel's facets: its top images grouped by their embeddings."""
    return f"{epoch_dir(model, epoch)}/facets.parquet"


def manifest(model: str, epoch: Epoch, probe: str | None = None) -> str:
    """The index run's manifest: its layers, classes, label mode and provenance."""
    return f"{epoch_dir(model, epoch, probe)}/layers.json"


def index_shard(model: str, epoch: Epoch, shard: int | str, probe: str | None = None) -> str:
    """One shard's state of a sharded index pass."""
    return f"{epoch_dir(model, epoch, probe)}/index-shards/{shard}.npz"


def feature_maps(model: str, epoch: Epoch) -> str:
    return f"{epoch_dir(model, epoch)}/feature_maps.npz"


def projections(model: str, epoch: Epoch, layer: str, probe: str | None = None) -> str:
    """A layer's top-k projections, heatmaps and sanity checks."""
    return f"{epoch_dir(model, epoch, probe)}/deconv/{layer}.npz"


def occlusion(model: str, epoch: Epoch) -> str:
    return f"{epoch_dir(model, epoch)}/occlusion.npz"


def correspondence(model: str, epoch: Epoch, what: str = "table") -> str:
    """The correspondence ``table`` (Delta per part and layer), every pair's distance (``pairs``)
    or what was used (``meta``: class, images, boxes, layers)."""
    names = {"table": "correspondence.parquet", "pairs": "correspondence_pairs.parquet", "meta": "correspondence.json"}
    return f"{epoch_dir(model, epoch)}/{names[what]}"


def invariance(model: str, epoch: Epoch, what: str = "table") -> str:
    """The invariance ``table`` (distances and probabilities) or the transformed images (``strips``)."""
    return f"{epoch_dir(model, epoch)}/invariance.{'parquet' if what == 'table' else 'npz'}"


def channel_ablation(model: str, epoch: Epoch, layer: str) -> str:
    return f"{epoch_dir(model, epoch)}/ablation/{layer}.parquet"


def ablation_experiments(model: str, epoch: Epoch) -> str:
    return f"{epoch_dir(model, epoch)}/ablation/experiments.json"


def linear_probes(model: str, epoch: Epoch) -> str:
    """The linear probes' accuracy per layer."""
    return f"{epoch_dir(model, epoch)}/linear_probes.parquet"


def maximised(model: str, epoch: Epoch, layer: str) -> str:
    """A layer's activation-maximisation images."""
    return f"{epoch_dir(model, epoch)}/maximise/{layer}.npz"


def class_images(model: str, epoch: Epoch, what: str = "png") -> str:
    """The class images (``png``) or their classes and arrays (``npz``)."""
    return f"{epoch_dir(model, epoch)}/maximise/classes.{what}"


# transfer ------------------------------------------------------------------------------------------


def transfer_dir(model: str) -> str:
    """The source-class model's training state."""
    return f"{ROOT}/transfer/{model}"


def transfer_source(model: str) -> str:
    return f"{transfer_dir(model)}/source.pt"


def transfer_table(model: str) -> str:
    return f"{ROOT}/transfer/{model}.parquet"
