"""Occlusion maps equal the naive computation (one occluded copy through the whole network at a time)."""
import math
from collections import OrderedDict

import pytest
import torch
from torch import nn

from convatlas.analyses.occlusion import IncrementalPlan, occlude
from convatlas.core.errors import LayerError
from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph


def naive(model, images, targets, window, stride, layer, fill):
    """A square per position built by hand, each copy through the whole model alone."""
    module = model.get_submodule(layer)
    captured = {}
    handle = module.register_forward_hook(lambda m, i, o: captured.__setitem__("out", o))
    n, _, h, w = images.shape
    gh, gw = math.ceil(h / stride), math.ceil(w / stride)
    activity = torch.zeros(n, gh, gw, dtype=torch.float64)
    probability = torch.zeros(n, gh, gw)
    predicted = torch.zeros(n, gh, gw, dtype=torch.long)
    with torch.no_grad():
        model(images[:1])
        for i in range(n):
            model(images[i:i + 1])
            channel = int(captured["out"][0].flatten(1).amax(1).argmax())
            for gy, cy in enumerate(range(0, h, stride)):
                for gx, cx in enumerate(range(0, w, stride)):
                    copy = images[i:i + 1].clone()
                    for y in range(h):
                        for x in range(w):
                            if cy - window // 2 <= y < cy - window // 2 + window and cx - window // 2 <= x < cx - window // 2 + window:
                                copy[0, :, y, x] = fill
                    probs = model(copy).softmax(dim=1)[0]
                    activity[i, gy, gx] = captured["out"][0, channel].double().sum()
                    probability[i, gy, gx] = probs[targets[i]]
                    predicted[i, gy, gx] = probs.argmax()
    handle.remove()
    return activity.float(), probability, predicted


def check(model, images, targets, window, stride, layer=None, fill=0.0, methods=("batched", "incremental")):
    model.eval()
    graph = ModelGraph(model, tuple(images.shape[1:]))
    for method in methods:
        maps = occlude(model, images, targets, window, stride, layer, fill, method=method, batch_size=13, graph=graph)
        expected = naive(model, images, targets, window, stride, maps.layer, fill)
        assert maps.activity.shape == (len(images), math.ceil(images.shape[2] / stride), math.ceil(images.shape[3] / stride))
        assert torch.allclose(maps.activity, expected[0], rtol=1e-5, atol=1e-5), (method, (maps.activity - expected[0]).abs().max())
        assert torch.allclose(maps.probability, expected[1], rtol=1e-5, atol=1e-6), method
        assert torch.equal(maps.predicted, expected[2]), method


@pytest.mark.parametrize("window,stride", [(5, 1), (8, 3), (3, 2)])
def test_zf_incremental_and_batched_equal_naive(window, stride):
    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, {"widths": [4, 6, 8], "fc": [10]})
    images = torch.randn(2, 1, 16, 16)
    check(model, images, [1, 3], window, stride)


def test_vgg_with_batch_norm_and_a_chosen_layer():
    torch.manual_seed(1)
    model = build_model("vgg", 3, 5, 16, {"stages": [[4], [6, 6], [8]], "fc": 12}).eval()
    for bn in [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.3, 0.3)
        bn.running_var.uniform_(0.5, 1.5)
    check(model, torch.randn(1, 3, 16, 16), [2], 4, 2, layer="features.relu2_1", fill=0.5)


def test_ceil_mode_pools_and_average_pools():
    torch.manual_seed(2)
    model = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(2, 3, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ("conv2", nn.Conv2d(3, 4, 3, stride=2, dilation=2, padding=2)), ("relu2", nn.ReLU()), ("pool2", nn.AvgPool2d(2)),
        ("flat", nn.Flatten()), ("fc", nn.Linear(16, 3)),
    ]))
    images = torch.randn(2, 2, 15, 15)
    out = model(images)
    assert out.shape == (2, 3)
    check(model, images, [0, 2], 5, 2, layer="relu2")


def test_relu6_leaky_relu_and_depthwise_convs_run_incrementally():
    torch.manual_seed(4)
    model = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 6, 3, padding=1)), ("bn1", nn.BatchNorm2d(6)), ("relu1", nn.ReLU6()),
        ("dw", nn.Conv2d(6, 6, 3, stride=2, padding=1, groups=6)), ("relu2", nn.LeakyReLU(0.1)),
        ("pw", nn.Conv2d(6, 8, 1)), ("relu3", nn.ReLU6()),
        ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(8, 4)),
    ])).eval()
    model.bn1.running_mean.uniform_(-0.3, 0.3)
    plan = IncrementalPlan(model, ModelGraph(model, (3, 16, 16)), "relu3")
    assert plan.usable, plan.reason
    check(model, torch.randn(2, 3, 16, 16) * 2, [0, 3], 5, 2, layer="relu3")


def test_resnet_falls_back_to_batched_and_says_why_incremental_cannot():
    torch.manual_seed(3)
    model = build_model("resnet", 1, 4, 12, {"widths": [4, 6], "blocks": 1}).eval()
    images = torch.randn(1, 1, 12, 12)
    check(model, images, [1], 3, 2, methods=("auto",))
    with pytest.raises(LayerError, match="ends before 'layer2.0'"):
        occlude(model, images, [1], 3, 2, method="incremental")
    plan = IncrementalPlan(model, ModelGraph(model, (1, 12, 12)), "relu")
    assert plan.usable and [s.node.target for s in plan.steps] == ["conv1", "bn1", "relu"]


def test_bad_window_and_layer_are_named():
    model = build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]})
    images = torch.randn(1, 1, 16, 16)
    with pytest.raises(ValueError, match="window 17 does not fit images of 16x16"):
        occlude(model, images, [0], 17)
    with pytest.raises(LayerError, match="classifier.fc1_relu"):
        occlude(model, images, [0], 3, layer="classifier.fc1_relu")
