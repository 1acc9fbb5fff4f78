"""End-to-end: a user's first run as the README shows it — only `datasets` and `models`, a model analysed
as loaded over a folder of labelled photo-sized images, defaults everywhere; and every optional
section left out in turn."""
import json

import numpy as np
import pytest
import yaml

from convatlas.site.linkcheck import broken_references

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_model_run(tmp_path_factory, run_snakemake):
    """The minimal config: a tiny ResNet (no max pool) as built, 12 160 x 128 JPEGs in two class folders,
    cropped to 128 px."""
    from PIL import Image

    workdir = tmp_path_factory.mktemp("own")
    rng = np.random.default_rng(0)
    for i in range(12):
        folder = workdir / "photos" / ("cats" if i % 2 else "dogs")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (128, 160, 3), dtype=np.uint8)).save(folder / f"p{i:02d}.jpg", quality=90)
    config = {"datasets": {"photos": {"kind": "imagefolder", "root": "photos", "resize": 128, "crop": 128}},
              "models": {"mine": {"arch": "resnet", "params": {"widths": [4, 8], "blocks": 1}, "dataset": "photos",
                                  "epochs": 0}}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(workdir, "--cores", "2")
    return workdir, result.stdout + result.stderr


def test_the_minimal_config_gives_a_complete_site(own_model_run):
    workdir, _ = own_model_run
    site = workdir / "site"
    layers = sorted(p.name for p in (site / "models/mine/epoch-0").iterdir() if (p / "index.html").is_file())
    assert layers == ["layer1.0", "layer1.0.relu1", "layer2.0", "layer2.0.relu1", "relu"]
    assert broken_references(site) == []
    maps = np.load(workdir / "results/mine/epoch-0/feature_maps.npz")  # no feature_maps section: empty, not a crash
    assert maps["images"].shape[0] == 0


def test_photo_sized_pictures_are_stored_display_ready_and_shown_as_jpeg(own_model_run):
    workdir, _ = own_model_run
    projections = np.load(workdir / "results/mine/epoch-0/deconv/layer2.0.npz")
    # a CPU run at 128 px: no trunk/shortcut projections; tiles as pages show them, at most 112 px
    checks = {f"check_{kind}_{method}" for kind in ("tiles", "random") for method in ("deconvnet", "gradient_input")}
    # and how the channels of the previous analysed layer (layer2.0.relu1) build each channel
    assert set(projections.files) == {"deconvnet", "gradient_input", "channels", "connections", "connections_from"} | checks
    assert str(projections["connections_from"]) == "layer2.0.relu1"
    assert projections["connections"].shape[0] >= len(projections["channels"])  # every channel, not only the projected
    tile = projections["deconvnet"]
    layers = json.loads((workdir / "results/mine/epoch-0/layers.json").read_text())["layers"]
    field = next(layer["rf_y"][0] for layer in layers if layer["name"] == "layer2.0")
    assert tile.dtype == np.uint8 and tile.shape[2:] == (min(field, 112), min(field, 112), 3)
    channel = (workdir / "site/models/mine/epoch-0/layer2.0/channel-0.html").read_text()
    assert 'img/0-deconvnet.jpg' in channel and 'img/0-patches.jpg' in channel
    # a ResNet's block without max pooling: its deconvnet pictures are one picture, so they do not lead
    assert projections["check_tiles_deconvnet"].max() > 0.9
    layer_page = (workdir / "site/models/mine/epoch-0/layer2.0/index.html").read_text()
    assert "Can these pictures be trusted?" in layer_page and "Channel pages lead with the deconvnet" not in layer_page
    assert (workdir / "site/models/mine/epoch-0/layer2.0/img/0-patches.jpg").is_file()


def test_a_plan_is_printed_and_kept_and_jobs_declare_their_memory(own_model_run):
    workdir, log = own_model_run
    assert "The plan (cpu, 2 cores)" in log and "mine: 5 layers of 5 default, 12 images at 128 px" in log
    plan = json.loads((workdir / "results/plan.json").read_text())
    model = plan["models"][0]
    assert model["layers"] == ["relu", "layer1.0.relu1", "layer1.0", "layer2.0.relu1", "layer2.0"] and model["branches"] is False
    assert model["stages"]["deconv"]["projections"] == sum(model["covered"].values()) * 9 * 2
    assert model["measured"]["forward"] > 0 and plan["cpu_seconds"] > 0 and plan["disk_mb"]["site"] > 0
    # every model job declares its estimate, within the default budget of 4,000 MB
    declared = [int(line.split("mem_mb=")[1].split(",")[0]) for line in log.splitlines() if "mem_mb=" in line]
    assert declared and max(declared) <= 4000
    # the only model's index pass runs alone and gets both cores
    index_block = log.split("rule index:")[1].split("\n\n")[0]
    assert "threads: 2" in index_block
    run_page = (workdir / "site/run.html").read_text()
    assert "The plan" in run_page


SECTIONS = {  # an optional section -> a job it adds
    "occlusion": "occlusion", "correspondence": "correspondence", "invariance": "invariance",
    "ablation": "channel_ablation", "maximise": "maximise", "linear_probes": "linear_probes", "feature_maps": "feature_maps",
    "transfer": "transfer", "variants": "variants",
}


@pytest.mark.parametrize("left_out", sorted(SECTIONS))
def test_each_optional_section_can_be_left_out(left_out, write_config, tiny_config, run_snakemake):
    """The full tiny config without one section plans every other stage and none of its jobs."""
    config = tiny_config()
    del config[left_out]
    workdir = write_config(config)
    plan = run_snakemake(workdir, "-n", "--cores", "2").stdout
    jobs = {line.split()[0] for line in plan.split("Job stats:")[1].split("total")[0].splitlines()[3:] if line.strip()}
    assert SECTIONS[left_out] not in jobs
    assert {job for section, job in SECTIONS.items() if section != left_out} <= jobs


def test_images_are_named_by_their_files_as_on_the_model_page(own_model_run):
    import re

    workdir, _ = own_model_run
    channel = (workdir / "site/models/mine/epoch-0/layer2.0/channel-0.html").read_text()
    named = set(re.findall(r"(?:cats|dogs)/p\d\d\.jpg", channel))
    assert named and "· image " not in channel
    model_page = (workdir / "site/models/mine/index.html").read_text()
    assert named <= set(re.findall(r"(?:cats|dogs)/p\d\d\.jpg", model_page))
