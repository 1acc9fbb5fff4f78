"""Correspondence analysis against direct Hamming distances."""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import torch

from convatlas.analyses.correspondence import correspondence_pairs, occlude_boxes, pair_distances, summarise_pairs
from convatlas.models import build_model


def tiny():
    torch.manual_seed(0)
    return build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]}).eval()


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


def test_pair_distances_by_hand():
    eps = torch.tensor([[1.0, -2.0, 0.0, 3.0], [2.0, -1.0, 0.0, -3.0], [-1.0, 0.0, 0.0, 0.5]])
    # signs: (+ - 0 +), (+ - 0 -), (- 0 0 +): pairs (0,1) 1/4, (0,2) 2/4, (1,2) 3/4
    assert pair_distances(eps) == pytest.approx([0.25, 0.5, 0.75])
    assert pair_distances(eps[:1]) == []


def test_each_image_gets_its_own_box_and_fill():
    images = torch.ones(2, 2, 4, 4)
    out = occlude_boxes(images, [(0, 0, 2, 2), (1, 2, 4, 4)], fill=-1.0)
    expected = images.clone()
    expected[0, :, 0:2, 0:2] = -1
    expected[1, :, 1:4, 2:4] = -1
    assert torch.equal(out, expected) and torch.equal(images, torch.ones(2, 2, 4, 4))  # a copy


def test_summarise_pairs_by_hand():
    pairs = pd.DataFrame({"part": ["eye"] * 3 + ["random"] * 4, "layer": ["l"] * 7, "draw": [0, 0, 0, 0, 0, 1, 1],
                          "first": [0, 0, 1, 0, 0, 0, 0], "second": [1, 2, 2, 1, 1, 1, 1],
                          "distance": [0.1, 0.2, 0.6, 0.5, 0.7, 0.4, 0.8]})
    table = summarise_pairs(pairs).set_index("part")
    assert table.loc["eye", "delta"] == pytest.approx(0.3) and table.loc["eye", "draws"] == 1
    assert table.loc["eye", "std"] == pytest.approx(np.std([0.1, 0.2, 0.6]))
    assert table.loc["random", "delta"] == pytest.approx(0.6) and table.loc["random", "draws"] == 2
    assert table.loc["random", "std"] == pytest.approx(np.std([0.5, 0.7, 0.4, 0.8]))


def test_relative_parts_and_no_control():
    model = tiny()
    images = torch.randn(3, 1, 16, 16)
    pairs = correspondence_pairs(model, ["features.relu1"], images, {"top": (0, 0, 4, 16)}, random_draws=0)
    assert set(pairs.part) == {"top"} and len(pairs) == 3
    assert list(zip(pairs["first"], pairs["second"], strict=True)) == list(combinations(range(3), 2))
