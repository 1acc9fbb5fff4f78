"""Job entry points: start-up is recorded, page jobs and publishing never import torch."""
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from convatlas.core.errors import CheckpointError
from convatlas.jobs.train import run_publish_checkpoint
from convatlas.models import build_model
from convatlas.models.checkpoint import save_checkpoint


def imported_after(code: str) -> set[str]:
    """The slow-to-import libraries a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in ('torch', 'torchvision', 'pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(eval(out))  # noqa: S307 - our own printed list


def test_site_and_page_jobs_do_not_import_torch():
    loaded = imported_after(
        "import convatlas, convatlas.site.pages.layer, convatlas.site.pages.analyses, convatlas.site.pages.ablation, "
        "convatlas.site.pages.compare, convatlas.site.pages.feature_maps, convatlas.site.pages.overview, "
        "convatlas.site.linkcheck, convatlas.data, convatlas.jobs.site, convatlas.jobs.analyses, convatlas.jobs.ablation, "
        "convatlas.jobs.compare, convatlas.jobs.maximise, convatlas.jobs.train, convatlas.workflow.config")
    assert "torch" not in loaded and "torchvision" not in loaded


def test_publishing_needs_neither_torch_nor_pandas():
    assert imported_after("from convatlas.jobs.train import run_publish_checkpoint") == set()


def test_publish_checkpoint_job_copies_a_checked_checkpoint(tmp_path):
    model = build_model("zf", 1, 4, 16, {"widths": [4], "fc": [8]})
    meta = {"arch": "zf", "params": {"widths": [4], "fc": [8]}, "dataset": "d", "classes": list("abcd"),
            "in_channels": 1, "image_size": 16, "epoch": 1, "mean": [0.5], "std": [0.2]}
    save_checkpoint(tmp_path / "stash.pt", model, meta)
    target = tmp_path / "checkpoints" / "epoch-1.pt"
    run_publish_checkpoint(SimpleNamespace(), SimpleNamespace(checkpoint=str(target)),
                           SimpleNamespace(stashed=str(tmp_path / "stash.pt"), threads=1))
    assert target.read_bytes() == (tmp_path / "stash.pt").read_bytes()
    torch.save({"format": "something-else"}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a convatlas checkpoint"):
        run_publish_checkpoint(SimpleNamespace(), SimpleNamespace(checkpoint=str(tmp_path / "x.pt")),
                               SimpleNamespace(stashed=str(tmp_path / "foreign.pt"), threads=1))
    assert not (tmp_path / "x.pt").exists()
