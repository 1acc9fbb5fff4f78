"""Shared fixtures: tiny configs and a runner for the real Snakefile."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def tiny_config() -> dict:
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
        "occlusion": {"images_per_class": 1, "windows": [3, 5], "stride": 2},
        "correspondence": {"class": "disc", "images": 3, "parts": {"top": [0, 4, 5, 12], "middle": [0.3, 0.3, 0.7, 0.7]},
                           "random_draws": 2},
        "invariance": {"images": 2, "translation": [-2, 0, 2], "rotation": [0, 90, 180], "scale": [0.8, 1.0, 1.2]},
        "feature_maps": {"images": 4},
        "probe": {"train_images": 100, "test_images": 64},
        "maximise": {"steps": 4, "octaves": 2, "class_steps": 4, "from_top1": {"steps": 2}},
        "transfer": {"models": ["tiny"], "source_classes": [0, 1], "target_classes": [2, 3], "shots": [1, 5],
                     "draws": 2, "epochs": 1, "scratch_steps": 10},
        "variants": {"tiny": {"epochs": 1, "models": {"wide": {"widths": [6, 8]}, "one_conv": {"widths": [4]}}}},
        "site": {"epochs": "all"},
    }


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the project's Snakefile in ``workdir`` (which holds config.yaml)."""
    command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def write_config(tmp_path):
    def write(config: dict) -> Path:
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        return tmp_path

    return write
