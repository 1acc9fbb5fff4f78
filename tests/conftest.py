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
