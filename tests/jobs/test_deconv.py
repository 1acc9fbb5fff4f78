"""The deconv job on the index job's output: the projections file holds the selected channels, a
display-ready tile per (channel, rank) of the receptive field's size for every method, the sanity
checks, the first conv's filters at its layer, and the pictures project_top_k makes when called directly."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from convatlas import results
from convatlas.analyses.channel_selection import spread
from convatlas.analyses.deconv import project_top_k
from convatlas.data.model_inputs import ModelInputs
from convatlas.jobs.deconv import run_deconv
from convatlas.jobs.subject import load_subject
from convatlas.results.artifacts import IndexManifest, Projections
from convatlas.site.images import display_tile

from .subjects import DATASET, MODEL, Files, meta_value, run_index_job, train_tiny

EPOCH = 2


def params(trained, layer, **more) -> SimpleNamespace:
    values = {"layer": layer, "dataset": trained.dataset, "probe": DATASET, "methods": trained.config["deconv"]["methods"],
              "branches": False, "checks": True, "batch_size": 16, "channels": "auto", "device": "cpu", "threads": 1}
    return SimpleNamespace(**(values | more))


@pytest.fixture(scope="module")
def projected(tmp_path_factory):
    """The first conv's layer with every channel, the second's with three, and the second as a probe job
    (one method, no checks) would make it."""
    trained = train_tiny(tmp_path_factory.mktemp("deconv"))
    index = run_index_job(trained, EPOCH)
    inputs = Files(checkpoint=trained.checkpoints[EPOCH], index=index.index)
    files = {}
    for layer, more in (("features.relu1", {}), ("features.relu2", {"channels": 3})):
        files[layer] = trained.path(results.projections(MODEL, EPOCH, layer))
        run_deconv(inputs, Files(projections=files[layer]), params(trained, layer, **more))
    files["probe"] = trained.path(results.projections(MODEL, EPOCH, "features.relu2", "probe"))
    run_deconv(inputs, Files(projections=files["probe"]),
               params(trained, "features.relu2", methods=trained.config["deconv"]["methods"][:1], checks=False))
    return SimpleNamespace(trained=trained, index=index, files=files)


def test_every_channel_and_method_of_the_first_layer(projected):
    stored = Projections.read(projected.files["features.relu1"])
    manifest = IndexManifest.read(projected.index.layers)
    k = projected.trained.config["analysis"]["top_k"]
    assert stored.channels.tolist() == list(range(manifest.layer("features.relu1").shape[0]))
    height, width = manifest.layer("features.relu1").receptive_field().size(16, 16)
    assert set(stored.pictures) == set(projected.trained.config["deconv"]["methods"])
    for kind, pictures in stored.pictures.items():
        assert pictures.shape == (len(stored.channels), k, height, width, 3), kind
        assert pictures.dtype == np.uint8, kind


def test_the_selected_channels_of_the_second_layer(projected):
    stored = Projections.read(projected.files["features.relu2"])
    manifest = IndexManifest.read(projected.index.layers)
    channels = manifest.layer("features.relu2").shape[0]
    assert stored.channels.tolist() == spread(channels, 3)
    assert stored.channels[0] == 0 and stored.channels[-1] == channels - 1 and len(stored.channels) == 3
    height, width = manifest.layer("features.relu2").receptive_field().size(16, 16)
    k = projected.trained.config["analysis"]["top_k"]
    for kind, pictures in stored.pictures.items():
        assert pictures.shape == (3, k, height, width, 3), kind
        assert max(height, width) <= 112


def test_the_pictures_are_project_top_k_called_directly(projected):
    trained = projected.trained
    subject = load_subject(trained.checkpoints[EPOCH], trained.dataset, None, "cpu", 1)
    inputs = ModelInputs(subject.images, meta_value(subject.meta, "mean"), meta_value(subject.meta, "std"), batch_size=5,
                         device="cpu", show_progress=False)
    direct = project_top_k(subject.model, "features.relu2", pd.read_parquet(projected.index.index), inputs,
                           methods=trained.config["deconv"]["methods"], branches=False, channels=spread(8, 3),
                           tile=display_tile)
    stored = Projections.read(projected.files["features.relu2"])
    for kind in trained.config["deconv"]["methods"]:
        assert np.array_equal(stored.pictures[kind], direct.pictures[kind]), kind


def test_the_checks_are_one_value_per_row_and_kind(projected):
    for layer in ("features.relu1", "features.relu2"):
        stored = Projections.read(projected.files[layer])
        expected = {f"check_{check}_{kind}" for check in ("tiles", "random") for kind in stored.pictures}
        assert set(stored.checks) == expected
        assert all(values.shape == (len(stored.channels),) for values in stored.checks.values())
        assert all(np.isfinite(stored.checks[f"check_tiles_{kind}"]).any() for kind in stored.pictures)
        checks, has_filters = Projections.read_checks(projected.files[layer])
        assert set(checks) == expected and has_filters == (layer == "features.relu1")


def test_the_first_conv_layer_keeps_its_filters(projected):
    subject = load_subject(projected.trained.checkpoints[EPOCH], None, None, "cpu", 1)
    weights = subject.model.get_submodule("features.conv1").weight.detach().numpy()
    assert np.allclose(Projections.read(projected.files["features.relu1"]).filters, weights)
    assert Projections.read(projected.files["features.relu2"]).filters is None


def test_a_probe_job_has_one_method_and_no_checks(projected):
    stored = Projections.read(projected.files["probe"])
    assert list(stored.pictures) == projected.trained.config["deconv"]["methods"][:1]
    assert stored.checks == {} and stored.channels.tolist() == list(range(8))
