"""Connected channels: for adjacent layers the contribution is the summed weight x activation; across a
pool the contributions and the bias add up to the unit's activation."""
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convatlas.analyses.connections import connection_strengths, feed_strengths, strongest
from convatlas.analyses.index import build_index
from convatlas.data.model_inputs import ModelInputs
from convatlas.nn.graph import ModelGraph


def two_layer_net():
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict([("conv1", nn.Conv2d(1, 4, 3, padding=1)), ("relu1", nn.ReLU()),
                                     ("conv2", nn.Conv2d(4, 5, 3, padding=1)), ("relu2", nn.ReLU()),
                                     ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(5, 3))]))
    return net.eval()


def by_hand(net, inputs, index, layer: str, channels: list[int], width: int, measure) -> np.ndarray:
    """The mean of ``measure(relu1 output, row)`` (a vector of ``width``) over each channel's positive top rows."""
    expected, counts = np.zeros((len(channels), width)), np.zeros(len(channels))
    for row in index[(index.layer == layer) & index.channel.isin(channels) & (index.value > 0)].itertuples():
        with torch.no_grad():
            a = net.relu1(net.conv1(inputs.take([row.image])))[0]  # (4, 16, 16)
            expected[channels.index(row.channel)] += measure(a, row)
        counts[channels.index(row.channel)] += 1
    return expected / counts[:, None]


def indexed(net, tied_probe):
    inputs = ModelInputs(tied_probe, [0.3], [0.3], 16, show_progress=False)
    index, _, _ = build_index(net, ModelGraph(net, (1, 16, 16)).layers, inputs, k=3)
    return inputs, index


def test_adjacent_layers_contribute_their_summed_weight_times_activation(tied_probe):
    net = two_layer_net()
    inputs, index = indexed(net, tied_probe)
    channels = [0, 2, 4]
    got = connection_strengths(net, "relu1", "relu2", index, inputs, channels)
    assert got.shape == (3, 4)

    def shares(a, row):  # by hand: each channel j alone through conv2's weights for the row's channel, at its unit
        return [float(F.conv2d(a[j:j + 1][None], net.conv2.weight[row.channel:row.channel + 1, j:j + 1], padding=1)[0, 0, row.y, row.x])
                for j in range(4)]

    assert np.allclose(got, by_hand(net, inputs, index, "relu2", channels, 4, shares), atol=1e-5)


def test_a_channel_feeds_the_next_layer_its_summed_weight_times_activation_over_the_active_units(tied_probe):
    net = two_layer_net()
    inputs, index = indexed(net, tied_probe)
    channels = [0, 1, 3]
    got = feed_strengths(net, "relu1", "relu2", index, inputs, channels)
    assert got.shape == (3, 5)

    def fed(a, row):  # by hand: the row's channel alone through conv2's weights, summed over each later channel's active units
        active = net.conv2(a[None])[0] > 0  # (5, 16, 16): where relu2 passes
        alone = F.conv2d(a[row.channel:row.channel + 1][None], net.conv2.weight[:, row.channel:row.channel + 1], padding=1)[0]
        return (alone * active).sum(dim=(1, 2)).numpy()

    assert np.allclose(got, by_hand(net, inputs, index, "relu1", channels, 5, fed), atol=1e-4)
    assert (np.abs(got) > 0).sum(axis=1).min() >= 3  # a channel that fires feeds several


def test_across_a_pool_the_contributions_and_the_bias_add_up_to_the_activation(tied_zf, tied_probe):
    inputs = ModelInputs(tied_probe, [0.3], [0.3], 8, show_progress=False)
    graph = ModelGraph(tied_zf, (1, 16, 16))
    index, _, _ = build_index(tied_zf, graph.layers, inputs, k=2)
    rows = index[(index.layer == "features.relu2") & (index.value > 0)]
    channels = sorted(rows.channel.unique().tolist())
    got = connection_strengths(tied_zf, "features.relu1", "features.relu2", index, inputs, channels, graph)
    bias = tied_zf.features.conv2.bias.detach().numpy()
    mean_value = rows.groupby("channel").value.mean()
    for i, channel in enumerate(channels):
        assert np.isclose(got[i].sum() + bias[channel], mean_value[channel], atol=1e-4)


def test_strongest_orders_by_size_with_the_sign():
    ranked = strongest(np.array([[0.1, -0.5, 0.3, 0.0]]), count=3)
    assert ranked == [[(1, -0.5), (2, 0.3), (0, 0.1)]]
    assert strongest(np.zeros((1, 3))) == [[]]
