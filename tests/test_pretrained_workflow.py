"""End-to-end: a model from the user's own code with its own weights, analysed as loaded (epochs: 0)
through every stage of the real Snakefile."""
import pytest
import torch
import yaml

from convatlas.site.linkcheck import broken_references

pytestmark = pytest.mark.e2e

MODULE = '''
from collections import OrderedDict

from torch import nn


class SmallNet(nn.Module):
    """A user's own CNN: not in convatlas's registry."""

    def __init__(self, width=4, classes=4, in_channels=1):
        super().__init__()
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(in_channels, width, 3, padding=1), relu1=nn.ReLU(), pool=nn.MaxPool2d(2),
            conv2=nn.Conv2d(width, 2 * width, 3, padding=1), relu2=nn.ReLU()))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, classes))

    def forward(self, x):
        return self.head(self.features(x))
'''


@pytest.fixture(scope="module")
def pretrained_atlas(tmp_path_factory, run_snakemake):
    workdir = tmp_path_factory.mktemp("pretrained")
    (workdir / "mynets_e2e.py").write_text(MODULE)
    import sys

    sys.path.insert(0, str(workdir))
    try:
        from mynets_e2e import SmallNet
    finally:
        sys.path.remove(str(workdir))
    torch.manual_seed(3)
    torch.save(SmallNet(width=3).state_dict(), workdir / "weights.pt")
    from PIL import Image

    generator = torch.Generator().manual_seed(0)
    (workdir / "photos").mkdir()
    for i in range(6):  # a flat folder of unlabelled photos of different shapes and formats
        pixels = torch.randint(0, 256, (20 + 2 * i, 24, 3), generator=generator, dtype=torch.uint8).numpy()
        Image.fromarray(pixels).save(workdir / "photos" / f"photo{i}.{'png' if i % 2 else 'jpg'}")
    (workdir / "names.txt").write_text("apple\nbanana\ncherry\ndate\n")
    for name in ("Apple", "cherry"):  # class folders named after two of the outputs (case aside), RGB pictures
        (workdir / "fruit" / name).mkdir(parents=True)
        for i in range(4):
            pixels = torch.randint(0, 256, (18, 18, 3), generator=generator, dtype=torch.uint8).numpy()
            Image.fromarray(pixels).save(workdir / "fruit" / name / f"{i}.png")
    config = {
        "datasets": {"shapes": {"kind": "synthetic", "synthetic": {"test_count": 48}, "normalise": {"mean": [0.2], "std": [0.3]}},
                     "photos": {"kind": "imagefolder", "root": "photos", "resize": 20, "crop": 16, "normalise": "imagenet"},
                     "fruit": {"kind": "imagefolder", "root": "fruit", "crop": 16, "channels": 1}},
        "models": {"mine": {"arch": "mynets_e2e:SmallNet", "params": {"width": 3}, "dataset": "shapes", "epochs": 0,
                            "weights": "weights.pt", "probe": ["photos"]},
                   "flat": {"arch": "mynets_e2e:SmallNet", "params": {"width": 3, "in_channels": 3}, "dataset": "photos",
                            "epochs": 0, "classes": "names.txt", "probe": ["shapes"]},
                   "fruity": {"arch": "mynets_e2e:SmallNet", "params": {"width": 3}, "dataset": "fruit", "epochs": 0,
                              "weights": "weights.pt", "classes": "names.txt"}},
        "analysis": {"batch_size": 32},
        "occlusion": {"images_per_class": 1, "windows": [3], "stride": 4},
        "correspondence": {"images": 3, "parts": {"top": [0, 4, 5, 12]}, "random_draws": 1},
        "invariance": {"images": 2, "translation": [0, 2], "rotation": [0, 90], "scale": [1.0, 1.2]},
        "feature_maps": {"images": 2},
        "ablation": {"images": 48},
        "linear_probes": {"train_images": 64, "test_images": 48},
        "maximise": {"steps": 2, "octaves": 1, "class_steps": 2, "from_top1": {"steps": 1}},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(workdir, "--cores", "2", "--resources", "gpu=1")
    return workdir


def test_checkpoint_zero_records_the_weights(pretrained_atlas, monkeypatch):
    from convatlas.models.checkpoint import load_checkpoint
    from convatlas.models.weights import file_sha256

    monkeypatch.chdir(pretrained_atlas)
    model, meta = load_checkpoint(pretrained_atlas / "results/mine/checkpoints/epoch-0.pt")
    assert meta.epoch == 0 and meta.arch == "mynets_e2e:SmallNet" and meta.params == {"width": 3}
    assert meta.weights["sha256"] == file_sha256(pretrained_atlas / "weights.pt")
    saved = torch.load(pretrained_atlas / "weights.pt", weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())
    assert not (pretrained_atlas / "results/mine/train/train_state.pt").exists()  # nothing was trained


def test_every_stage_ran_and_every_page_says_where_the_weights_came_from(pretrained_atlas):
    site = pretrained_atlas / "site"
    epoch = site / "models/mine/epoch-0"
    for folder in ("features.relu1", "features.relu2", "feature-maps", "analyses", "ablation"):
        assert (epoch / folder / "index.html").is_file() or (epoch / folder / "occlusion.html").is_file(), folder
    assert (epoch / "features.relu1/img/0-filter.png").is_file()
    pages = sorted(site.rglob("*.html"))
    model_pages = [p for p in pages if "models/mine/" in p.as_posix()]
    assert len(model_pages) > 20
    for page in model_pages:
        assert "weights loaded from weights.pt" in page.read_text() and "not trained here" in page.read_text(), page
    assert "after 0 epochs" not in (site / "index.html").read_text()
    assert broken_references(site) == []


def test_unlabelled_photos_are_analysed_by_their_predicted_class(pretrained_atlas, monkeypatch):
    import pandas as pd

    from convatlas.models.checkpoint import load_checkpoint

    monkeypatch.chdir(pretrained_atlas)
    _, meta = load_checkpoint(pretrained_atlas / "results/flat/checkpoints/epoch-0.pt")
    assert meta.classes == ["apple", "banana", "cherry", "date"] and meta.weights is None
    predictions = pd.read_parquet(pretrained_atlas / "results/flat/epoch-0/predictions.parquet")
    assert predictions.label.tolist() == predictions.predicted.tolist() == meta.predicted_labels
    page = (pretrained_atlas / "site/models/flat/epoch-0/features.relu2/index.html").read_text()
    assert "weights as mynets_e2e:SmallNet builds them (its own initialisation, no file loaded), not trained here" in page
    assert "the images have no labels" in page
    model_page = (pretrained_atlas / "site/models/flat/index.html").read_text()
    assert "accuracy</b><br>– on the analysed images" in model_page


def test_each_probe_dataset_has_its_own_index_and_pages(pretrained_atlas):
    import json

    import numpy as np
    import pandas as pd

    results, site = pretrained_atlas / "results", pretrained_atlas / "site"
    # grey shapes model probed with RGB photos (converted to grey), RGB photo model probed with grey shapes (to RGB)
    for model, probe, count in (("mine", "photos", 6), ("flat", "shapes", 48)):
        folder = results / model / "epoch-0" / f"probe-{probe}"
        recorded = json.loads((folder / "layers.json").read_text())
        assert recorded["dataset"] == probe and recorded["probe_images"] == count
        assert recorded["labels"] == "predicted"  # neither dataset's classes are the model's outputs
        predictions = pd.read_parquet(folder / "predictions.parquet")
        assert predictions.label.tolist() == predictions.predicted.tolist()
        index = pd.read_parquet(folder / "index.parquet")
        own = pd.read_parquet(results / model / "epoch-0/index.parquet")
        assert set(index.layer) == set(own.layer) and index.image.max() < count
        assert np.load(folder / "deconv/features.relu2.npz")["deconvnet"].any()
        layer = site / f"models/{model}/epoch-0/features.relu2"
        assert f'id="on-{probe}">Top ' in (layer / "channel-0.html").read_text()
        assert (layer / f"img/0-on-{probe}-patches.png").is_file() and (layer / f"img/sprite-{probe}.png").is_file()
        assert '<select id="probe">' in (layer / "index.html").read_text()
    compare = (site / "compare.html").read_text()
    assert "Which probe dataset excites mine" in compare and "Which probe dataset excites flat" in compare
    occlusion = (site / "models/mine/epoch-0/analyses/occlusion.html").read_text()
    assert "On probe images of <b>shapes</b>" in occlusion


def test_class_folders_map_onto_the_named_outputs(pretrained_atlas, monkeypatch):
    import pandas as pd

    from convatlas.models.checkpoint import load_checkpoint

    monkeypatch.chdir(pretrained_atlas)
    _, meta = load_checkpoint(pretrained_atlas / "results/fruity/checkpoints/epoch-0.pt")
    assert meta.label_map == [0, 2] and meta.in_channels == 1  # Apple -> apple, cherry -> cherry; grey by `channels`
    predictions = pd.read_parquet(pretrained_atlas / "results/fruity/epoch-0/predictions.parquet")
    assert predictions.label.tolist() == [0] * 4 + [2] * 4
    assert meta.test_accuracy == (predictions.label == predictions.predicted).mean()
    assert (pretrained_atlas / "site/models/fruity/index.html").is_file()


def planned_jobs(output: str) -> set[tuple[str, str]]:
    """(rule, model) of every job a dry run plans."""
    jobs, rule = set(), None
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith(("rule ", "localrule ")) and stripped.endswith(":"):
            rule = stripped.split()[1].rstrip(":")
        elif rule and stripped.startswith("wildcards:"):
            fields = dict(item.split("=", 1) for item in stripped[len("wildcards:"):].strip().split(", "))
            jobs.add((rule, fields.get("model", "")))
            rule = None
    return jobs


def test_nothing_is_stale_weights_images_and_code_rerun_what_depends_on_them(pretrained_atlas, tmp_path, run_snakemake):
    """Replacing the weights, adding a photo or editing the model's code reruns exactly the jobs that
    read them (and what is made from their results); touching a file without changing it reruns nothing."""
    import os
    import shutil

    workdir = tmp_path / "copy"
    shutil.copytree(pretrained_atlas, workdir, symlinks=True)  # copy2: times kept, so the copy is up to date

    def dry_run():
        result = run_snakemake(workdir, "-n", "--cores", "2", "--resources", "gpu=1")
        return result.stdout + result.stderr

    assert "Nothing to be done" in dry_run()
    weights = workdir / "weights.pt"
    original = weights.read_bytes()
    later = weights.stat().st_mtime + 100
    os.utime(weights, (later, later))  # touched, same content: its hash is what counts
    assert "Nothing to be done" in dry_run()

    state = torch.load(weights, weights_only=True)
    torch.save({k: v + 1 for k, v in state.items()}, weights)
    jobs = planned_jobs(dry_run())
    assert {("train", "mine"), ("train", "fruity")} <= jobs and not any(model == "flat" for _, model in jobs)
    assert ("layer_pages", "mine") in jobs and ("index", "fruity") in jobs  # everything made from the checkpoint
    weights.write_bytes(original)
    assert "Nothing to be done" in dry_run()

    from PIL import Image

    Image.new("RGB", (24, 24), (9, 99, 199)).save(workdir / "photos" / "new.png")
    jobs = planned_jobs(dry_run())
    # photos are flat's dataset and one of mine's probe datasets; fruity reads neither
    assert ("train", "flat") in jobs and ("probe_index", "mine") in jobs
    assert ("train", "mine") not in jobs and not any(model == "fruity" for _, model in jobs)
    (workdir / "photos" / "new.png").unlink()
    assert "Nothing to be done" in dry_run()

    code = workdir / "mynets_e2e.py"
    code.write_text(code.read_text() + "\n# an edit of the model's code\n")
    jobs = planned_jobs(dry_run())
    assert {("train", "mine"), ("train", "flat"), ("train", "fruity")} <= jobs
