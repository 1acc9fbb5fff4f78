"""The activation index equals a brute-force computation (all activations stored, argsort)."""
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch

from convatlas.analyses.index import build_index
from convatlas.analyses.responses import HISTOGRAM_EDGES
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.nn.graph import ModelGraph


def brute_force(model, layer_names, images, k, ranking, mean, std):
    """Store every activation, then rank with numpy's stable argsort."""
    stored = {name: [] for name in layer_names}
    handles = [model.get_submodule(n).register_forward_hook(
        lambda m, i, o, n=n: stored[n].append(o.detach().clone())) for n in layer_names]
    with torch.no_grad():
        model(normalise(images.data, mean, std))
    for h in handles:
        h.remove()
    rows, stats = {}, {}
    labels = images.labels.numpy()
    for name in layer_names:
        acts = torch.cat(stored[name]).double().numpy()
        n, c = acts.shape[:2]
        flat = acts.reshape(n, c, -1)
        width = acts.shape[3] if acts.ndim == 4 else 1
        peak_pos = flat.argmax(axis=2)
        score = {"max": flat.max(axis=2), "mean": flat.mean(axis=2), "l2": np.sqrt((flat**2).sum(axis=2))}[ranking]
        if acts.ndim == 2 and ranking == "l2":
            score = np.abs(flat[:, :, 0])
        for ch in range(c):
            order = sorted(range(n), key=lambda i: (-score[i, ch], i))[:k]
            rows[(name, ch)] = [(score[i, ch], i, peak_pos[i, ch] // width, peak_pos[i, ch] % width) for i in order]
            response = np.maximum(score[:, ch], 0)
            class_means = np.array([response[labels == cls].mean() for cls in range(4)])
            top = class_means.max()
            others = (class_means.sum() - top) / 3
            fires = int((score[:, ch] > 0).sum())
            layer_peaks = flat.max(axis=(0, 2))
            floor = 0.1 * np.median(layer_peaks[layer_peaks > 0])  # a tenth of the layer's median largest activation
            ranked = fires >= max(10, 0.01 * n) and flat[:, ch].max() >= floor and flat[:, ch].max() > 0
            selectivity = ((top - others) / (top + others) if top + others > 0 else 0.0) if ranked else np.nan
            bins = [0 if s <= 0 else 1 + int(np.searchsorted(HISTOGRAM_EDGES, s, side="right")) for s in score[:, ch]]
            stats[(name, ch)] = dict(
                mean=flat[:, ch].mean(), fraction_positive=(flat[:, ch] > 0).mean(), max=flat[:, ch].max(),
                selectivity=selectivity, active_fraction=fires / n, dead=flat[:, ch].max() <= 0, class_means=class_means,
                histogram=np.bincount(bins, minlength=len(HISTOGRAM_EDGES) + 2),
                lowest=sorted(range(n), key=lambda i: (score[i, ch], i))[:k], scores=score[:, ch])
    return rows, stats


@pytest.mark.parametrize("ranking", ["max", "mean", "l2"])
@pytest.mark.parametrize("batch_size", [7, 64])
def test_index_equals_brute_force(ranking, batch_size, tied_zf, tied_probe, tied_normalisation):
    MEAN, STD = tied_normalisation
    model, images = tied_zf, tied_probe
    layers = ModelGraph(model, (1, 16, 16)).layers
    names = [l.name for l in layers]
    assert names == ["features.relu1", "features.relu2", "classifier.fc1_relu"]
    index, stats, predictions = build_index(model, layers, ModelInputs(images, MEAN, STD, batch_size=batch_size, show_progress=False), k=9, ranking=ranking)
    expected_rows, expected_stats = brute_force(model, names, images, 9, ranking, MEAN, STD)
    for (name, ch), expected in expected_rows.items():
        got = index[(index.layer == name) & (index.channel == ch)].sort_values("rank")
        assert got["rank"].tolist() == list(range(9))
        assert got["image"].tolist() == [e[1] for e in expected], (name, ch)
        np.testing.assert_allclose(got["value"], [e[0] for e in expected], rtol=1e-5, atol=1e-6)
        assert got["y"].tolist() == [e[2] for e in expected] and got["x"].tolist() == [e[3] for e in expected]
        assert len(set(got["image"])) == 9  # an image at most once per channel
        row = stats[(stats.layer == name) & (stats.channel == ch)].iloc[0]
        want = expected_stats[(name, ch)]
        for key in ("mean", "fraction_positive", "max", "selectivity", "active_fraction"):
            assert row[key] == pytest.approx(want[key], rel=1e-5, abs=1e-7, nan_ok=True), (name, ch, key)
        assert row["histogram"].tolist() == want["histogram"].tolist(), (name, ch)
        lowest = want["lowest"]
        assert row["lowest_images"].tolist() == lowest, (name, ch)
        np.testing.assert_allclose(row["lowest_values"], [want["scores"][i] for i in lowest], rtol=1e-5, atol=1e-6)
        assert bool(row["dead"]) == bool(want["dead"])
        np.testing.assert_allclose(row["class_means"], want["class_means"], rtol=1e-5, atol=1e-7)
    dead = stats[(stats.layer == "features.relu1") & (stats.channel == 2)].iloc[0]
    assert dead["dead"] and dead["max"] == 0
    ties = index[(index.layer == "features.relu1") & (index.channel == 2)]
    assert ties["image"].tolist() == list(range(9))  # all zero: lowest image indices first
    logits = model(normalise(images.data, MEAN, STD))
    assert predictions["predicted"].tolist() == logits.argmax(1).tolist()
    assert predictions["label"].tolist() == images.labels.tolist()


def test_duplicated_images_tie_to_the_lower_index(tied_zf, tied_probe, tied_normalisation):
    MEAN, STD = tied_normalisation
    model, images = tied_zf, tied_probe
    layers = ModelGraph(model, (1, 16, 16)).layers
    index, _, _ = build_index(model, layers, ModelInputs(images, MEAN, STD, batch_size=16, show_progress=False), k=70)
    for (_, _), group in index.groupby(["layer", "channel"]):
        group = group.sort_values("rank")
        position = {img: r for r, img in enumerate(group["image"])}
        for i in range(10):
            if np.isclose(group.set_index("image").loc[i, "value"], group.set_index("image").loc[40 + i, "value"]):
                assert position[i] < position[40 + i]


def test_classes_by_prediction_equal_an_index_of_the_relabelled_images(tied_zf, tied_probe, tied_normalisation):
    """Images without the model's classes are classed by its predictions; the deferred per-class
    statistics equal those of a normal pass over the images relabelled with the predictions."""
    MEAN, STD = tied_normalisation
    images = tied_probe
    torch.manual_seed(1)
    model = torch.nn.Sequential(OrderedDict(
        conv1=torch.nn.Conv2d(1, 6, 3), relu1=torch.nn.ReLU(), conv2=torch.nn.Conv2d(6, 4, 3), relu2=torch.nn.ReLU(inplace=True),
        pool=torch.nn.AdaptiveAvgPool2d(1), flat=torch.nn.Flatten(), fc=torch.nn.Linear(4, 4))).eval()
    with torch.no_grad():  # centre each logit over the images, so that the predictions spread over the classes
        logits = model(normalise(images.data, MEAN, STD))
        model.fc.bias -= logits.mean(0)
    layers = [layer for layer in ModelGraph(model, (1, 16, 16)).layers if layer.name != "fc"]
    with torch.no_grad():
        predicted = model(normalise(images.data, MEAN, STD)).argmax(1)
    assert len(set(predicted.tolist())) > 1
    unlabelled = images.with_labels(torch.zeros(len(images), dtype=torch.long), images.classes)
    got = build_index(model, layers, ModelInputs(unlabelled, MEAN, STD, batch_size=16, show_progress=False), k=5, predicted_labels=True)
    want = build_index(model, layers, ModelInputs(images.with_labels(predicted, images.classes), MEAN, STD, batch_size=16, show_progress=False), k=5)
    for got_frame, want_frame in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(got_frame, want_frame)
    assert got[2]["label"].tolist() == predicted.tolist()
