"""Occlusion's defaults at photo sizes on a CPU: the light auto settings (2 windows, 14 x 14 positions)
against the full ones (4 windows, 28 x 28 positions), in one process, on one model.

The model is a home-made 224 px net like a user's (conv, batch norm, SiLU/GELU, squeeze-and-
excitation, residual sums; 29k parameters, random weights: the timing does not depend on them);
``--images`` random 224 px images. Prints each setting's seconds, forward passes, and the ratio.

    .venv/bin/python bench/occlusion_defaults.py --images 2 --threads 2
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from convatlas.analyses.occlusion import occlusion_study
from convatlas.core.schema import with_defaults
from convatlas.nn.graph import ModelGraph
from convatlas.workflow.input_scaling import occlusion_positions, resolved_occlusion


class Gated(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1, self.act = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.SiLU()
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.squeeze, self.excite, self.out = nn.Conv2d(c, c // 4, 1), nn.Conv2d(c // 4, c, 1), nn.GELU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))
        return self.out(x + y * torch.sigmoid(self.excite(torch.relu(self.squeeze(y.mean((2, 3), keepdim=True))))))


def home_net(width: int = 16, classes: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.SiLU(), Gated(width),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.BatchNorm2d(2 * width), nn.GELU(), Gated(2 * width),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, classes)).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = home_net()
    graph = ModelGraph(model, (3, 224, 224))
    images = torch.randn(args.images, 3, 224, 224)
    labels = torch.arange(args.images) % 3
    block = {**with_defaults({}, "properties", "occlusion"), "batch_size": 64}
    seconds = {}
    for name, light in (("light (CPU default)", True), ("full (GPU default)", False)):
        settings = resolved_occlusion(block, 224, light)
        passes = args.images * len(settings["windows"]) * occlusion_positions(224, settings["stride"])
        start = time.perf_counter()
        occlusion_study(model, graph, images, labels, settings["windows"], settings["stride"], settings["layer"],
                        settings["fill"], settings["method"], settings["batch_size"])
        seconds[name] = time.perf_counter() - start
        print(f"{name}: windows {settings['windows']} stride {settings['stride']}: {passes:,} forward passes, "
              f"{seconds[name]:.1f} s")
    light, full = seconds.values()
    print(f"full / light: {full / light:.1f}x ({args.images} images at 224 px, {args.threads} threads)")


if __name__ == "__main__":
    main()
