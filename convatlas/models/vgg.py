"""A VGG16-style network for small inputs: stacks of 3x3 convs with batch norm, 2x2 max pools."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from .families import register_model

VGG16_STAGES = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


@register_model("vgg")
class VGG(nn.Module):
    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        image_size: int,
        stages: Sequence[Sequence[int]] = VGG16_STAGES,
        width_scale: float = 1.0,
        fc: int = 512,
        batch_norm: bool = True,
        dropout: float = 0.5,
    ):
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels, size = in_channels, image_size
        for s, stage in enumerate(stages, start=1):
            for c, width in enumerate(stage, start=1):
                width = max(1, int(round(width * width_scale)))
                layers[f"conv{s}_{c}"] = nn.Conv2d(channels, width, 3, padding=1)
                if batch_norm:
                    layers[f"bn{s}_{c}"] = nn.BatchNorm2d(width)
                layers[f"relu{s}_{c}"] = nn.ReLU()
                channels = width
            if size >= 2:
                layers[f"pool{s}"] = nn.MaxPool2d(2)
                size //= 2
        self.features = nn.Sequential(layers)
        self.classifier = nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(channels * size * size, fc)), ("fc1_relu", nn.ReLU()), ("fc1_dropout", nn.Dropout(dropout)),
            ("out", nn.Linear(fc, num_classes)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def vgg(in_channels: int, num_classes: int, image_size: int, **params) -> VGG:
    return VGG(in_channels, num_classes, image_size, **params)
