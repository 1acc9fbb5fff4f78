"""Relevance pictures (LRP restricted to a unit, via zennit; gradient x input) against independent
computations: a hand-written LRP of a two-layer net, zennit's own attributor on an ``nn.Sequential``
with batch norm, conservation through a shortcut sum, and autograd for gradient x input."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn
from zennit.attribution import Gradient
from zennit.canonizers import SequentialMergeBatchNorm
from zennit.composites import EpsilonGammaBox

from convatlas.analyses.relevance import GAMMA, RelevanceProjector, pixel_bounds
from convatlas.analyses.sanity import IMAGE_THRESHOLD, tile_correlation
from convatlas.core.crops import receptive_patch
from convatlas.nn.graph import ModelGraph

MEAN, STD = (0.4,), (0.25,)
STABILISER = 1e-6  # zennit's default, added with the denominator's sign


def two_convs(batch_norm: bool = False, pool: bool = False) -> nn.Module:
    torch.manual_seed(3)
    layers = [("conv1", nn.Conv2d(1, 3, 3))] + ([("bn1", nn.BatchNorm2d(3))] if batch_norm else []) + [("relu1", nn.ReLU())]
    layers += [("pool", nn.MaxPool2d(2))] if pool else []
    layers += [("conv2", nn.Conv2d(3, 2, 3))] + ([("bn2", nn.BatchNorm2d(2))] if batch_norm else []) + [("relu2", nn.ReLU())]
    net = nn.Sequential(OrderedDict(layers)).double().eval()
    if batch_norm:  # statistics a trained net would have: merging them is what is tested
        for bn in (net.bn1, net.bn2):
            bn.running_mean.uniform_(-0.3, 0.3)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.2, 0.2)
    return net


def pixels(count: int, size: int = 8) -> torch.Tensor:
    """Normalised images of pixels in [0, 1] (what ZBox's bounds assume)."""
    torch.manual_seed(5)
    return (torch.rand(count, 1, size, size, dtype=torch.float64) - MEAN[0]) / STD[0]


def stabilised(z: float) -> float:
    return z + STABILISER * (1.0 if z >= 0 else -1.0)


def hand_lrp(net: nn.Module, image: torch.Tensor, unit: tuple[int, int, int]) -> np.ndarray:
    """LRP of one unit of relu2 by explicit sums: gamma rule at conv2 (its inputs are rectified, so
    only the positive branch is reached from a firing unit), relevance passing the ReLUs unchanged,
    ZBox at conv1 with the pixels' bounds [0, 1] normalised."""
    x = image[0].numpy()  # (H, W)
    w1, b1 = net.conv1.weight.detach().numpy()[:, 0], net.conv1.bias.detach().numpy()
    w2, b2 = net.conv2.weight.detach().numpy(), net.conv2.bias.detach().numpy()
    a1 = np.maximum(0, np.stack([[[np.sum(x[i:i + 3, j:j + 3] * w1[c]) + b1[c] for j in range(x.shape[1] - 2)]
                                  for i in range(x.shape[0] - 2)] for c in range(3)]))
    c2, y, xx = unit
    patch = a1[:, y:y + 3, xx:xx + 3]
    activation = max(0.0, float(np.sum(patch * w2[c2]) + b2[c2]))
    modified = w2[c2] + GAMMA * np.clip(w2[c2], 0, None)
    z = float(np.sum(patch * modified) + b2[c2] + GAMMA * max(b2[c2], 0))
    relevance1 = np.zeros_like(a1)
    relevance1[:, y:y + 3, xx:xx + 3] = patch * modified * activation / stabilised(z)
    low, high = (0 - MEAN[0]) / STD[0], (1 - MEAN[0]) / STD[0]
    relevance0 = np.zeros_like(x)
    for c in range(3):
        for i in range(a1.shape[1]):
            for j in range(a1.shape[2]):
                if relevance1[c, i, j] == 0:
                    continue
                window = x[i:i + 3, j:j + 3]
                terms = window * w1[c] - low * np.clip(w1[c], 0, None) - high * np.clip(w1[c], None, 0)
                relevance0[i:i + 3, j:j + 3] += terms * relevance1[c, i, j] / stabilised(float(terms.sum()))
    return relevance0


def test_lrp_of_a_unit_matches_a_hand_written_lrp():
    net = two_convs()
    images = pixels(3)
    with torch.no_grad():
        acts = net(images)
    units = torch.tensor([[0, 2, 3], [1, 1, 1], [0, 3, 0]])
    firing = [i for i, (c, y, x) in enumerate(units.tolist()) if acts[i, c, y, x] > 0]
    assert firing, "the test needs units that fire"
    heat = RelevanceProjector(net, "relu2", (1, 8, 8), "relevance", mean=MEAN, std=STD)(images, units)
    assert heat.shape == (3, 1, 8, 8)
    for i in firing:
        expected = hand_lrp(net, images[i], tuple(units[i].tolist()))
        np.testing.assert_allclose(heat[i, 0].numpy(), expected, rtol=1e-6, atol=1e-9)


def test_lrp_through_the_traced_graph_matches_zennits_own_attributor_with_batch_norm():
    """Our batch-norm merge finds the pairs in the traced graph; zennit's finds them in the Sequential."""
    net = two_convs(batch_norm=True)
    images = pixels(4)
    units = torch.tensor([[0, 2, 2], [1, 3, 1], [0, 0, 0], [1, 1, 3]])
    heat = RelevanceProjector(net, "relu2", (1, 8, 8), "relevance", mean=MEAN, std=STD)(images, units)
    with torch.no_grad():
        acts = net(images)
    start = torch.zeros_like(acts)
    rows = torch.arange(4)
    start[rows, units[:, 0], units[:, 1], units[:, 2]] = acts[rows, units[:, 0], units[:, 1], units[:, 2]]
    low, high = pixel_bounds(MEAN, STD, 1)
    composite = EpsilonGammaBox(low.double(), high.double(), gamma=GAMMA, canonizers=[SequentialMergeBatchNorm()])
    with Gradient(net, composite) as attributor:
        _, reference = attributor(images.clone(), start)
    np.testing.assert_allclose(heat.numpy(), reference.sum(1, keepdim=True).numpy(), rtol=1e-6, atol=1e-10)
    assert net.bn1.running_var.min() >= 0.5, "the user's model is left as it was"


class Residual(nn.Module):
    """A stem and one block whose output sums a conv path and the identity (no biases: LRP then
    conserves the unit's activation exactly)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.stem, self.conv = nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.relu1, self.relu2, self.out = nn.ReLU(), nn.ReLU(), nn.ReLU()

    def forward(self, x):
        h = self.relu1(self.stem(x))
        return self.out(self.relu2(self.conv(h)) + h)


def test_a_shortcut_sum_shares_relevance_so_the_picture_conserves_the_units_activation():
    """A plain gradient would hand both operands of the sum all of the relevance (about twice the
    activation at the input); zennit's Sum with its Norm rule splits it in proportion."""
    net = Residual().double().eval()
    images = pixels(5)
    with torch.no_grad():
        acts = net(images)
    units = torch.tensor([[c, 3, 4] for c in range(4)] + [[0, 5, 5]])
    heat = RelevanceProjector(net, "out", (1, 8, 8), "relevance", mean=MEAN, std=STD)(images, units)
    for i, (c, y, x) in enumerate(units.tolist()):
        assert heat[i].sum().item() == pytest.approx(acts[i, c, y, x].item(), rel=1e-4, abs=1e-9)
    assert any(acts[i, c, y, x] > 0 for i, (c, y, x) in enumerate(units.tolist()))


def test_gradient_times_input_is_autograds():
    net = two_convs(pool=True)
    images = pixels(2, 12)
    units = torch.tensor([[0, 1, 1], [1, 2, 0]])
    heat = RelevanceProjector(net, "relu2", (1, 12, 12), "gradient_input")(images, units, seed=1.0)
    for i, (c, y, x) in enumerate(units.tolist()):
        image = images[i:i + 1].clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(net(image)[0, c, y, x], image)
        np.testing.assert_allclose(heat[i, 0].numpy(), (gradient * images[i:i + 1])[0].sum(0).numpy(), atol=1e-12)


def test_where_the_deconvnet_draws_one_picture_the_heatmaps_follow_the_image():
    """The net without a max pool whose deconvnet tiles correlate perfectly (test_sanity): its
    gradient x input and LRP heatmaps of the same kind of unit differ from image to image."""
    net = two_convs()
    torch.manual_seed(1)
    images = torch.randn(9, 1, 20, 20, dtype=torch.float64)
    graph = ModelGraph(net, (1, 20, 20))
    field = graph.layer("relu2").receptive_field
    with torch.no_grad():
        acts = net(images)[:, 0]
    inner = acts[:, 1:-1, 1:-1].flatten(1).argmax(1)
    width = acts.shape[-1] - 2
    units = torch.stack([torch.zeros_like(inner), inner // width + 1, inner % width + 1], 1)
    for rule in ("gradient_input", "relevance"):
        heat = RelevanceProjector(net, "relu2", (1, 20, 20), rule, graph=graph)(images, units).numpy()
        tiles = []
        for i, (_, y, x) in enumerate(units.tolist()):
            box, origin, patch = field.unit_geometry(y, x, 20, 20)
            tiles.append(receptive_patch(heat[i].transpose(1, 2, 0), box, origin, patch, fill=0.0))
        assert tile_correlation(np.stack(tiles)) < IMAGE_THRESHOLD, rule


def test_an_unknown_rule_is_refused_by_name():
    with pytest.raises(ValueError, match="gradient_input"):
        RelevanceProjector(two_convs(), "relu2", (1, 8, 8), "lrp")
