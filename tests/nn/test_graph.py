"""Layer discovery and receptive fields, checked by hand and against input gradients."""
from collections import OrderedDict

import pytest
import torch
from torch import nn

from convatlas.core.errors import LayerError
from convatlas.models import build_model
from convatlas.models.tv import build as build_tv
from convatlas.nn.graph import Axis, ModelGraph, receptive_field_size


def graph_of(arch, params=None, channels=1, size=28):
    torch.manual_seed(0)
    return ModelGraph(build_model(arch, channels, 10, size, params or {}).eval(), (channels, size, size))


def test_zf_default_layers_and_fields_by_hand():
    graph = graph_of("zf")
    assert [(l.name, l.kind, l.shape) for l in graph.layers] == [
        ("features.relu1", "conv", (32, 28, 28)),
        ("features.relu2", "conv", (64, 14, 14)),
        ("features.relu3", "conv", (128, 7, 7)),
        ("classifier.fc1_relu", "linear", (256,)),
    ]
    # conv1 5x5 pad 2; pool 3/2 pad 1; conv2 3x3 pad 1; pool 3/2 pad 1; conv3 3x3 pad 1.
    fields = [l.receptive_field for l in graph.layers]
    assert fields[0].y == Axis(size=5, jump=1, start=-2)
    assert fields[1].y == Axis(size=5 + 2 + 2 * 2, jump=2, start=-2 - 1 - 2)
    assert fields[2].y == Axis(size=11 + 2 * 2 + 2 * 4, jump=4, start=-5 - 2 - 4)
    assert fields[3].whole
    assert [receptive_field_size(l) for l in graph.layers] == [5, 11, 23, None]


def test_box_is_clipped_to_the_image():
    layer = graph_of("zf").layers[1]
    assert layer.receptive_field.box(0, 0, 28, 28) == (0, 0, 6, 6)
    assert layer.receptive_field.box(5, 6, 28, 28) == (5, 7, 16, 18)


def test_resnet_blocks_named_after_their_module():
    graph = graph_of("resnet", {"widths": [4, 8], "blocks": 2})
    names = [(l.name, l.kind) for l in graph.layers]
    assert names[:4] == [("relu", "conv"), ("layer1.0.relu1", "conv"), ("layer1.0", "block"), ("layer1.1.relu1", "conv")]
    assert ("layer2.1", "block") in names
    # the block sees conv1 + conv2 (3x3 each) on the trunk: 3 + 2 + 2 = 7 px on the stem's 3 px.
    assert receptive_field_size(graph.layer("layer1.0")) == 7


def test_torchvision_layers():
    alexnet = ModelGraph(build_tv("alexnet", 3, 10, 96).eval(), (3, 96, 96))
    assert [l.name for l in alexnet.layers] == [
        "features.1", "features.4", "features.7", "features.9", "features.11", "classifier.2", "classifier.5"]
    resnet = ModelGraph(build_tv("resnet18", 1, 10, 64).eval(), (1, 64, 64))
    assert [l.name for l in resnet.layers][:3] == ["relu", "layer1.0", "layer1.1"]
    assert all(l.kind == "block" for l in resnet.layers[1:])
    googlenet = ModelGraph(build_tv("googlenet", 3, 10, 64).eval(), (3, 64, 64))
    assert "inception3a.branch2.1" in [l.name for l in googlenet.layers]


def test_unknown_layer_lists_valid_names():
    graph = graph_of("zf")
    with pytest.raises(LayerError, match="'features.conv9'.*features.relu2"):
        graph.select(["features.conv9"])
    assert [l.name for l in graph.select(["features.conv2"])] == ["features.conv2"]


def gradient_support(model, layer_name, channels, size, y, x):
    """Input pixels with a non-zero gradient of unit (:, y, x) of the layer."""
    captured = {}
    module = model.get_submodule(layer_name)
    handle = module.register_forward_hook(lambda m, i, o: captured.__setitem__("out", o))
    image = torch.randn(1, channels, size, size, dtype=torch.float64, requires_grad=True)
    model(image)
    handle.remove()
    captured["out"][0, :, y, x].sum().backward()
    return image.grad[0].abs().sum(0) > 0


def leaky_relus(model):
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.ReLU):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, nn.LeakyReLU(0.1))


@pytest.mark.parametrize("arch,params", [
    ("zf", {"widths": [4, 6, 8]}), ("resnet", {"widths": [4, 8, 8], "blocks": 2}), ("vgg", {"width_scale": 0.05}),
    ("lenet", {}),
])
def test_gradient_vanishes_outside_the_box(arch, params):
    torch.manual_seed(1)
    model = build_model(arch, 1, 10, 28, params).double().eval()
    graph = ModelGraph(model, (1, 28, 28))
    leaky_relus(model)  # a dead ReLU would hide pixels; leaky ones keep every path open
    for layer in graph.layers:
        if not layer.spatial:
            continue
        h, w = layer.shape[1:]
        for y, x in ((0, 0), (h // 2, w // 2), (h - 1, w - 1)):
            support = gradient_support(model, layer.name, 1, 28, y, x)
            y0, x0, y1, x1 = layer.receptive_field.box(y, x, 28, 28)
            inside = torch.zeros_like(support)
            inside[y0:y1, x0:x1] = True
            assert support.any(), (layer.name, y, x)
            assert not (support & ~inside).any(), f"{arch} {layer.name} ({y},{x}) sees outside {y0, x0, y1, x1}"


def test_box_is_tight_on_a_linear_chain():
    """Without ReLUs or max pools every pixel of the box matters: the support equals the box."""
    torch.manual_seed(2)
    model = nn.Sequential(OrderedDict([
        ("c1", nn.Conv2d(1, 3, 3, padding=1)), ("p1", nn.AvgPool2d(2)),
        ("c2", nn.Conv2d(3, 3, 5, stride=2, padding=2, dilation=1)), ("c3", nn.Conv2d(3, 2, 3, dilation=2, padding=2)),
    ])).double().eval()
    graph = ModelGraph(model, (1, 40, 40))
    layer = graph.layer("c3")
    for y, x in ((0, 0), (3, 4), (9, 9)):
        support = gradient_support(model, "c3", 1, 40, y, x)
        y0, x0, y1, x1 = layer.receptive_field.box(y, x, 40, 40)
        box = torch.zeros_like(support)
        box[y0:y1, x0:x1] = True
        assert torch.equal(support, box)


class SharedActivationBlock(nn.Module):
    """EfficientNet-Lite's block: one ReLU6 module used after the expansion and the depthwise conv,
    a linear projection, a shortcut sum; no module's output is any of its activations."""

    def __init__(self, channels):
        super().__init__()
        self.expand = nn.Conv2d(channels, 2 * channels, 1)
        self.depthwise = nn.Conv2d(2 * channels, 2 * channels, 3, padding=1, groups=2 * channels)
        self.project = nn.Conv2d(2 * channels, channels, 1)
        self.act = nn.ReLU6()

    def forward(self, x):
        return self.project(self.act(self.depthwise(self.act(self.expand(x))))) + x


def test_an_activation_module_used_twice_in_a_block_names_the_block():
    model = nn.Sequential(OrderedDict(
        stem=nn.Conv2d(3, 4, 3), stem_act=nn.ReLU6(),
        blocks=nn.Sequential(SharedActivationBlock(4), SharedActivationBlock(4)),
        pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(4, 2))).eval()
    graph = ModelGraph(model, (3, 12, 12))
    assert [(l.name, l.kind) for l in graph.layers] == [("stem_act", "conv"), ("blocks.0", "block"), ("blocks.1", "block")]


class GatedResidualBlock(nn.Module):
    """A home-made block: conv, batch norm, SiLU, conv, batch norm, a squeeze-and-excitation gate,
    then a residual sum and a GELU, the block's output."""

    def __init__(self, channels):
        super().__init__()
        self.conv1, self.bn1, self.act1 = nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.SiLU()
        self.conv2, self.bn2 = nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels)
        self.squeeze, self.excite = nn.Conv2d(channels, 2, 1), nn.Conv2d(2, channels, 1)
        self.out = nn.GELU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        gate = torch.sigmoid(self.excite(torch.relu(self.squeeze(y.mean((2, 3), keepdim=True)))))
        return self.out(x + y * gate)


def test_a_gated_residual_block_output_is_a_default_layer_and_skipped_convs_are_named():
    model = nn.Sequential(OrderedDict(
        stem=nn.Conv2d(3, 4, 3), stem_act=nn.SiLU(), block=GatedResidualBlock(4),
        blocks=nn.Sequential(SharedActivationBlock(4)), pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(),
        fc=nn.Linear(4, 2))).eval()
    graph = ModelGraph(model, (3, 12, 12))
    assert [(l.name, l.kind) for l in graph.layers] == [
        ("stem_act", "conv"), ("block.act1", "conv"), ("block", "block"), ("blocks.0", "block")]
    # the gate's own convs are not layers; a linear bottleneck's projection reaches no activation
    assert graph.unanalysed_convs == ["blocks.0.project"]
