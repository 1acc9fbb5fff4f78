"""Architectures beyond plain ReLU nets: every stage's analysis runs on a few 64 px images of a
torchvision ResNet-18, MobileNetV3-small (Hardswish, squeeze-and-excitation), GoogLeNet (Inception
concatenations) and an EfficientNet-style block (depthwise conv, SiLU, squeeze-and-excitation)."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from convatlas.analyses.ablation import channel_ablation
from convatlas.analyses.attribution import attributions
from convatlas.analyses.correspondence import correspondence_pairs, summarise_pairs
from convatlas.analyses.deconv import project_top_k
from convatlas.analyses.index import build_index
from convatlas.analyses.invariance import invariance
from convatlas.analyses.linear_probes import pooled_features
from convatlas.analyses.maximise import maximise_channels
from convatlas.analyses.occlusion import default_layer, occlude
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.transforms import normalise
from convatlas.jobs.maximise import maximise_settings
from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph

from ..artifacts import small_meta

MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


class MBConv(nn.Module):
    """EfficientNet's block: expand, depthwise, squeeze-and-excitation, project, shortcut."""

    def __init__(self, channels, expand=4):
        super().__init__()
        wide = channels * expand
        self.expand = nn.Sequential(nn.Conv2d(channels, wide, 1, bias=False), nn.BatchNorm2d(wide), nn.SiLU())
        self.depthwise = nn.Sequential(nn.Conv2d(wide, wide, 3, padding=1, groups=wide, bias=False), nn.BatchNorm2d(wide),
                                       nn.SiLU())
        self.squeeze = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(wide, 4, 1), nn.SiLU(), nn.Conv2d(4, wide, 1),
                                     nn.Sigmoid())
        self.project = nn.Sequential(nn.Conv2d(wide, channels, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        h = self.depthwise(self.expand(x))
        return x + self.project(h * self.squeeze(h))


def efficientnet_style():
    return nn.Sequential(OrderedDict([
        ("stem", nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.SiLU())),
        ("block", MBConv(8)), ("head", nn.Sequential(nn.Conv2d(8, 16, 1), nn.BatchNorm2d(16), nn.ReLU6())),
        ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(16, 4)),
    ]))


MODELS = {
    "resnet18": lambda: build_model("torchvision:resnet18", 3, 4, 64, {}),
    "mobilenet_v3_small": lambda: build_model("torchvision:mobilenet_v3_small", 3, 4, 64, {}),
    "googlenet": lambda: build_model("torchvision:googlenet", 3, 4, 64, {}),
    "efficientnet_style": efficientnet_style,
}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_stage_runs(name):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.running_var.uniform_(0.5, 1.5)
    generator = torch.Generator().manual_seed(1)
    images = TensorImageSet(torch.randint(0, 256, (6, 3, 64, 64), generator=generator, dtype=torch.uint8),
                            torch.tensor([0, 1, 2, 3, 0, 1]), ["a", "b", "c", "d"], "random")
    graph = ModelGraph(model, (3, 64, 64))
    layers = graph.layers
    assert len(layers) >= 2, [layer.name for layer in layers]
    first, last = layers[0].name, default_layer(graph)
    index, stats, _ = build_index(model, layers, ModelInputs(images, MEAN, STD, show_progress=False), k=2)
    assert set(index.layer) == {layer.name for layer in layers} and len(stats) == sum(layer.channels for layer in layers)
    for layer in (first, last):
        alive = stats[stats.layer == layer].sort_values("max", ascending=False).channel.head(2).tolist()
        projections = project_top_k(model, layer, index, ModelInputs(images, MEAN, STD, show_progress=False), methods=['deconvnet', 'guided'], channels=alive)
        assert np.isfinite(projections.pictures["deconvnet"]).all() and np.abs(projections.pictures["guided"]).max() > 0, layer
        assert projections.channels.tolist() == sorted(alive)
    inputs = normalise(images.images(torch.arange(2)), MEAN, STD)
    maps = occlude(model, inputs, [0, 1], window=16, stride=16, layer=last, graph=graph)
    assert maps.probability.shape == (2, 4, 4) and torch.isfinite(maps.activity).all()
    table = channel_ablation(model, last, ModelInputs(images, MEAN, STD, show_progress=False), graph=graph, channels=[0, 1])
    assert table.channel.tolist() == [0, 1] and table.accuracy.between(0, 1).all()
    meta = small_meta(image_size=64, in_channels=3, mean=MEAN, std=STD)
    images_max = maximise_channels(model, meta, last, [0, 1], maximise_settings({"steps": 2, "octaves": 1}, 64))
    assert images_max["noise"].shape == (2, 64, 64, 3) and np.isfinite(images_max["after"]).all()
    maps = attributions(model, inputs, torch.tensor([0, 1]), last)
    assert maps["gradcam"].shape == (2, 64, 64) and torch.isfinite(maps["guided"]).all()
    delta = summarise_pairs(correspondence_pairs(model, [first, last], inputs, {"middle": (16, 16, 48, 48)}, random_draws=1))
    assert delta.delta.between(0, 1).all()
    table, _ = invariance(model, images.images(torch.arange(2)), [0, 1], MEAN, STD, (first, last), {"rotation": [0, 30]})
    assert table.probability.between(0, 1).all()
    features = pooled_features(model, [first, last], ModelInputs(images, MEAN, STD))
    assert features[last].shape == (6, graph.layer(last).channels)
