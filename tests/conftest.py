"""Shared fixtures: tiny configs and a runner for the real Snakefile."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
TIED_MEAN, TIED_STD = [0.3], [0.3]  # the normalisation of tied_probe
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def _tiny_config() -> dict:
    """Two tiny models on the synthetic dataset: seconds to train, every stage exercised."""
    return {
        "datasets": {
            "shapes": {"kind": "synthetic", "synthetic": {"size": 16, "classes": 4, "train_count": 256, "test_count": 64}},
        },
        "models": {
            "tiny": {"arch": "zf", "dataset": "shapes", "epochs": 2, "checkpoints": [1, 2], "batch_size": 32,
                     "params": {"widths": [4, 8], "fc": [16]}, "optimizer": {"lr": 0.05}},
            "tres": {"arch": "resnet", "dataset": "shapes", "epochs": 1, "batch_size": 32,
                     "params": {"widths": [4, 8], "blocks": 1}},
        },
        "analysis": {"batch_size": 64},
        "deconv": {"methods": ["deconvnet", "guided", "gradient_input", "relevance"]},  # every kind of picture
        "occlusion": {"images_per_class": 1, "windows": [3, 5], "stride": 2},
        "correspondence": {"class": "disc", "images": 3, "parts": {"top": [0, 4, 5, 12], "middle": [0.3, 0.3, 0.7, 0.7]},
                           "random_draws": 2},
        "invariance": {"images": 2, "translation": [-2, 0, 2], "rotation": [0, 90, 180], "scale": [0.8, 1.0, 1.2]},
        "feature_maps": {"images": 4},
        "ablation": {},  # the default experiment, on all 64 images
        "linear_probes": {"train_images": 100, "test_images": 64},
        "maximise": {"steps": 4, "octaves": 2, "class_steps": 4, "from_top1": {"steps": 2}},
        "transfer": {"models": ["tiny"], "source_classes": [0, 1], "target_classes": [2, 3], "shots": [1, 5],
                     "draws": 2, "epochs": 1, "scratch_steps": 10},
        "variants": {"tiny": {"epochs": 1, "models": {"wide": {"widths": [6, 8]}, "one_conv": {"widths": [4]}}}},
        "site": {"epochs": "all"},
    }


@pytest.fixture
def tied_probe():
    """70 synthetic 16 px images of 4 classes; images 40-49 duplicate 0-9 (exact ties)."""
    from convatlas.data.datasets import TensorImageSet
    from convatlas.data.synthetic import make_synthetic

    images, labels, classes = make_synthetic(70, 16, 1, 4, seed=3)
    images[40:50] = images[0:10]
    labels[40:50] = labels[0:10]
    return TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "probe")


@pytest.fixture
def tied_zf():
    """A tiny seeded ZF net for 16 px images with a dead channel in relu1 and a dead unit in fc1."""
    from convatlas.models import build_model

    torch.manual_seed(0)
    model = build_model("zf", 1, 4, 16, {"widths": [5, 6], "fc": [7]}).eval()
    with torch.no_grad():
        model.features.conv1.bias[2] = -1e4  # channel 2 of relu1 is never positive: all ties at 0
        model.classifier.fc1.bias[1] = -1e4
    return model


def _pictures_of(images) -> SimpleNamespace:
    """A torch ImageSet seen as page jobs see the analysed split (:class:`convatlas.data.Pictures`)."""
    return SimpleNamespace(classes=images.classes, size=images.size[0], labels=images.labels.numpy(),
                           images=lambda indices: images.images(torch.as_tensor(np.asarray(indices))).numpy(),
                           name=lambda index: f"image {int(index)}")


def _run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the project's Snakefile in ``workdir`` (which holds config.yaml)."""
    command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository's root (Snakefile, templates/)."""
    return REPO


@pytest.fixture
def write_config(tmp_path):
    def write(config: dict) -> Path:
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture(scope="session")
def tiny_config():
    """A factory of the tiny config: two tiny models on the synthetic dataset, every stage exercised."""
    return _tiny_config


@pytest.fixture(scope="session")
def pictures_of():
    """Turns a torch ImageSet into the pictures page jobs see."""
    return _pictures_of


@pytest.fixture(scope="session")
def run_snakemake():
    """Runs the project's Snakefile in a working directory holding config.yaml."""
    return _run_snakemake


@pytest.fixture(scope="session")
def tied_normalisation():
    """(mean, std) of tied_probe."""
    return TIED_MEAN, TIED_STD
