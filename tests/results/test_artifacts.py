"""Typed result files: each round-trips through its file, and rows follow the ``channels`` array."""
import json

import numpy as np
import pytest

from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph
from convatlas.results.artifacts import ChannelArrays, IndexManifest, LayerRecord, Projections


def _projections(filters=True):
    rng = np.random.default_rng(0)
    channels = np.array([7, 2, 5])
    pictures = {"deconvnet": rng.integers(0, 255, (3, 4, 6, 6, 3), dtype=np.uint8)}
    checks = {"check_tiles_deconvnet": rng.random(3), "check_random_deconvnet": rng.random(3)}
    return Projections(channels, pictures, checks, rng.random((8, 1, 3, 3)) if filters else None)


def test_rows_follow_the_channels_array_as_a_linear_search_finds_them():
    projections = _projections()
    for channel in (7, 2, 5):
        assert projections.row(channel) == list(projections.channels).index(channel)
    assert projections.rows([5, 7]) == [2, 0]
    assert projections.covers(2) and not projections.covers(3)
    with pytest.raises(KeyError, match="channel 3 has no row"):
        projections.row(3)


def test_top_takes_each_channels_picture_at_a_rank():
    projections = _projections()
    got = projections.top("deconvnet", [5, 7], rank=1)
    assert np.array_equal(got[0], projections.pictures["deconvnet"][2, 1])
    assert np.array_equal(got[1], projections.pictures["deconvnet"][0, 1])


@pytest.mark.parametrize("filters", [True, False])
def test_projections_round_trip_through_their_file(tmp_path, filters):
    written = _projections(filters)
    path = tmp_path / "deconv" / "layer.npz"
    written.write(path)
    read = Projections.read(path)
    assert np.array_equal(read.channels, written.channels) and set(read.pictures) == {"deconvnet"}
    assert np.array_equal(read.pictures["deconvnet"], written.pictures["deconvnet"])
    assert set(read.checks) == set(written.checks)
    assert all(np.array_equal(read.checks[k], written.checks[k]) for k in written.checks)
    assert (read.filters is None) == (not filters)
    assert np.array_equal(Projections.read_channels(path), written.channels)
    checks, has_filters = Projections.read_checks(path)
    assert set(checks) == set(written.checks) and has_filters == filters
    with np.load(path) as arrays:  # the file's keys, as earlier versions wrote them
        assert set(arrays.files) == {"channels", "deconvnet", *written.checks, *(["filters"] if filters else [])}


def test_channel_arrays_without_channels_have_a_row_per_channel(tmp_path):
    np.savez(tmp_path / "a.npz", noise=np.zeros((4, 2, 2, 1)))
    arrays = ChannelArrays.read(tmp_path / "a.npz")
    assert arrays.channels.tolist() == [0, 1, 2, 3] and "noise" in arrays and arrays.row(3) == 3
    np.savez(tmp_path / "b.npz", noise=np.zeros((2, 2, 2, 1)), channels=np.array([3, 1]))
    arrays = ChannelArrays.read(tmp_path / "b.npz")
    assert arrays.row(1) == 1 and arrays.row(3) == 0 and "channels" not in arrays


def test_layer_records_carry_the_graphs_receptive_fields():
    model = build_model("zf", 1, 4, 16, {"widths": [4, 8], "fc": [16]})
    graph = ModelGraph(model, (1, 16, 16))
    for layer in graph.layers:
        record = LayerRecord.of(layer)
        assert record.name == layer.name and record.shape == list(layer.shape)
        field = record.receptive_field()
        assert field.whole == layer.receptive_field.whole
        for y, x in ((0, 0), (layer.shape[-1] - 1, 0)) if len(layer.shape) == 3 else ():
            assert field.unit_geometry(y, x, 16, 16) == layer.receptive_field.unit_geometry(y, x, 16, 16)


def test_the_manifest_round_trips_and_reads_the_files_keys(tmp_path):
    record = LayerRecord("features.relu1", "conv", [4, 8, 8], False, [5, 1, -2], [5, 1, -2])
    manifest = IndexManifest(3, "max", 9, 64, ["a", "b"], [record], provenance="weights from x", dataset="other",
                             predicted_labels=True, shards=2)
    path = tmp_path / "layers.json"
    manifest.write(path)
    assert IndexManifest.read(path) == manifest
    stored = json.loads(path.read_text())
    assert stored["labels"] == "predicted" and stored["layers"][0]["rf_y"] == [5, 1, -2]
    assert manifest.layer("features.relu1") is record
    with pytest.raises(KeyError, match="not in the index run's manifest"):
        manifest.layer("conv9")


def test_a_manifest_written_before_labels_and_shards_were_recorded_reads_as_true_labels(tmp_path):
    path = tmp_path / "layers.json"
    path.write_text(json.dumps({"epoch": 1, "ranking": "max", "top_k": 9, "probe_images": 10, "classes": ["a"],
                                "provenance": None, "layers": []}))
    manifest = IndexManifest.read(path)
    assert manifest.predicted_labels is False and manifest.shards == 1 and manifest.dataset is None


def test_an_occlusion_study_round_trips_through_the_file_keys_it_always_had(tmp_path):
    import torch

    from convatlas.analyses.occlusion import occlusion_study
    from convatlas.results.artifacts import OcclusionStudy

    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, {"widths": [4, 8], "fc": [16]}).eval()
    graph = ModelGraph(model, (1, 16, 16))
    images, labels = torch.randn(2, 1, 16, 16), torch.tensor([0, 3])
    study = occlusion_study(model, graph, images, labels, [3, 5], 4, indices=np.array([10, 20]))
    assert study.images.tolist() == [10, 20] and study.windows == [3, 5] and set(study.attributions) == {"true", "predicted"}
    path = tmp_path / "occlusion.npz"
    study.write(path)
    with np.load(path) as arrays:
        assert set(arrays.files) == {
            "layer", "windows", "stride", "images", "labels", "predicted", "probability", "channels", "units",
            "projection", "heatmap", *(f"{k}_{w}" for k in ("activity", "probability", "predicted") for w in (3, 5)),
            *(f"{k}_{c}" for k in ("saliency", "guided", "gradcam") for c in ("true", "predicted"))}
    read = OcclusionStudy.read(path)
    assert read.layer == study.layer and read.stride == 4 and OcclusionStudy.read_images(path) == [10, 20]
    for kind in study.maps:
        for window in study.windows:
            assert np.array_equal(read.map(kind, window, 1), study.maps[kind][window][1])
    assert np.array_equal(read.attributions["true"]["guided"], study.attributions["true"]["guided"])
    # the clean true-class probability, computed directly
    with torch.no_grad():
        expected = model(images).softmax(dim=1)[torch.arange(2), labels].numpy()
    assert np.allclose(read.probability, expected, atol=1e-6)


def test_strips_designs_maps_and_class_images_round_trip_through_their_files(tmp_path):
    from convatlas.results.artifacts import ClassImages, CorrespondenceDesign, FeatureMaps, InvarianceStrips

    rng = np.random.default_rng(0)
    strips = InvarianceStrips({"rotation": rng.integers(0, 255, (3, 2, 1, 8, 8), dtype=np.uint8)}, "relu1", "fc1")
    strips.write(tmp_path / "s.npz")
    read = InvarianceStrips.read(tmp_path / "s.npz")
    assert (read.first_layer, read.top_layer) == ("relu1", "fc1") and np.array_equal(read.strips["rotation"],
                                                                                      strips.strips["rotation"])
    design = CorrespondenceDesign("disc", [3, 5], {"top": [0, 0, 4, 8]}, ["relu1", "fc1"])
    design.write(tmp_path / "c.json")
    assert CorrespondenceDesign.read(tmp_path / "c.json") == design
    assert json.loads((tmp_path / "c.json").read_text())["class"] == "disc"  # the file's keys, as before
    maps = FeatureMaps(rng.integers(0, 255, (2, 1, 8, 8), dtype=np.uint8), np.array([0, 1]), np.array([1, 1]), ["a", "b"],
                       {"features.relu1": rng.random((2, 4, 8, 8)), "fc": rng.random((2, 3))})
    maps.write(tmp_path / "m.npz")
    again = FeatureMaps.read(tmp_path / "m.npz")
    assert again.classes == ["a", "b"] and set(again.maps) == {"features.relu1", "fc"}
    assert np.array_equal(again.maps["fc"], maps.maps["fc"]) and np.array_equal(again.images, maps.images)
    with np.load(tmp_path / "m.npz") as arrays:
        assert {"map features.relu1", "map fc", "images", "labels", "predicted", "classes"} == set(arrays.files)
    images = ClassImages(rng.random((2, 8, 8, 1)), np.array([0.9, 0.5]), np.array([3, 1]), ["d", "b"])
    images.write(tmp_path / "k.npz")
    assert ClassImages.read_classes(tmp_path / "k.npz") == ["d", "b"]
    assert np.array_equal(ClassImages.read(tmp_path / "k.npz").indices, [3, 1])


def test_a_model_summary_round_trips_through_its_file(tmp_path):
    from convatlas.core.io import read_json
    from convatlas.results.artifacts import ModelSummary, SummaryLayer

    summary = ModelSummary(name="m", arch="zf", params={"widths": [4]}, class_name="ZFNet", dataset="shapes",
                           dataset_kind="synthetic", classes=["a", "b"], input_shape=[1, 16, 16], parameters=10,
                           trainable_parameters=8, epoch=3, test_accuracy=0.5, test_images=40, per_class_accuracy=[0.4, 0.6],
                           per_class_images=[20, 20], train_log=[{"epoch": 1, "test_accuracy": 0.5}],
                           layers=[SummaryLayer("features.relu1", "conv", [4, 16, 16], 4, 5),
                                   SummaryLayer("classifier.fc1_relu", "linear", [6], 6, None)])
    summary.write(tmp_path / "summary.json")
    assert ModelSummary.read(tmp_path / "summary.json") == summary
    stored = read_json(tmp_path / "summary.json")  # the keys the file always had
    assert stored["layers"][1] == {"name": "classifier.fc1_relu", "kind": "linear", "shape": [6], "channels": 6,
                                   "receptive_field": None}
    assert stored["test_split"] is None and stored["per_class_images"] == [20, 20]
