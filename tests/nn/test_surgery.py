"""Graph surgery: the network up to a layer, its tail from a cut, and the model split in two, each
against the whole model run with hooks."""
import pytest
import torch
from torch import nn

from convatlas.core.errors import LayerError
from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph
from convatlas.nn.rules import guided_relu
from convatlas.nn.surgery import LayerSplit, ancestors, tail_from, upto_layer


def zf_graph():
    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, {"widths": [3, 4], "fc": [5]}).eval()
    return model, ModelGraph(model, (1, 16, 16))


def resnet_graph():
    torch.manual_seed(0)
    model = build_model("resnet", 1, 4, 16, {"widths": [3, 4], "blocks": 1}).eval()
    return model, ModelGraph(model, (1, 16, 16))


def hooked(model, name, images):
    """The output of the submodule ``name`` during a whole forward pass."""
    out = {}
    handle = model.get_submodule(name).register_forward_hook(lambda m, i, o: out.__setitem__("x", o.detach()))
    with torch.no_grad():
        logits = model(images)
    handle.remove()
    return out["x"], logits


@pytest.mark.parametrize("make", [zf_graph, resnet_graph])
def test_upto_layer_gives_the_layers_output(make):
    model, graph = make()
    images = torch.randn(3, 1, 16, 16)
    for layer in graph.layers:
        expected, _ = hooked(model, layer.name, images)
        with torch.no_grad():
            assert torch.allclose(upto_layer(graph, layer.name)(images), expected, atol=1e-6), layer.name


def test_upto_layer_with_the_guided_rule_passes_only_positive_signal_through_active_units():
    """conv -> relu up to relu1: the guided backward of a seed s is conv's backward of
    relu(s) * (pre-activation > 0), computed here with autograd through the conv alone."""
    model, graph = zf_graph()
    images = torch.randn(2, 1, 16, 16, requires_grad=True)
    seed = torch.randn(2, 3, 16, 16)
    out = upto_layer(graph, "features.relu1", relu=guided_relu)(images)
    (grad,) = torch.autograd.grad(out, images, seed)
    x = images.detach().clone().requires_grad_(True)
    pre = model.features.conv1(x)
    (expected,) = torch.autograd.grad(pre, x, seed.clamp(min=0) * (pre > 0).float())
    assert torch.allclose(grad, expected, atol=1e-6)
    assert torch.allclose(out, pre.clamp(min=0), atol=1e-6)  # the forward is unchanged


def test_a_check_sees_every_needed_node_but_not_the_rest():
    _, graph = zf_graph()
    seen = []
    upto_layer(graph, "features.relu1", check=lambda node: seen.append(node))
    needed = ancestors(graph.output_node["features.relu1"])
    assert set(seen) == needed and graph.output_node["classifier.out"] not in needed
    assert {node.target for node in seen if node.op == "call_module"} == {"features.conv1", "features.relu1"}


def test_ancestors_are_the_node_and_everything_it_reads():
    _, graph = zf_graph()
    target = graph.output_node["features.relu2"]
    found = ancestors(target)
    # by hand: walk the inputs of the nodes
    expected, todo = set(), [target]
    while todo:
        node = todo.pop()
        if node not in expected:
            expected.add(node)
            todo.extend(node.all_input_nodes)
    assert found == expected and target in found
    assert {n.target for n in found if n.op == "call_module"} == {
        "features.conv1", "features.relu1", "features.pool1", "features.conv2", "features.relu2"}


def test_the_tail_from_a_cut_gives_the_logits_from_that_activation():
    model, graph = zf_graph()
    images = torch.randn(3, 1, 16, 16)
    activation, logits = hooked(model, "features.relu2", images)
    with torch.no_grad():
        assert torch.allclose(tail_from(graph, graph.output_node["features.relu2"])(activation), logits, atol=1e-6)


def test_a_tail_from_a_cut_a_shortcut_jumps_over_is_refused():
    _, graph = resnet_graph()
    with pytest.raises(LayerError, match="before the cut"):
        tail_from(graph, graph.output_node["layer1.0.relu1"])  # layer1.0's shortcut reads the block's input


@pytest.mark.parametrize("layer", ["relu", "layer1.0.relu1", "layer2.0"])
def test_a_layer_split_head_then_tail_is_the_whole_model(layer):
    model, graph = resnet_graph()
    split = LayerSplit(model, graph, layer)
    images = torch.randn(2, 1, 16, 16)
    expected, logits = hooked(model, layer, images)
    with torch.no_grad():
        output, *others = split.head(images)
        assert torch.allclose(output, expected, atol=1e-6)
        assert len(others) == len(split.extra)
        assert torch.allclose(split.tail(output, *others), logits, atol=1e-5)
        # the tail uses what it is given: zeroing channel 0 of the layer equals zeroing it with a hook
        zeroed = output.clone()
        zeroed[:, 0] = 0
        handle = model.get_submodule(layer).register_forward_hook(lambda m, i, o: o.index_fill(1, torch.tensor([0]), 0))
        try:
            direct = model(images)
        finally:
            handle.remove()
        assert torch.allclose(split.tail(zeroed, *others), direct, atol=1e-5)


def test_a_layer_split_inside_a_block_passes_the_shortcut_input_on():
    model, graph = resnet_graph()
    split = LayerSplit(model, graph, "layer1.0.relu1")
    assert len(split.extra) == 1  # the block's input, read again by the shortcut after the cut
    block_input, _ = hooked(model, "relu", torch.zeros(1, 1, 16, 16) + 0.5)
    with torch.no_grad():
        _, earlier = split.head(torch.zeros(1, 1, 16, 16) + 0.5)
    assert torch.allclose(earlier, block_input)


def test_a_plain_chain_split_needs_nothing_from_before_the_cut():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)).eval()
    graph = ModelGraph(model, (1, 8, 8))
    split = LayerSplit(model, graph, graph.layers[0].name)
    assert split.extra == []


def test_next_linear_is_the_first_conv_or_linear_a_channel_reaches_alone():
    from convatlas.nn.surgery import next_linear

    zf = ModelGraph(build_model("zf", 1, 4, 16, {"widths": [5, 6], "fc": [7]}).eval(), (1, 16, 16))
    found = {layer.name: next_linear(zf, layer.name) for layer in zf.layers}
    assert {name: linear.node.target for name, linear in found.items()} == {
        "features.relu1": "features.conv2",  # through the max pool
        "features.relu2": "classifier.fc1",  # through the pool and the flatten
        "classifier.fc1_relu": "classifier.out",  # through dropout
    }
    assert found["features.relu2"].input_node.op == "call_function"  # the flattened features
    resnet = ModelGraph(build_model("resnet", 1, 4, 16, {"widths": [4, 6], "blocks": 1}).eval(), (1, 16, 16))
    found = {layer.name: next_linear(resnet, layer.name) for layer in resnet.layers}
    assert {name: linear.node.target if linear else None for name, linear in found.items()} == {
        "relu": None, "layer1.0": None,  # they feed a conv and a shortcut
        "layer1.0.relu1": "layer1.0.conv2", "layer2.0.relu1": "layer2.0.conv2",
        "layer2.0": "fc",  # through the global pool and the flatten
    }

    class Shifted(nn.Module):  # batch norm maps a zero channel to its shift: no share to subtract
        def __init__(self):
            super().__init__()
            self.conv1, self.relu, self.bn = nn.Conv2d(1, 3, 3), nn.ReLU(), nn.BatchNorm2d(3)
            self.conv2, self.fc = nn.Conv2d(3, 2, 3), nn.Linear(12, 4)

        def forward(self, x):
            return self.fc(self.conv2(self.bn(self.relu(self.conv1(x)))).mean(1)).mean(1)

    class OnMaps(nn.Module):  # a linear layer along the maps' width mixes positions, not channels
        def __init__(self):
            super().__init__()
            self.conv, self.relu, self.fc = nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Linear(14, 4)

        def forward(self, x):
            return self.fc(self.relu(self.conv(x))).mean((1, 2))

    assert next_linear(ModelGraph(Shifted().eval(), (1, 16, 16)), "relu") is None
    assert next_linear(ModelGraph(OnMaps().eval(), (1, 16, 16)), "relu") is None
