"""End-to-end: bad input as a user meets it. The first line the terminal shows names the thing at
fault; tracebacks stay in the job's log unless debug is on; Ctrl-C keeps what finished and says so."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml

from tests.conftest import REPO, SNAKEMAKE

pytestmark = pytest.mark.e2e

MODULE = '''
from torch import nn


class Net(nn.Module):
    def __init__(self, classes=2):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, classes))

    def forward(self, x):
        return self.head(self.features(x))
'''


@pytest.fixture
def own_photos(tmp_path):
    """A user's folder: their module, RGB JPEGs in two class folders and one greyscale photo among them."""
    from PIL import Image

    (tmp_path / "badnets.py").write_text(MODULE)
    rng = np.random.default_rng(0)
    for i in range(8):
        folder = tmp_path / "photos" / ("cats" if i % 2 else "dogs")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(folder / f"{i}.jpg")
    Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8), "L").save(tmp_path / "photos/cats/grey.jpg")
    config = {"datasets": {"photos": {"kind": "imagefolder", "root": "photos", "image_size": 32}},
              "models": {"mine": {"arch": "badnets:Net", "dataset": "photos", "epochs": 0}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def first_convatlas_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("convatlas:"))


def test_a_truncated_jpeg_stops_the_run_naming_the_file(own_photos, run_snakemake):
    """It stops rather than skips (every job must see the same images); the file is named first."""
    jpeg = own_photos / "photos/cats/3.jpg"
    jpeg.write_bytes(jpeg.read_bytes()[:400])
    result = run_snakemake(own_photos, "--cores", "2", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    line = first_convatlas_line(output)
    assert line.startswith("convatlas: cannot read image photos/cats/3.jpg") and "remove it, then rerun" in line
    assert "Traceback" not in output and "full traceback in logs/train/mine-0.log" in output
    assert "Traceback" in (own_photos / "logs/train/mine-0.log").read_text()
    debug = run_snakemake(own_photos, "--cores", "2", "--config", "debug=True", check=False)
    assert debug.returncode != 0 and "Traceback (most recent call last)" in debug.stdout + debug.stderr


def test_a_wrongly_shaped_weights_file_is_named_with_what_does_not_fit(own_photos, run_snakemake):
    sys.path.insert(0, str(own_photos))
    try:
        from badnets import Net
    finally:
        sys.path.remove(str(own_photos))
    state = Net().state_dict()
    state["features.0.weight"] = torch.zeros(5, 3, 3, 3)
    torch.save(state, own_photos / "weights.pt")
    config = yaml.safe_load((own_photos / "config.yaml").read_text())
    config["models"]["mine"]["weights"] = "weights.pt"
    (own_photos / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(own_photos, "--cores", "2", check=False)
    line = first_convatlas_line(result.stdout + result.stderr)
    assert line.startswith("convatlas: config key models.mine.weights: weights file weights.pt does not fit the model")
    assert "features.0.weight (5, 3, 3, 3) vs (4, 3, 3, 3)" in line


def test_ctrl_c_keeps_what_finished_and_a_rerun_goes_on_from_there(own_photos):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while the index job runs: no
    traceback, one line on what was kept; the rerun redoes neither the loading nor the checkpoint."""
    command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(own_photos), "--cores", "2"]

    def start_session():
        os.setpgrp()
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    run = subprocess.Popen(command, cwd=own_photos, preexec_fn=start_session, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    index_log = own_photos / "logs/index/mine-0.log"
    deadline = time.monotonic() + 120
    while not index_log.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert index_log.exists(), "the index job never started"
    os.killpg(run.pid, signal.SIGINT)
    output, _ = run.communicate(timeout=120)
    assert run.returncode != 0 and "Traceback" not in output
    assert "convatlas stopped: 2 job(s) of this run finished and are kept" in output  # train, publish_checkpoint
    assert (own_photos / "results/mine/checkpoints/epoch-0.pt").is_file()
    assert not (own_photos / "results/mine/epoch-0/index.parquet").exists()  # nothing half-written
    checkpoint_time = (own_photos / "results/mine/checkpoints/epoch-0.pt").stat().st_mtime
    again = subprocess.run(command, cwd=own_photos, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "rule train:" not in again.stdout + again.stderr and "rule publish_checkpoint:" not in again.stdout + again.stderr
    assert (own_photos / "results/mine/checkpoints/epoch-0.pt").stat().st_mtime == checkpoint_time
    assert (own_photos / "site/models/mine/index.html").is_file()
