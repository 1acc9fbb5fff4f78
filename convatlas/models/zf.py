"""A Zeiler & Fergus-style network scaled to 28-32 px inputs.

ZF's ImageNet net is conv(7x7/2) - pool(3/2) - conv(5x5/2) - pool(3/2) - conv3 - conv4 - conv5 -
pool - fc6 - fc7 - softmax. For small images the strides shrink and the widths are configurable;
each ReLU is a module of its own so every rectified output has a name.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from .families import register_model


@register_model("zf")
class ZFNet(nn.Module):
    """Conv stages (conv - ReLU - overlapping 3x3/2 max pool) followed by ReLU fully connected layers."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        image_size: int,
        widths: Sequence[int] = (32, 64, 128),
        fc: Sequence[int] = (256,),
        first_kernel: int = 5,
        dropout: float = 0.3,
    ):
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels, size = in_channels, image_size
        for i, width in enumerate(widths, start=1):
            kernel = first_kernel if i == 1 else 3
            layers[f"conv{i}"] = nn.Conv2d(channels, width, kernel, padding=kernel // 2)
            layers[f"relu{i}"] = nn.ReLU()
            layers[f"pool{i}"] = nn.MaxPool2d(3, stride=2, padding=1)
            channels, size = width, (size - 1) // 2 + 1
        self.features = nn.Sequential(layers)
        head: OrderedDict[str, nn.Module] = OrderedDict()
        inputs = channels * size * size
        for i, units in enumerate(fc, start=1):
            head[f"fc{i}"] = nn.Linear(inputs, units)
            head[f"fc{i}_relu"] = nn.ReLU()
            if dropout:
                head[f"fc{i}_dropout"] = nn.Dropout(dropout)
            inputs = units
        head["out"] = nn.Linear(inputs, num_classes)
        self.classifier = nn.Sequential(head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def zf(in_channels: int, num_classes: int, image_size: int, **params) -> ZFNet:
    return ZFNet(in_channels, num_classes, image_size, **params)
