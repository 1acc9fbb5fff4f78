"""The analyses jobs: occlusion, correspondence and invariance recomputed here from the model's own
forward passes on occluded and transformed copies, and the analysis pages built from their files."""
from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from convatlas import results
from convatlas.core.io import read_json, read_npz
from convatlas.jobs.analyses import run_analysis_pages, run_correspondence, run_invariance, run_occlusion
from convatlas.jobs.deconv import run_deconv
from convatlas.jobs.subject import load_subject
from convatlas.results.artifacts import OcclusionStudy
from convatlas.site import layout

from .subjects import (
    DATASET,
    MODEL,
    Files,
    broken_links,
    page_params,
    run_index_job,
    train_tiny,
    working_in,
)

EPOCH = 2


def outputs_of(trained, analysis: str, *what: str) -> Files:
    paths = getattr(results, analysis)
    return Files(**{key: trained.path(paths(MODEL, EPOCH, key)) for key in what})


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """Every analysis of the last checkpoint, the occlusion layer's projections, and the pages."""
    root = tmp_path_factory.mktemp("analyses")
    trained = train_tiny(root)
    config, checkpoint = trained.config, Files(checkpoint=trained.checkpoints[EPOCH])
    common = {"dataset": trained.dataset, "device": "cpu", "threads": 1}
    occlusion = Files(maps=trained.path(results.occlusion(MODEL, EPOCH)))
    run_occlusion(checkpoint, occlusion, SimpleNamespace(settings=config["occlusion"] | {"windows": [5], "batch_size": 16}, **common))
    correspondence = outputs_of(trained, "correspondence", "table", "pairs", "meta")
    run_correspondence(checkpoint, correspondence, SimpleNamespace(settings=config["correspondence"], layers=None, **common))
    invariance = outputs_of(trained, "invariance", "table", "strips")
    run_invariance(checkpoint, invariance, SimpleNamespace(settings=config["invariance"], layers=None, batch_size=5, **common))
    index = run_index_job(trained, EPOCH)
    study = OcclusionStudy.read(occlusion.maps)
    deconv = trained.path(results.projections(MODEL, EPOCH, study.layer))
    run_deconv(Files(checkpoint=trained.checkpoints[EPOCH], index=index.index), Files(projections=deconv),
               SimpleNamespace(layer=study.layer, dataset=trained.dataset, probe=DATASET, methods=config["deconv"]["methods"],
                               branches=False, checks=True, batch_size=16, channels="auto", device="cpu", threads=1))
    pages = [f"{layout.SITE_ROOT}/{layout.analysis_page(MODEL, EPOCH, name)}" for name in layout.ANALYSES]
    subject = load_subject(trained.checkpoints[EPOCH], trained.dataset, None, "cpu", 1)
    inputs = Files(occlusion=occlusion.maps, correspondence_table=correspondence.table,
                   correspondence_pairs=correspondence.pairs, correspondence_meta=correspondence.meta,
                   invariance_table=invariance.table, invariance_strips=invariance.strips, layers=index.layers,
                   deconvs=[deconv])
    with working_in(root):
        (root / pages[0]).parent.mkdir(parents=True)
        (root / pages[0]).with_name("left-over.html").write_text("from an earlier run")
        run_analysis_pages(inputs, Files(pages=pages), page_params(
            trained, model=MODEL, epoch=str(EPOCH), layer_names=[layer.name for layer in subject.layers],
            analyses=list(layout.ANALYSES), lead=config["deconv"]["lead"]))
    return SimpleNamespace(trained=trained, root=root, occlusion=study, correspondence=correspondence,
                           invariance=invariance, pages=pages, subject=subject)


def forward(subject, images: torch.Tensor, layers=()) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits and the named layers' outputs for normalised ``images``."""
    captured = {}
    hooks = [subject.model.get_submodule(name).register_forward_hook(
        lambda m, a, output, name=name: captured.__setitem__(name, output.detach().clone())) for name in layers]
    with torch.no_grad():
        logits = subject.model(images)
    for hook in hooks:
        hook.remove()
    return logits, captured


def test_occlusion_of_the_first_image_of_every_class(analysed):
    study, labels = analysed.occlusion, analysed.subject.images.labels
    per_class = analysed.trained.config["occlusion"]["images_per_class"]
    expected = [i for c in range(4) for i in torch.nonzero(labels == c).flatten()[:per_class].tolist()]
    assert study.images.tolist() == expected and study.labels.tolist() == labels[expected].tolist()
    assert study.windows == [5] and study.stride == 2 and study.layer == "features.relu2"  # the last conv layer
    images = analysed.subject.normalise(analysed.subject.images.images(torch.as_tensor(expected)))
    logits, maps = forward(analysed.subject, images, [study.layer])
    probabilities = logits.softmax(dim=1)
    assert np.allclose(study.probability, probabilities[torch.arange(len(expected)), labels[expected]].numpy(), atol=1e-5)
    assert study.predicted.tolist() == probabilities.argmax(dim=1).tolist()
    assert study.channels.tolist() == maps[study.layer].flatten(2).amax(dim=2).argmax(dim=1).tolist()


def test_occlusion_maps_are_the_occluded_copies_outputs(analysed):
    study, subject = analysed.occlusion, analysed.subject
    images = subject.normalise(subject.images.images(torch.as_tensor(study.images)))
    for window in study.windows:
        for row, image in enumerate(images):
            copies, positions = [], []
            for y in range(0, 16, study.stride):
                for x in range(0, 16, study.stride):
                    y0, x0 = max(0, y - window // 2), max(0, x - window // 2)
                    copy = image.clone()
                    copy[:, y0:y - window // 2 + window, x0:x - window // 2 + window] = 0.0  # the mean after normalising
                    copies.append(copy)
                    positions.append((y // study.stride, x // study.stride))
            logits, maps = forward(subject, torch.stack(copies), [study.layer])
            probabilities = logits.softmax(dim=1)
            activity = maps[study.layer][:, study.channels[row]].sum(dim=(1, 2))
            rows, cols = zip(*positions, strict=True)
            assert np.allclose(study.map("probability", window, row)[rows, cols],
                               probabilities[:, study.labels[row]].numpy(), atol=1e-5)
            assert np.array_equal(study.map("predicted", window, row)[rows, cols], probabilities.argmax(dim=1).numpy())
            assert np.allclose(study.map("activity", window, row)[rows, cols], activity.numpy(), rtol=1e-4, atol=1e-4)


def test_correspondence_distances_recomputed(analysed):
    settings = analysed.trained.config["correspondence"]
    chosen = read_json(analysed.correspondence.meta)
    subject = analysed.subject
    labels, classes = subject.images.labels, subject.images.classes
    members = torch.nonzero(labels == classes.index(settings["class"])).flatten()[: settings["images"]]
    layers = [layer.name for layer in subject.layers]
    assert chosen["class"] == settings["class"] and chosen["images"] == members.tolist() and chosen["layers"] == layers
    assert [list(chosen["boxes"]["top"]), list(chosen["boxes"]["middle"])] == [[0, 4, 5, 12], [5, 5, 11, 11]]
    pairs = pd.read_parquet(analysed.correspondence.pairs)
    images = subject.normalise(subject.images.images(members))
    occluded = images.clone()
    occluded[:, :, 0:5, 4:12] = 0.0
    _, clean = forward(subject, images, layers)
    _, covered = forward(subject, occluded, layers)
    table = pd.read_parquet(analysed.correspondence.table)
    for layer in layers:
        signs = torch.sign((clean[layer] - covered[layer]).flatten(1).double())
        expected = [float((signs[i] != signs[j]).double().mean()) for i, j in combinations(range(len(members)), 2)]
        stored = pairs[(pairs.part == "top") & (pairs.layer == layer)].sort_values(["first", "second"])
        assert np.allclose(stored.distance, expected), layer
        delta = table[(table.part == "top") & (table.layer == layer)].delta
        assert delta.item() == pytest.approx(np.mean(expected))
    control = pairs[pairs.part == "random"]
    assert sorted(control.draw.unique()) == list(range(settings["random_draws"]))
    assert set(table.part) == {"top", "middle", "random"}


def test_invariance_at_the_identity_steps(analysed):
    settings = analysed.trained.config["invariance"]
    table = pd.read_parquet(analysed.invariance.table)
    strips = read_npz(analysed.invariance.strips)
    subject = analysed.subject
    first, top = subject.layers[0].name, subject.layers[-1].name
    assert str(strips["first_layer"]) == first and str(strips["top_layer"]) == top
    n = settings["images"]
    raw = subject.images.images(torch.arange(n))
    kinds = table["transform"]
    for kind in ("translation", "rotation", "scale"):
        steps = settings[kind]
        assert strips[kind].shape == (len(steps), n, 1, 16, 16) and strips[kind].dtype == np.uint8
        assert (kinds == kind).sum() == len(steps) * n
    identity = table[((kinds == "translation") & (table.value == 0)) | ((kinds == "rotation") & (table.value == 0))
                     | ((kinds == "scale") & (table.value == 1.0))]
    assert len(identity) == 3 * n
    assert np.allclose(identity.first_distance, 0, atol=1e-6) and np.allclose(identity.top_distance, 0, atol=1e-6)
    logits, _ = forward(subject, subject.normalise(raw))
    clean = logits.softmax(dim=1)[torch.arange(n), subject.images.labels[:n]].numpy()
    for kind in ("translation", "rotation", "scale"):
        rows = identity[identity["transform"] == kind].sort_values("image")
        assert np.allclose(rows.probability, clean, atol=1e-5), kind
    assert np.array_equal(strips["translation"][settings["translation"].index(0)], raw.numpy())
    assert table.label.tolist() == [subject.images.classes[int(subject.images.labels[i])] for i in table.image]
    assert (table[(kinds == "translation") & (table.value != 0)].first_distance > 0).all()


def test_the_analysis_pages(analysed):
    site = analysed.root / layout.SITE_ROOT
    for page in analysed.pages:
        assert (analysed.root / page).is_file(), page
    for image in analysed.occlusion.images:
        assert (site / layout.analysis_page(MODEL, EPOCH, "occlusion", int(image))).is_file()
    assert not (analysed.root / analysed.pages[0]).with_name("left-over.html").exists()  # the folder is the job's
    assert "disc" in (analysed.root / analysed.pages[1]).read_text()
    assert broken_links(site, [layout.analyses_dir(MODEL, EPOCH)]) == []


def test_correspondence_class_by_default_and_unknown(analysed, tmp_path):
    trained, settings = analysed.trained, analysed.trained.config["correspondence"]
    outputs = Files(table=str(tmp_path / "t.parquet"), pairs=str(tmp_path / "p.parquet"), meta=str(tmp_path / "m.json"))
    common = {"dataset": trained.dataset, "layers": ["features.relu1"], "device": "cpu", "threads": 1}
    run_correspondence(Files(checkpoint=trained.checkpoints[EPOCH]), outputs,
                       SimpleNamespace(settings=settings | {"class": None}, **common))
    labels, classes = analysed.subject.images.labels.tolist(), analysed.subject.images.classes
    counts = [labels.count(c) for c in range(len(classes))]
    most = classes[counts.index(max(counts))]  # the first of the most frequent
    chosen = read_json(outputs.meta)
    assert chosen["class"] == most and chosen["layers"] == ["features.relu1"]
    assert set(pd.read_parquet(outputs.pairs).layer) == {"features.relu1"}
    with pytest.raises(ValueError, match="not a class"):
        run_correspondence(Files(checkpoint=trained.checkpoints[EPOCH]), outputs,
                           SimpleNamespace(settings=settings | {"class": "teapot"}, **common))
