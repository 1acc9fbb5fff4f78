"""LeNet-5 (LeCun et al. 1998) with ReLU and max pooling."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .families import register_model


@register_model("lenet")
class LeNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, image_size: int, widths=(6, 16), fc=(120, 84)):
        super().__init__()
        c1, c2 = widths
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, c1, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(c1, c2, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ]))
        size = ((image_size // 2) - 4) // 2
        if size < 1:
            raise ValueError(f"lenet needs inputs of at least 12 px, got {image_size}")
        self.classifier = nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(c2 * size * size, fc[0])), ("fc1_relu", nn.ReLU()),
            ("fc2", nn.Linear(fc[0], fc[1])), ("fc2_relu", nn.ReLU()),
            ("out", nn.Linear(fc[1], num_classes)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def lenet(in_channels: int, num_classes: int, image_size: int, **params) -> LeNet:
    return LeNet(in_channels, num_classes, image_size, **params)
