"""The index job, in one pass and as shards gathered, and the feature maps it records: its tables equal
build_index called directly, the gather equals the single pass, the maps are the model's own."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from convatlas import results
from convatlas.analyses.index import build_index
from convatlas.core.io import read_npz
from convatlas.data.datasets import load_split, probe_split
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.jobs.index import run_index, run_index_shard
from convatlas.jobs.subject import load_subject
from convatlas.results.artifacts import IndexManifest, LayerRecord
from convatlas.workflow.datasets import dataset_spec
from convatlas.workflow.plan import fitted_probe

from .subjects import DATASET, MODEL, Files, index_params, meta_value, photo_folder, train_tiny
from .subjects import index_outputs as own_outputs

EPOCH, SHARDS = 2, 2


def params(trained, **more) -> SimpleNamespace:
    return index_params(trained, **more)


def index_outputs(trained, probe=None, feature_maps=True) -> Files:
    if probe is None:
        return own_outputs(trained, EPOCH, feature_maps)
    return Files(index=trained.path(results.index(MODEL, EPOCH, probe)),
                 stats=trained.path(results.channel_stats(MODEL, EPOCH, probe)),
                 predictions=trained.path(results.predictions(MODEL, EPOCH, probe)),
                 layers=trained.path(results.manifest(MODEL, EPOCH, probe)))


def read_tables(outputs) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(outputs.index), pd.read_parquet(outputs.stats), pd.read_parquet(outputs.predictions)


def assert_same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal frames; float columns up to summation order, array cells (class means, histograms) element-wise."""
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for column in a.columns:
        left, right = a[column].to_numpy(), b[column].to_numpy()
        if left.dtype == object and len(left) and isinstance(left[0], np.ndarray):
            assert all(np.allclose(x, y, equal_nan=True) for x, y in zip(left, right, strict=True)), column
        elif np.issubdtype(left.dtype, np.floating):
            assert np.allclose(left, right, rtol=1e-5, atol=1e-6, equal_nan=True), column
        else:
            assert (left == right).all(), column


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """One unsharded index pass (with feature maps) and one gathered from two shards."""
    trained = train_tiny(tmp_path_factory.mktemp("index"))
    single = index_outputs(trained)
    run_index(Files(checkpoint=trained.checkpoints[EPOCH]), single, params(trained))
    states = []
    for shard in range(SHARDS):
        states.append(trained.path(results.index_shard(MODEL, EPOCH, shard, "sharded")))
        run_index_shard(Files(checkpoint=trained.checkpoints[EPOCH]), Files(state=states[-1]),
                        params(trained, shard=str(shard), shards=SHARDS))
    gathered = index_outputs(trained, probe="sharded", feature_maps=False)
    gathered.levels = str(Path(gathered.index).with_name("levels.parquet"))
    gathered.facets = str(Path(gathered.index).with_name("facets.parquet"))
    run_index(Files(checkpoint=trained.checkpoints[EPOCH], shards=list(reversed(states))), gathered,
              params(trained, device="no device: a gather runs on the CPU"))
    return SimpleNamespace(trained=trained, single=single, gathered=gathered, states=states)


def direct_index(trained, ranking="max"):
    subject = load_subject(trained.checkpoints[EPOCH], trained.dataset, None, "cpu", 1)
    meta, analysis = subject.meta, trained.config["analysis"]
    inputs = ModelInputs(subject.images, meta_value(meta, "mean"), meta_value(meta, "std"), batch_size=7, show_progress=False)
    return subject, build_index(subject.model, subject.layers, inputs, k=analysis["top_k"], ranking=ranking)


def test_the_index_equals_build_index_called_directly(indexed):
    _, (index, stats, predictions) = direct_index(indexed.trained)
    job_index, job_stats, job_predictions = read_tables(indexed.single)
    pd.testing.assert_frame_equal(job_index, index)
    pd.testing.assert_frame_equal(job_predictions, predictions)
    assert_same_frames(job_stats, stats)
    k = indexed.trained.config["analysis"]["top_k"]
    assert (job_index.groupby(["layer", "channel"]).size() == k).all()
    assert len(job_predictions) == indexed.trained.dataset["synthetic"]["test_count"]


def test_another_ranking_is_passed_on(indexed, tmp_path):
    outputs = Files(index=str(tmp_path / "i.parquet"), stats=str(tmp_path / "s.parquet"),
                    predictions=str(tmp_path / "p.parquet"), layers=str(tmp_path / "layers.json"))
    run_index(Files(checkpoint=indexed.trained.checkpoints[EPOCH]), outputs, params(indexed.trained, ranking="mean"))
    _, (index, _, _) = direct_index(indexed.trained, "mean")
    pd.testing.assert_frame_equal(pd.read_parquet(outputs.index), index)
    assert IndexManifest.read(outputs.layers).ranking == "mean"
    assert not (tmp_path / "feature_maps.npz").exists()  # no feature_maps output: none written


def test_the_manifest_records_the_run(indexed):
    subject, _ = direct_index(indexed.trained)
    manifest = IndexManifest.read(indexed.single.layers)
    assert manifest.epoch == EPOCH and manifest.ranking == "max"
    assert manifest.top_k == indexed.trained.config["analysis"]["top_k"]
    assert manifest.probe_images == len(subject.images) and manifest.classes == subject.images.classes
    assert manifest.layers == [LayerRecord.of(layer) for layer in subject.layers]
    assert manifest.dataset == DATASET and manifest.shards == 1 and not manifest.predicted_labels
    assert manifest.provenance is None  # trained here


def test_the_gathered_shards_equal_the_single_pass(indexed):
    single, gathered = read_tables(indexed.single), read_tables(indexed.gathered)
    pd.testing.assert_frame_equal(gathered[0], single[0])
    assert_same_frames(gathered[1], single[1])
    pd.testing.assert_frame_equal(gathered[2], single[2])
    manifest = IndexManifest.read(indexed.gathered.layers)
    assert manifest.shards == SHARDS and manifest.probe_images == IndexManifest.read(indexed.single.layers).probe_images


def test_each_shard_indexes_its_range_of_images(indexed):
    images = indexed.trained.dataset["synthetic"]["test_count"]
    seen = [read_npz(path)["predictions::image"] for path in indexed.states]
    assert np.array_equal(np.concatenate(seen), np.arange(images))
    assert all(abs(len(part) - images / SHARDS) < 1 for part in seen)
    assert [int(read_npz(path)["shard"]) for path in indexed.states] == list(range(SHARDS))


def test_a_gather_with_a_missing_shard_fails(indexed, tmp_path):
    outputs = Files(index=str(tmp_path / "i.parquet"), stats=str(tmp_path / "s.parquet"),
                    predictions=str(tmp_path / "p.parquet"), layers=str(tmp_path / "layers.json"))
    with pytest.raises(ValueError, match="shard"):
        run_index(Files(checkpoint=indexed.trained.checkpoints[EPOCH], shards=indexed.states[:1]), outputs,
                  params(indexed.trained))
    assert not (tmp_path / "i.parquet").exists()


def test_the_feature_maps_are_the_models_activations(indexed):
    subject, _ = direct_index(indexed.trained)
    count = indexed.trained.config["feature_maps"]["images"]
    maps = read_npz(indexed.single.feature_maps)
    raw = subject.images.images(torch.arange(count))
    assert np.array_equal(maps["images"], raw.numpy())
    assert np.array_equal(maps["labels"], subject.images.labels[:count].numpy())
    assert list(maps["classes"]) == subject.images.classes
    captured = {}
    hooks = [subject.model.get_submodule(layer.name).register_forward_hook(
        lambda module, args, output, name=layer.name: captured.__setitem__(name, output.detach().clone()))
        for layer in subject.layers]
    with torch.no_grad():
        logits = subject.model(subject.normalise(raw))
    for hook in hooks:
        hook.remove()
    assert np.array_equal(maps["predicted"], logits.argmax(dim=1).numpy())
    assert sorted(key for key in maps if key.startswith("map ")) == sorted(f"map {name}" for name in captured)
    for name, output in captured.items():
        assert np.allclose(maps[f"map {name}"], output.numpy(), atol=1e-5), name


def test_no_feature_map_images_gives_empty_maps(indexed, tmp_path):
    outputs = Files(index=str(tmp_path / "i.parquet"), stats=str(tmp_path / "s.parquet"),
                    predictions=str(tmp_path / "p.parquet"), layers=str(tmp_path / "layers.json"),
                    feature_maps=str(tmp_path / "maps.npz"))
    run_index(Files(checkpoint=indexed.trained.checkpoints[EPOCH]), outputs, params(indexed.trained, feature_map_images=0))
    maps = read_npz(outputs.feature_maps)
    manifest = IndexManifest.read(outputs.layers)
    assert maps["images"].shape[0] == maps["labels"].shape[0] == maps["predicted"].shape[0] == 0
    for layer in manifest.layers:
        assert maps[f"map {layer.name}"].shape == (0, *layer.shape)


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """The model's index over another labelled dataset (classes named as some of its own) and over an
    image folder of photos of other classes (labelled by the model's predictions)."""
    root = tmp_path_factory.mktemp("probes")
    probes = {"other": {"kind": "synthetic", "synthetic": {"size": 20, "classes": 3, "test_count": 20, "seed": 5}},
              "photos": {"kind": "imagefolder", "root": str(photo_folder(root / "photos")), "image_size": 30}}
    trained = train_tiny(root, probes)
    outputs = {}
    for name in probes:
        outputs[name] = index_outputs(trained, probe=name, feature_maps=False)
        run_index(Files(checkpoint=trained.checkpoints[EPOCH]), outputs[name],
                  params(trained, dataset=fitted_probe(trained.config, MODEL, name), probe=name, feature_map_images=0))
    return SimpleNamespace(trained=trained, outputs=outputs)


def test_another_labelled_probe_dataset(probed):
    trained = probed.trained
    own = load_split(trained.spec, "test")
    other = probe_split(dataset_spec(fitted_probe(trained.config, MODEL, "other"), "other"))
    assert other.size[0] == 16 and other.channels == 1  # fitted to the model's input
    manifest = IndexManifest.read(probed.outputs["other"].layers)
    assert manifest.dataset == "other" and manifest.probe_images == len(other) and not manifest.predicted_labels
    assert manifest.classes == own.classes  # the model's outputs
    assert set(other.classes) < set(own.classes)
    _, _, predictions = read_tables(probed.outputs["other"])
    expected = [own.classes.index(other.classes[int(label)]) for label in other.labels]
    assert predictions.label.tolist() == expected and predictions.image.tolist() == list(range(len(other)))
    subject = load_subject(trained.checkpoints[EPOCH], None, None, "cpu", 1)
    with torch.no_grad():
        logits = subject.model(normalise(other.images(torch.arange(len(other))), meta_value(subject.meta, "mean"),
                                         meta_value(subject.meta, "std")))
    assert predictions.predicted.tolist() == logits.argmax(dim=1).tolist()
    assert np.allclose(predictions.probability, logits.softmax(dim=1).amax(dim=1).numpy(), atol=1e-6)


def test_photos_of_other_classes_are_labelled_by_the_models_predictions(probed):
    trained = probed.trained
    photos = probe_split(dataset_spec(fitted_probe(trained.config, MODEL, "photos"), "photos"))
    manifest = IndexManifest.read(probed.outputs["photos"].layers)
    assert manifest.predicted_labels and manifest.dataset == "photos" and manifest.probe_images == len(photos) == 6
    _, stats, predictions = read_tables(probed.outputs["photos"])
    subject = load_subject(trained.checkpoints[EPOCH], None, None, "cpu", 1)
    with torch.no_grad():
        logits = subject.model(normalise(photos.images(torch.arange(len(photos))), meta_value(subject.meta, "mean"),
                                         meta_value(subject.meta, "std")))
    assert predictions.predicted.tolist() == logits.argmax(dim=1).tolist() == predictions.label.tolist()
    # per-class statistics are over the predicted classes: a class never predicted has no mean
    never = set(range(4)) - set(predictions.predicted)
    for means in stats.class_means:
        assert all(np.isnan(means[c]) for c in never) and not any(np.isnan(means[c]) for c in set(predictions.predicted))


def test_levels_and_facets_equal_the_pass_called_directly_and_the_gather(indexed):
    from convatlas.analyses.index import facet_tables, index_pass, level_table

    subject = load_subject(indexed.trained.checkpoints[EPOCH], indexed.trained.dataset, None, "cpu", 1)
    analysis = indexed.trained.config["analysis"]
    inputs = ModelInputs(subject.images, subject.meta.mean, subject.meta.std, batch_size=5, show_progress=False)
    accumulators, predictions, embeddings = index_pass(subject.model, subject.layers, inputs, analysis["top_k"],
                                                       kept=analysis["facet_examples"])
    levels = level_table(accumulators)
    facets = facet_tables(accumulators, embeddings, predictions.label.to_numpy(), subject.images.classes)
    pd.testing.assert_frame_equal(pd.read_parquet(indexed.single.levels), levels)
    pd.testing.assert_frame_equal(pd.read_parquet(indexed.gathered.levels), levels)
    for path in (indexed.single.facets, indexed.gathered.facets):
        got = pd.read_parquet(path)
        assert got[["layer", "channel", "facet", "count", "kinds"]].equals(facets[["layer", "channel", "facet", "count", "kinds"]])
        assert all(np.array_equal(a, b) for a, b in zip(got.examples, facets.examples, strict=True))
    assert set(levels.level.unique()) == {np.float32(0.5), np.float32(0.9), np.float32(0.99)}
    assert len(facets) and (facets.images <= analysis["facet_examples"]).all()
