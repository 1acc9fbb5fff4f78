"""Facets: a channel that fires on two clearly different kinds of image gets two facets."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from convatlas.analyses.facets import (
    MIN_FACET_IMAGES,
    channel_facets,
    class_entropy,
    embed,
    facet_table,
    random_projection,
)
from convatlas.analyses.index import facet_tables, index_pass
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.nn.graph import ModelGraph


def blobs(sizes, centres, seed=0, dim=8):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(c, 0.3, (n, dim)) for n, c in zip(sizes, centres, strict=True)]).astype(np.float32)


def test_two_separate_groups_make_two_facets_and_one_group_one():
    two, score = channel_facets(blobs([30, 20], [5.0, -5.0]))
    assert two.tolist() == [0] * 30 + [1] * 20 and score > 0.8  # numbered by size, the largest first
    one, score = channel_facets(blobs([50], [0.0]))
    assert set(one.tolist()) == {0} and np.isnan(score)
    few, _ = channel_facets(blobs([MIN_FACET_IMAGES - 1], [0.0]))
    assert set(few.tolist()) == {0}


def test_class_entropy_by_hand():
    assert class_entropy(np.array([0, 0, 1, 1]), 3) == pytest.approx(1.0)
    assert class_entropy(np.array([2, 2, 2]), 3) == 0.0
    assert class_entropy(np.array([0, 1, 2, 3]), 4) == pytest.approx(2.0)


def test_the_random_projection_is_seeded_and_keeps_distances_roughly():
    assert random_projection(16) is None  # few features: kept as they are
    a, b = random_projection(512), random_projection(512)
    assert torch.equal(a, b) and a.shape == (512, 32)
    x = torch.randn(20, 512, generator=torch.Generator().manual_seed(1))
    projected = embed(x, a)
    original = torch.cdist(x, x).numpy()[np.triu_indices(20, 1)]
    kept = np.linalg.norm(projected[:, None] - projected[None], axis=2)[np.triu_indices(20, 1)]
    assert 0.5 < np.median(kept / original) < 1.5


def test_facet_table_names_each_facets_share_class_and_strongest_examples():
    ranks = 40
    values = np.linspace(2.0, 1.0, ranks)[None]  # one channel, top images 0..39 by rank
    images = np.arange(ranks)[None]
    kind = np.arange(ranks) % 2  # interleaved in rank: the two kinds alternate
    embeddings = np.where(kind[:, None] == 0, 4.0, -4.0).astype(np.float32) + blobs([ranks], [0.0], dim=4) * 0.1
    labels = kind.copy()
    table = facet_table("conv", values, images, np.zeros_like(images), np.zeros_like(images), embeddings, labels, ["a", "b"])
    assert len(table) == 2 and table.facets.tolist() == [2, 2] and table.kinds.tolist() == [2, 2]
    assert table["share"].tolist() == [0.5, 0.5] and sorted(table.top_class) == [0, 1]
    assert table.top_class_share.tolist() == [1.0, 1.0] and table.entropy.iloc[0] == pytest.approx(1.0)
    first = table[table.top_class == 0].iloc[0]
    assert first.examples.tolist() == [0, 2, 4]  # the kind's strongest, in rank order
    assert np.allclose(first.example_values, values[0, [0, 2, 4]])



def test_a_channel_with_few_positive_top_images_is_one_facet_and_one_that_never_fires_none():
    values = np.array([[3.0, 2.0, 1.0, 0.0, 0.0, 0.0], [0.0] * 6])  # channel 0: three positive; channel 1: none
    images = np.array([[5, 1, 4, 0, 2, 3], [0, 1, 2, 3, 4, 5]])
    embeddings = blobs([6], [0.0], dim=4)
    labels = np.array([0, 1, 1, 0, 1, 0])
    table = facet_table("conv", values, images, np.zeros_like(images), np.zeros_like(images), embeddings, labels, ["a", "b"])
    assert table.channel.tolist() == [0] and table.facets.tolist() == [1] and table.images.tolist() == [3]
    row = table.iloc[0]
    assert row["count"] == 3 and row["share"] == 1.0 and row.top_class == 1 and row.top_class_share == pytest.approx(2 / 3)
    assert row.entropy == pytest.approx(class_entropy(labels[[5, 1, 4]], 2)) and np.isnan(row.silhouette)
    assert row.examples.tolist() == [5, 1, 4] and row.kinds == 1
    assert row.top_class_ties == 1  # class 1 twice, class 0 once
    tied = facet_table("conv", values[:1], images[:1], np.zeros_like(images[:1]), np.zeros_like(images[:1]), embeddings,
                       np.array([0, 1, 1, 0, 0, 0]), ["a", "b"])  # top images 5, 1, 4: classes 0, 1, 0 ...
    assert tied.top_class_ties.iloc[0] == 1
    three = facet_table("conv", values[:1], images[:1], np.zeros_like(images[:1]), np.zeros_like(images[:1]), embeddings,
                        np.array([0, 1, 0, 0, 2, 0]), ["a", "b", "c"])  # top images 5, 1, 4: classes 0, 1, 2, one each
    assert three.top_class_ties.iloc[0] == 3

def two_kinds_net() -> nn.Module:
    """Channel 0 sums the whole 8 x 8 image, so it fires on a bright top half and on a bright bottom
    half alike; channels 1 and 2 see only the top or the bottom, so the penultimate features (what
    the classifier receives) separate the two kinds."""
    net = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 3, 8, bias=False)), ("relu", nn.ReLU()),
                                     ("flatten", nn.Flatten()), ("fc", nn.Linear(3, 2))]))
    with torch.no_grad():
        net.conv.weight.zero_()
        net.conv.weight[0] = 1.0
        net.conv.weight[1, :, :4] = 1.0
        net.conv.weight[2, :, 4:] = 1.0
    return net.eval()


def test_a_channel_firing_on_two_kinds_of_image_gets_two_facets_from_the_index_pass():
    torch.manual_seed(0)
    n = 60
    images = torch.zeros(n, 1, 8, 8, dtype=torch.uint8)
    kind = torch.arange(n) % 2
    noise = torch.randint(0, 40, (n, 1, 4, 8), dtype=torch.uint8)
    images[kind == 0, :, :4] = 200 + noise[kind == 0] % 50
    images[kind == 1, :, 4:] = 200 + noise[kind == 1] % 50
    data = TensorImageSet(images, kind.clone(), ["top", "bottom"], "kinds")
    model = two_kinds_net()
    layers = [layer for layer in ModelGraph(model, (1, 8, 8)).layers if layer.name == "relu"]
    accumulators, predictions, embeddings = index_pass(model, layers, ModelInputs(data, [0.0], [1.0], 16, show_progress=False),
                                                       k=4, kept=40)
    assert embeddings.shape == (n, 3)  # the pooled channels, fewer than 32: kept as they are
    table = facet_tables(accumulators, embeddings, predictions.label.to_numpy(), data.classes)
    channel0 = table[table.channel == 0]
    assert len(channel0) == 2 and channel0.kinds.iloc[0] == 2
    assert sorted(channel0.top_class) == [0, 1] and (channel0.top_class_share == 1.0).all()


def test_a_small_facet_of_another_class_is_not_a_kind_of_its_own():
    values = np.linspace(2.0, 1.0, 40)[None]
    images = np.arange(40)[None]
    small = np.arange(40) >= 36  # 4 of 40 images (10%) form a clearly separate group of another class
    embeddings = np.where(small[:, None], 6.0, 0.0).astype(np.float32) + blobs([40], [0.0], dim=4) * 0.1
    table = facet_table("conv", values, images, images * 0, images * 0, embeddings, small.astype(np.int64), ["a", "b"])
    assert table.facets.iloc[0] == 2 and table.kinds.iloc[0] == 1
