"""The model-dependence check: the randomised copy, and rank correlations with its pictures on cases
with known answers."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from convatlas.analyses.deconv import Projector
from convatlas.analyses.randomisation import RANDOM_SEED, model_dependence, randomised_copy, same_graph
from convatlas.analyses.sanity import rank_correlation
from convatlas.core.crops import receptive_patch
from convatlas.nn.graph import ModelGraph
from tests.analyses.test_sanity import two_convs


def trained_tiles(projector, images, units, field, size):
    """The trained model's tiles of ``units`` as the deconv job crops them, seeded with 1 (the job's
    are seeded with the units' positive activations: the same up to a positive scale)."""
    projected = projector(images, units, seed=1.0).detach().numpy()
    tiles = []
    for i, (_, y, x) in enumerate(units.tolist()):
        box, origin, patch = field.unit_geometry(y, x, size, size)
        tiles.append(receptive_patch(projected[i].transpose(1, 2, 0), box, origin, patch, fill=0.0))
    return tiles


def test_without_learned_weights_on_the_way_the_randomised_picture_is_the_same():
    """Nothing to re-initialise on the way to the layer (a fixed, unlearned filter and a ReLU; the
    conv after it is re-initialised but not on the way): correlation 1."""

    class FixedFilter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("kernel", torch.arange(1.0, 10.0, dtype=torch.float64).view(1, 1, 3, 3))

        def forward(self, x):
            return nn.functional.conv2d(x, self.kernel, padding=1)

    net = nn.Sequential(OrderedDict(fixed=FixedFilter(), relu=nn.ReLU(), conv=nn.Conv2d(1, 1, 1))).double().eval()
    graph = ModelGraph(net, (1, 8, 8))
    randomised = randomised_copy(net, graph, "relu")
    torch.manual_seed(2)
    images = torch.rand(3, 1, 8, 8, dtype=torch.float64)
    units = torch.tensor([[0, 1, 1], [0, 2, 3], [0, 3, 0]])
    field = graph.layer("relu").receptive_field
    trained = trained_tiles(Projector(net, "relu", (1, 8, 8), "guided", graph=graph), images, units, field, 8)
    scores = model_dependence(trained, Projector(randomised, "relu", (1, 8, 8), "guided"), images, units, field, (8, 8))
    assert scores == pytest.approx([1.0, 1.0, 1.0])


def test_a_picture_that_randomisation_blanks_scores_zero_not_nan():
    """A randomised model whose unit no gradient reaches draws a blank heatmap: nothing of the trained
    picture survived, a rank correlation of 0; a blank trained picture stays undefined (NaN)."""
    net = two_convs(pool=False)
    graph = ModelGraph(net, (1, 8, 8))
    torch.manual_seed(2)
    images = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    units = torch.tensor([[0, 1, 1], [1, 2, 2]])
    field = graph.layer("relu2").receptive_field

    def blank(images, units, seed=None):
        return torch.zeros_like(images)

    trained = [np.arange(25.0).reshape(5, 5, 1), np.zeros((5, 5, 1))]
    scores = model_dependence(trained, blank, images, units, field, (8, 8))
    assert scores[0] == 0.0 and np.isnan(scores[1])


def test_a_one_conv_deconvnet_picture_is_its_filter_so_randomising_it_gives_the_filters_rank_correlation():
    """conv (no bias) - ReLU: the deconvnet picture of a unit seeded with 1 is the unit's filter, so its
    rank correlation with the randomised model's is that of the two filters."""
    torch.manual_seed(3)
    net = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 2, 3, bias=False), relu=nn.ReLU())).double().eval()
    graph = ModelGraph(net, (1, 7, 7))
    randomised = randomised_copy(net, graph, "relu", seed=5)
    assert not torch.equal(randomised.conv.weight, net.conv.weight) and torch.equal(net.conv.weight, net[0].weight)
    images = torch.randn(2, 1, 7, 7, dtype=torch.float64)
    units = torch.tensor([[1, 2, 2], [0, 3, 1]])
    field = graph.layer("relu").receptive_field
    trained = trained_tiles(Projector(net, "relu", (1, 7, 7), graph=graph), images, units, field, 7)
    scores = model_dependence(trained, Projector(randomised, "relu", (1, 7, 7)), images, units, field, (7, 7))
    for score, (channel, _, _) in zip(scores, units.tolist(), strict=True):
        expected = rank_correlation(net.conv.weight[channel].detach().numpy(), randomised.conv.weight[channel].detach().numpy())
        assert score == pytest.approx(expected)
    assert abs(scores).max() < 0.99


def test_the_randomised_copy_is_not_the_models_own_initialisation():
    """Re-initialising from the seed a model was built with would give back its initial weights, and
    a barely trained model would pass for model-independent: the check's seed is not a usual one."""
    torch.manual_seed(0)
    built = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 4, 3), relu=nn.ReLU()))
    copy = randomised_copy(built, ModelGraph(built, (1, 8, 8)), "relu")
    assert abs(rank_correlation(built.conv.weight.detach().numpy(), copy.conv.weight.detach().numpy())) < 0.9


def three_layers():
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(conv1=nn.Conv2d(1, 2, 3), relu1=nn.ReLU(), conv2=nn.Conv2d(2, 2, 3),
                                     relu2=nn.ReLU(), conv3=nn.Conv2d(2, 2, 3), relu3=nn.ReLU())).eval()


def test_only_the_modules_on_the_way_to_the_layer_are_reinitialised():
    net = three_layers()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    copy = randomised_copy(net, ModelGraph(net, (1, 10, 10)), "relu2")
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])  # the model itself is untouched
    for name in ("conv1", "conv2"):
        assert not torch.equal(getattr(copy, name).weight, getattr(net, name).weight)
    assert torch.equal(copy.conv3.weight, net.conv3.weight) and torch.equal(copy.conv3.bias, net.conv3.bias)
    assert not copy.training


def test_the_copy_is_the_same_for_a_seed_and_leaves_the_global_generator_alone():
    net = three_layers()
    graph = ModelGraph(net, (1, 10, 10))
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = randomised_copy(net, graph, "relu1")
    assert torch.equal(torch.rand(3), expected_next)  # the caller's random stream goes on as before
    b = randomised_copy(net, graph, "relu1", seed=RANDOM_SEED)
    c = randomised_copy(net, graph, "relu1", seed=7)
    assert torch.equal(a.conv1.weight, b.conv1.weight) and not torch.equal(a.conv1.weight, c.conv1.weight)
    fresh = nn.Conv2d(1, 2, 3)
    torch.manual_seed(RANDOM_SEED)  # by hand: conv1's own reset_parameters, first, from the seed
    fresh.reset_parameters()
    assert torch.equal(a.conv1.weight, fresh.weight) and torch.equal(a.conv1.bias, fresh.bias)


def test_same_graph_keeps_nodes_and_shapes_with_the_copys_modules():
    net = three_layers()
    graph = ModelGraph(net, (1, 10, 10))
    copy = randomised_copy(net, graph, "relu3")
    other = same_graph(graph, copy)
    assert other.model is copy and other.modules["conv1"] is copy.conv1
    assert list(other.nodes) == list(graph.nodes) and [l.name for l in other.layers] == [l.name for l in graph.layers]
    assert graph.model is net and graph.modules["conv1"] is net.conv1  # the original graph is unchanged
