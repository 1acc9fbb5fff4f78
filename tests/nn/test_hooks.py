"""Forward hooks by module path: outputs captured as computed, hooks removed afterwards."""
import pytest
import torch
from torch import nn

from convatlas.core.errors import LayerError
from convatlas.nn.hooks import capture_outputs, forward_hooks, input_hooks, module


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Sequential(nn.Linear(4, 2)))


def test_module_finds_nested_paths_and_names_an_unknown_layer():
    model = net()
    assert module(model, "2.0") is model[2][0]
    with pytest.raises(LayerError, match="Sequential has no layer '7'"):
        module(model, "7")


def test_captured_outputs_equal_the_layers_by_hand():
    model = net()
    x = torch.randn(5, 3)
    with capture_outputs(model, ["0", "2.0"]) as outputs:
        model(x)
    first = x @ model[0].weight.T + model[0].bias
    assert torch.allclose(outputs["0"], first, atol=1e-6)  # a copy taken before the in-place ReLU
    assert torch.allclose(outputs["2.0"], first.clamp(min=0) @ model[2][0].weight.T + model[2][0].bias, atol=1e-6)
    assert not outputs["0"].requires_grad


def test_hooks_are_removed_after_the_block_even_on_an_error():
    model = net()
    calls = []
    with pytest.raises(RuntimeError, match="boom"), forward_hooks(model, ["0", "1"], lambda name, out: calls.append(name)):
        model(torch.randn(1, 3))
        raise RuntimeError("boom")
    assert calls == ["0", "1"]
    model(torch.randn(1, 3))
    assert calls == ["0", "1"] and not model[0]._forward_hooks and not model[1]._forward_hooks


def test_an_unknown_name_registers_no_hook():
    model = net()
    with pytest.raises(LayerError), forward_hooks(model, ["0", "missing"], lambda name, out: None):
        pass
    assert not model[0]._forward_hooks


def test_the_latest_output_wins():
    model = net()
    with capture_outputs(model, ["0"]) as outputs:
        model(torch.zeros(1, 3))
        model(torch.ones(2, 3))
    assert outputs["0"].shape == (2, 4)


def test_input_hooks_see_what_each_named_layer_receives_and_are_removed():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(5, 3)
    seen = {}
    with input_hooks(net, ["2"], seen.__setitem__):
        net(x)
    assert torch.equal(seen["2"], torch.relu(net[0](x)))  # the classifier's input, computed directly
    assert not net[2]._forward_pre_hooks
