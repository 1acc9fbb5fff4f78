"""Correspondence and invariance analyses against direct computations."""
from itertools import combinations

import numpy as np
import pytest
import torch

from convatlas.analyses.correspondence import correspondence_pairs, occlude_boxes, part_box, summarise_pairs
from convatlas.analyses.invariance import invariance, transform
from convatlas.data.transforms import normalise
from convatlas.models import build_model


def tiny():
    torch.manual_seed(0)
    return build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]}).eval()


def test_part_boxes_in_pixels_or_relative():
    assert part_box([2, 3, 8, 9], 16, 16) == (2, 3, 8, 9)
    assert part_box([0.25, 0.0, 0.75, 0.5], 16, 20) == (4, 0, 12, 10)


def test_correspondence_equals_direct_hamming():
    model = tiny()
    images = torch.randn(4, 1, 16, 16)
    parts = {"left": (4, 0, 10, 6)}
    pairs = correspondence_pairs(model, ["features.relu1", "classifier.fc1_relu"], images, parts, random_draws=3, seed=1)
    table = summarise_pairs(pairs)
    assert len(pairs) == 2 * (1 + 3) * 6  # layers x (part + draws) x pairs of 4 images
    occluded = occlude_boxes(images, [parts["left"]] * 4)
    assert (occluded[:, :, 4:10, 0:6] == 0).all() and torch.equal(occluded[:, :, :4], images[:, :, :4])
    for layer in ("features.relu1", "classifier.fc1_relu"):
        feats = {}
        handle = model.get_submodule(layer).register_forward_hook(lambda m, i, o, feats=feats: feats.__setitem__("x", o))
        with torch.no_grad():
            model(images)
            original = feats["x"].flatten(1).numpy().astype(np.float64)
            model(occluded)
            changed = feats["x"].flatten(1).numpy().astype(np.float64)
        handle.remove()
        eps = np.sign(original - changed)
        distances = [np.mean(eps[i] != eps[j]) for i, j in combinations(range(4), 2)]
        row = table[(table.part == "left") & (table.layer == layer)].iloc[0]
        assert row.delta == pytest.approx(np.mean(distances)) and row["std"] == pytest.approx(np.std(distances))
    control = table[table.part == "random"]
    assert len(control) == 2 and (control.draws == 3).all() and control.delta.between(0, 1).all()


def test_translation_shifts_down_and_fills():
    images = torch.rand(2, 1, 10, 10)
    moved = transform(images, "translation", 2, fill=0.0)
    assert torch.allclose(moved[:, :, 2:], images[:, :, :-2], atol=1e-6) and (moved[:, :, :2] == 0).all()
    assert torch.allclose(transform(images, "rotation", 0), images) and torch.allclose(transform(images, "scale", 1.0), images)
    assert torch.allclose(transform(images, "rotation", 90), images.rot90(-1, dims=(2, 3)), atol=1e-5)  # clockwise


def test_invariance_distances_and_probabilities():
    model = tiny()
    images = torch.randint(0, 256, (3, 1, 16, 16), dtype=torch.uint8)
    table, strips = invariance(model, images, [0, 1, 2], [0.3], [0.3], ("features.relu1", "classifier.fc1_relu"),
                               {"translation": [-2, 0, 2], "rotation": [0, 90], "scale": [0.8, 1.0]})
    assert len(table) == 3 * (3 + 2 + 2) and strips["rotation"].shape == (2, 3, 1, 16, 16)
    identity = table[((table["transform"] == "translation") & (table.value == 0)) | ((table["transform"] == "scale") & (table.value == 1))]
    assert np.allclose(identity.first_distance, 0, atol=1e-6) and np.allclose(identity.top_distance, 0, atol=1e-6)
    with torch.no_grad():
        probs = model(normalise(images, [0.3], [0.3])).softmax(1)
    row = table[(table["transform"] == "rotation") & (table.value == 0) & (table.image == 2)].iloc[0]
    assert row.probability == pytest.approx(float(probs[2, 2]), rel=1e-5)
    shifted = transform(images.float() / 255, "translation", 2)
    with torch.no_grad():
        first = model.features.relu1(model.features.conv1(normalise(shifted, [0.3], [0.3])))
        base = model.features.relu1(model.features.conv1(normalise(images, [0.3], [0.3])))
    expected = ((first - base).flatten(1).double().norm(dim=1) / base.flatten(1).double().norm(dim=1))[1]
    row = table[(table["transform"] == "translation") & (table.value == 2) & (table.image == 1)].iloc[0]
    assert row.first_distance == pytest.approx(float(expected), rel=1e-5)
