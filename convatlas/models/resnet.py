"""A CIFAR-style ResNet (He et al. 2016, section 4.2): three stages of basic shortcut blocks."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .families import register_model


class BasicBlock(nn.Module):
    """conv-bn-relu-conv-bn, plus a shortcut (identity or 1x1 conv-bn), then relu.

    Each ReLU is its own module, so ``relu1`` names the rectified output of the first conv and the
    block's own name names its output after the final ReLU.
    """

    def __init__(self, in_channels: int, channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False), nn.BatchNorm2d(channels)
            )
        else:
            self.shortcut = nn.Identity()
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        trunk = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(trunk + self.shortcut(x))


@register_model("resnet")
class CifarResNet(nn.Module):
    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        image_size: int,
        widths: Sequence[int] = (16, 32, 64),
        blocks: int = 3,
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        channels = widths[0]
        self.stage_names = []
        for s, width in enumerate(widths, start=1):
            stage = []
            for b in range(blocks):
                stage.append(BasicBlock(channels, width, 2 if s > 1 and b == 0 else 1))
                channels = width
            setattr(self, f"layer{s}", nn.Sequential(*stage))
            self.stage_names.append(f"layer{s}")
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(self.pool(x), 1))


def resnet(in_channels: int, num_classes: int, image_size: int, **params) -> CifarResNet:
    return CifarResNet(in_channels, num_classes, image_size, **params)
