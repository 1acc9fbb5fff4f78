"""What the job tests share: Snakemake-like file namespaces, a tiny validated config, and a tiny ZF net
trained by the train job's own code (so its checkpoints carry the meta a trained checkpoint carries)."""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from convatlas import results
from convatlas.data.datasets import load_dataset
from convatlas.data.spec import DatasetSpec
from convatlas.jobs.train import train_and_save
from convatlas.site.linkcheck import broken_references
from convatlas.workflow.config import validate_config
from convatlas.workflow.datasets import dataset_spec

from ..conftest import REPO

MODEL, DATASET = "tiny", "shapes"
EPOCHS = [1, 2]
TEMPLATES = str(REPO / "templates")


class Files(SimpleNamespace):
    """A rule's input or output as a job sees it: named files as attributes, and ``keys()`` as
    Snakemake's named lists have."""

    def keys(self):
        return list(vars(self))


def tiny_config(probes: dict[str, dict] | None = None) -> dict:
    """A validated config: a ZF net of conv widths 4 and 8 on 16 px synthetic shapes (64 train, 48 test),
    with ``probes`` (name -> dataset) as other probe datasets of the model."""
    return validate_config({
        "datasets": {DATASET: {"kind": "synthetic", "synthetic": {"size": 16, "classes": 4, "train_count": 64,
                                                                  "test_count": 48}}, **(probes or {})},
        "models": {MODEL: {"arch": "zf", "dataset": DATASET, "probe": list(probes or []), "epochs": EPOCHS[-1], "checkpoints": EPOCHS,
                           "batch_size": 16, "params": {"widths": [4, 8], "fc": [16]}, "optimizer": {"lr": 0.05}}},
        "analysis": {"top_k": 4, "batch_size": 16},
        "deconv": {"methods": ["deconvnet", "gradient_input"]},
        "occlusion": {"images_per_class": 1, "windows": [3, 5], "stride": 2},
        "correspondence": {"class": "disc", "images": 3, "parts": {"top": [0, 4, 5, 12], "middle": [0.3, 0.3, 0.7, 0.7]},
                           "random_draws": 2},
        "invariance": {"images": 2, "translation": [-2, 0, 2], "rotation": [0, 90, 180], "scale": [0.8, 1.0, 1.2]},
        "feature_maps": {"images": 3},
        "ablation": {"batch_size": 16, "experiments": {"named": {"channels": {"features.relu2": [0, 1]}},
                                                       "selective": {"top_selectivity": 2, "controls": 2},
                                                       "drawn": {"random": 2, "seed": 1}}},
        "linear_probes": {"train_images": 40, "test_images": 20},
        "maximise": {"steps": 6, "octaves": 1, "class_steps": 4, "from_top1": {"steps": 2}},
        "transfer": {"models": [MODEL], "source_classes": [0, 1], "target_classes": [2, 3], "shots": [1, 2],
                     "draws": 1, "epochs": 1, "scratch_steps": 5, "test_images": 10},
    })


@dataclass
class Trained:
    """A trained tiny model: its config, dataset and checkpoint per epoch, and its training log."""

    config: dict
    root: Path
    checkpoints: dict[int, str]
    train_log: str

    @property
    def dataset(self) -> dict:
        return self.config["datasets"][DATASET]

    @property
    def spec(self) -> DatasetSpec:
        """The dataset as the readers take it."""
        return dataset_spec(self.dataset, DATASET)

    @property
    def model(self) -> dict:
        return self.config["models"][MODEL]

    def path(self, relative: str) -> str:
        """A result path (from :mod:`convatlas.results`) below the test's folder, its folder made."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(path)


def train_tiny(root: Path, probes: dict[str, dict] | None = None) -> Trained:
    """Train the tiny model for two epochs with the train job's code; checkpoints at results' paths;
    ``probes``: its other probe datasets (see :func:`tiny_config`)."""
    config = tiny_config(probes)
    model, dataset = config["models"][MODEL], config["datasets"][DATASET]
    train, test = load_dataset(dataset_spec(dataset, DATASET))
    state = root / results.train_dir(MODEL)
    log = root / results.train_log(MODEL, EPOCHS[-1])
    train_and_save(MODEL, model, DATASET, dataset, train, test, EPOCHS, log, state)
    checkpoints = {}
    for epoch in EPOCHS:
        path = root / results.checkpoint(MODEL, epoch)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(state / f"epoch-{epoch}.pt", path)
        checkpoints[epoch] = str(path)
    return Trained(config, root, checkpoints, str(log))


@contextlib.contextmanager
def working_in(folder: Path):
    """Run in ``folder`` (page jobs write below ``site/`` of the working directory)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        yield folder


def page_params(trained: Trained, **more) -> SimpleNamespace:
    """What every page rule passes: templates, title, the dataset shown."""
    return SimpleNamespace(dataset=trained.dataset, dataset_name=DATASET, templates=TEMPLATES,
                           title=trained.config["site"]["title"], threads=1, **more)


def broken_links(site: Path, built: list[str]) -> list[str]:
    """The site's broken references, but for missing files outside what the test's page jobs built
    (``built``: site paths of the folders or files those jobs own; other jobs' pages and pictures are
    not there)."""
    def elsewhere(problem: str) -> bool:
        page, missing, reference = problem.partition(": missing ")
        if not missing:
            return False  # off-site, or a link to a folder
        target = os.path.relpath((site / page).parent / reference.split("#")[0], site)
        return not any(target == path or target.startswith(path.rstrip("/") + "/") for path in built)

    return [problem for problem in broken_references(site) if not elsewhere(problem)]


def meta_value(meta, key: str):
    """A checkpoint meta's value, whether the meta is a dict or typed (attributes)."""
    return meta[key] if isinstance(meta, dict) else getattr(meta, key)


def index_outputs(trained: Trained, epoch: int, feature_maps: bool = True) -> Files:
    """The index rule's outputs of a checkpoint, at their results paths."""
    outputs = Files(index=trained.path(results.index(MODEL, epoch)), stats=trained.path(results.channel_stats(MODEL, epoch)),
                    predictions=trained.path(results.predictions(MODEL, epoch)),
                    layers=trained.path(results.manifest(MODEL, epoch)))
    if feature_maps:
        outputs.feature_maps = trained.path(results.feature_maps(MODEL, epoch))
        outputs.levels = trained.path(results.levels(MODEL, epoch))
        outputs.facets = trained.path(results.facets(MODEL, epoch))
    return outputs


def index_params(trained: Trained, **more) -> SimpleNamespace:
    """The index rule's params (analysed layers: the default ones)."""
    analysis = trained.config["analysis"]
    values = {"dataset": trained.dataset, "probe": DATASET, "layers": None, "top_k": analysis["top_k"],
              "ranking": analysis["ranking"], "facet_examples": analysis["facet_examples"], "batch_size": analysis["batch_size"],
              "feature_map_images": trained.config["feature_maps"]["images"], "device": "cpu", "threads": 1}
    return SimpleNamespace(**(values | more))


def run_index_job(trained: Trained, epoch: int) -> Files:
    """Run the index job on a checkpoint; its outputs."""
    from convatlas.jobs.index import run_index

    outputs = index_outputs(trained, epoch)
    run_index(Files(checkpoint=trained.checkpoints[epoch]), outputs, index_params(trained))
    return outputs


def photo_folder(root: Path, classes=("cat", "dog"), per_class: int = 3, side: int = 30) -> Path:
    """An image folder of random RGB photos (a test split of ``per_class`` images per class)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in classes:
        folder = root / "test" / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return root
