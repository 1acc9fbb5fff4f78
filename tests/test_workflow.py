"""End-to-end: the real Snakefile on a tiny synthetic config, and the cluster profile's plan."""
import re

import pytest

from convatlas.site.linkcheck import broken_references

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def atlas(tmp_path_factory, tiny_config, run_snakemake):
    """One run of the tiny workflow, shared by the tests below (it takes a while)."""
    import yaml

    workdir = tmp_path_factory.mktemp("atlas")
    (workdir / "config.yaml").write_text(yaml.safe_dump(tiny_config()))
    first = run_snakemake(workdir, "--cores", "2", "--resources", "gpu=1")
    return workdir, first


def test_checkpoints_and_logs_are_written(atlas):
    workdir, _ = atlas
    for path in ("results/tiny/checkpoints/epoch-1.pt", "results/tiny/checkpoints/epoch-2.pt",
                 "results/tres/checkpoints/epoch-1.pt", "results/tiny/train/log-2.tsv", "logs/train/tiny-2.log"):
        assert (workdir / path).is_file(), path
    log = (workdir / "logs/train/tiny-2.log").read_text()
    assert "epoch 2" in log and "it/s" in log  # tqdm progress went to the rule's log
    assert "resuming after epoch 1" in log  # one training job per checkpoint, each resuming the last
    assert "epoch 1:" not in log and "tiny epoch 1" in (workdir / "logs/train/tiny-1.log").read_text()
    header = (workdir / "results/tiny/train/log-2.tsv").read_text().splitlines()[0]
    assert header == "epoch\ttrain_loss\ttrain_accuracy\ttest_loss\ttest_accuracy\tseconds"


def test_site_shows_both_models_and_every_reference_resolves(atlas):
    workdir, _ = atlas
    site = workdir / "site"
    index = (site / "index.html").read_text()
    for name in ("tiny", "tres"):
        assert f'href="models/{name}/index.html"' in index
        page = (site / "models" / name / "index.html").read_text()
        assert "receptive field" in page and "Per-class test accuracy" in page
    tiny = (site / "models/tiny/index.html").read_text()
    assert "<code>features.relu2</code>" in tiny and "11×11 px" in tiny
    tres = (site / "models/tres/index.html").read_text()
    assert "<code>layer1.0</code>" in tres and "block" in tres
    for cls in ("disc", "square", "hstripes", "vstripes"):
        assert cls in index  # class names travel into the pages
    assert broken_references(site) == []
    assert not list(site.rglob(".snakemake_timestamp"))  # page jobs declare pages, not folders


def test_run_page_lists_every_job_of_the_run(atlas):
    workdir, first = atlas
    log = first.stdout + first.stderr
    ran = log.count("Finished jobid") - 1  # every job but the target rule `all`, which has no benchmark
    page = (workdir / "site/run.html").read_text()
    every_job = page.split("<h2>Every job</h2>")[1]
    assert every_job.count("<tr><td>") == ran > 50
    assert "after training / training jobs' time" in page and 'src="img/run-timeline.png"' in page
    assert 'href="run.html"' in (workdir / "site/index.html").read_text()
    # heavy jobs ran side by side: no GPU here, so no GPU token held them apart
    assert "gpu=0" in log and "jobs side by side" in page


def test_optional_sections_left_out_run_no_jobs_and_pages_omit_them(write_config, run_snakemake):
    """Only datasets and models: the index, projections and layer pages, nothing optional."""
    config = {"datasets": {"shapes": {"kind": "synthetic", "synthetic": {"size": 16, "classes": 4, "train_count": 64,
                                                                          "test_count": 32}}},
              "models": {"mini": {"arch": "zf", "dataset": "shapes", "epochs": 1, "batch_size": 32,
                                  "params": {"widths": [4, 8], "fc": [8]}},
                         "other": {"arch": "lenet", "dataset": "shapes", "epochs": 1, "batch_size": 32}}}
    workdir = write_config(config)
    run_snakemake(workdir, "--cores", "2", "--resources", "gpu=1")
    site, results = workdir / "site", workdir / "results/mini/epoch-1"
    for skipped in ("occlusion.npz", "correspondence.parquet", "invariance.parquet", "linear_probes.parquet", "ablation", "maximise"):
        assert not (results / skipped).exists(), skipped
    assert not (workdir / "results/transfer").exists() and not (workdir / "logs/variants").exists()
    epoch = site / "models/mini/epoch-1"
    assert sorted(p.name for p in epoch.iterdir()) == ["classifier.fc1_relu", "features.relu1", "features.relu2"]
    model = (site / "models/mini/index.html").read_text()
    for absent in ("Class images", "What the network depends on", "Feature maps", "Layer ablation"):
        assert absent not in model, absent
    channel = (epoch / "features.relu2/channel-1.html").read_text()
    assert "Switched off" not in channel and "What excites it most" not in channel
    compare = (site / "compare.html").read_text()
    for absent in ("Linear probes", "Transfer to new classes", "Occlusion of the same images", "linear probe"):
        assert absent not in compare, absent
    assert broken_references(site) == []
    assert not list(site.rglob(".snakemake_timestamp"))


def test_index_tables_for_every_checkpoint(atlas):
    import pandas as pd

    workdir, _ = atlas
    for model, epoch in (("tiny", 1), ("tiny", 2), ("tres", 1)):
        folder = workdir / f"results/{model}/epoch-{epoch}"
        index = pd.read_parquet(folder / "index.parquet")
        assert list(index.columns) == ["layer", "channel", "rank", "value", "image", "y", "x"]
        stats = pd.read_parquet(folder / "channel_stats.parquet")
        assert {"mean", "fraction_positive", "max", "selectivity", "dead", "class_means"} <= set(stats.columns)
        assert len(index) == 9 * len(stats)
        assert len(pd.read_parquet(folder / "predictions.parquet")) == 64
    layers = pd.read_parquet(workdir / "results/tres/epoch-1/channel_stats.parquet").layer.unique().tolist()
    assert layers == ["relu", "layer1.0.relu1", "layer1.0", "layer2.0.relu1", "layer2.0"]


def test_a_page_for_every_channel_of_every_analysed_layer(atlas):
    import pandas as pd

    workdir, _ = atlas
    for model, epochs in (("tiny", (1, 2)), ("tres", (1,))):
        for epoch in epochs:
            stats = pd.read_parquet(workdir / f"results/{model}/epoch-{epoch}/channel_stats.parquet")
            for layer, group in stats.groupby("layer"):
                folder = workdir / f"site/models/{model}/epoch-{epoch}/{layer}"
                assert (folder / "index.html").is_file() and (folder / "img/sprite.png").is_file()
                pages = {p.name for p in folder.glob("channel-*.html")}
                assert pages == {f"channel-{c}.html" for c in group.channel}, (model, epoch, layer)
                for channel in group.channel[group.dead]:  # a dead channel's page shows no fake top-k
                    page = (folder / f"channel-{channel}.html").read_text()
                    assert "This channel is dead" in page and f"img/{channel}-patches.png" not in page, (model, layer, channel)
    model_page = (workdir / "site/models/tiny/index.html").read_text()
    assert 'href="epoch-2/features.relu1/index.html"' in model_page and 'href="epoch-1/features.relu1/index.html"' in model_page
    channel = (workdir / "site/models/tiny/epoch-2/features.relu1/channel-0.html").read_text()
    assert "../../epoch-1/features.relu1/channel-0.html" in channel


def test_deconvnet_grids_evolution_and_branches(atlas):
    from convatlas.analyses.sanity import layer_verdicts
    from convatlas.core.io import read_npz as read_projections

    workdir, _ = atlas
    kinds = ["deconvnet", "guided", "gradient_input", "relevance", "deconvnet_trunk", "deconvnet_shortcut"]
    checks = {f"check_{score}_{kind}" for score in ("tiles", "random") for kind in kinds}
    block = read_projections(workdir / "results/tres/epoch-1/deconv/layer1.0.npz")
    links = {"connections", "connections_from", "feeds", "feeds_to"}  # from the previous and to the next analysed layer
    assert set(block) == {*kinds, "channels"} | checks | links
    assert block["deconvnet"].shape[:2] == (4, 9) and block["channels"].tolist() == [0, 1, 2, 3]  # 16 px: every channel
    assert all(block[key].shape == (4,) for key in checks)
    tiny_relu2 = read_projections(workdir / "results/tiny/epoch-1/deconv/features.relu2.npz")
    main = ("deconvnet", "guided", "gradient_input", "relevance")
    assert set(tiny_relu2) == {*main, "channels"} | {key for key in checks if key.endswith(tuple(f"_{m}" for m in main))} | links
    assert str(tiny_relu2["connections_from"]) == "features.relu1" and tiny_relu2["connections"].shape == (8, 4)  # every channel
    assert str(tiny_relu2["feeds_to"]) == "classifier.fc1_relu" and tiny_relu2["feeds"].shape[0] == 8
    assert tiny_relu2["relevance"].shape[:2] == tiny_relu2["deconvnet"].shape[:2]  # heatmaps, stored as grey tiles
    layer_two = workdir / "site/models/tiny/epoch-2/features.relu2"
    for kind in main:  # every kind drawn (the failing ones folded away on the page)
        assert list(layer_two.glob(f"img/*-{kind}.png")), kind
    tiny = workdir / "site/models/tiny/epoch-2/features.relu1"  # the first layer: its filter once, no projections
    first = (tiny / "channel-0.html").read_text()
    assert 'src="img/0-filter.png"' in first and "img/0-deconvnet.png" not in first
    assert (tiny / "img/filters.png").is_file()
    assert (workdir / "site/models/tiny/epoch-2/features.relu2/img/0-evolution.png").is_file()
    # a block's trunk and shortcut grids are checked like the others, and shown only where they pass
    block_layer = (workdir / "site/models/tres/epoch-1/layer1.0/index.html").read_text()
    assert "deconvnet through the trunk only" in block_layer and "deconvnet through the shortcut only" in block_layer
    block_page = (workdir / "site/models/tres/epoch-1/layer1.0/channel-1.html").read_text()
    passing = {v["kind"] for v in layer_verdicts({key: block[key] for key in checks}) if v["passes"]}
    assert ("1-deconvnet_trunk.png" in block_page) == ("deconvnet_trunk" in passing)


def test_feature_map_pages(atlas):
    workdir, _ = atlas
    folder = workdir / "site/models/tiny/epoch-2/feature-maps"
    assert sorted(p.name for p in folder.glob("image-*.html")) == [f"image-{i}.html" for i in range(4)]
    page = (folder / "image-1.html").read_text()
    for layer in ("features.relu1", "features.relu2", "classifier.fc1_relu"):
        assert f"url(img/1-{layer}.png)" in page and f'href="../{layer}/channel-0.html" title="channel 0: max ' in page
    assert 'href="epoch-2/feature-maps/index.html"' in (workdir / "site/models/tiny/index.html").read_text()


def test_occlusion_correspondence_and_invariance_pages(atlas):
    import pandas as pd

    from convatlas.core.io import read_npz

    workdir, _ = atlas
    maps = read_npz(workdir / "results/tiny/epoch-2/occlusion.npz")
    assert maps["labels"].tolist() == [0, 1, 2, 3]  # the first image of every class, by class
    assert len(maps["images"]) == 4 and maps["activity_3"].shape == (4, 8, 8) and maps["projection"].shape == (4, 16, 16, 1)
    folder = workdir / "site/models/tiny/epoch-2/analyses"
    summary = (folder / "occlusion.html").read_text()
    for image in maps["images"].tolist():
        assert f'href="occlusion-{image}.html"' in summary and (folder / f"img/occlusion-{image}.png").is_file()
    assert maps["heatmap"].shape == (4, 16, 16, 1)  # gradient x input of the same units, for layers the deconvnet fails
    from convatlas.analyses.sanity import layer_lead
    from convatlas.jobs.analyses import occlusion_picture
    from convatlas.results.artifacts import Projections
    from convatlas.site.pages.analyses import OCCLUSION_PICTURES

    layer = str(maps["layer"])
    _, lead = layer_lead(*Projections.read_checks(workdir / f"results/tiny/epoch-2/deconv/{layer}.npz"))
    picture = occlusion_picture(layer, [str(workdir / f"results/tiny/epoch-2/deconv/{layer}.npz")])
    assert picture == ("deconvnet" if lead in ("deconvnet", "filter") else picture) and picture != "unchecked"
    first = maps["images"].tolist()[0]
    assert OCCLUSION_PICTURES[picture][1].split("'")[0] in (folder / f"occlusion-{first}.html").read_text()
    table = pd.read_parquet(workdir / "results/tiny/epoch-2/correspondence.parquet")
    assert set(table.part) == {"top", "middle", "random"} and set(table.layer) == {"features.relu1", "features.relu2", "classifier.fc1_relu"}
    assert "random (control)" in (folder / "correspondence.html").read_text()
    invariance = pd.read_parquet(workdir / "results/tiny/epoch-2/invariance.parquet")
    assert len(invariance) == 2 * 9
    page = (folder / "invariance.html").read_text()
    for transform in ("translation", "rotation", "scale"):
        assert f'src="img/invariance-{transform}.png"' in page
    model_page = (workdir / "site/models/tres/index.html").read_text()
    assert 'href="epoch-1/analyses/occlusion.html"' in model_page


def test_ablation_tables_and_page(atlas):
    import json

    import pandas as pd

    workdir, _ = atlas
    table = pd.read_parquet(workdir / "results/tiny/epoch-2/ablation/features.relu2.parquet")
    assert list(table.columns[:3]) == ["channel", "accuracy", "accuracy_drop"] and len(table) == 8
    assert {"class_accuracy", "base_class_accuracy", "base_accuracy"} <= set(table.columns)
    experiments = json.loads((workdir / "results/tiny/epoch-2/ablation/experiments.json").read_text())
    top = experiments["experiments"]["top10_selective"]
    assert sum(len(c) for c in top["channels"].values()) == 10
    assert len(top["confusion_after"]) == 4 and sum(map(sum, top["confusion_after"])) == 64
    assert len(top["controls"]) == 10  # random draws matched layer by layer
    for control in top["controls"]:
        assert {layer: len(c) for layer, c in control["channels"].items()} == {layer: len(c) for layer, c in top["channels"].items()}
    page = (workdir / "site/models/tiny/epoch-2/ablation/index.html").read_text()
    assert "top10_selective" in page and 'src="img/top10_selective-confusion.png"' in page
    assert "Against chance:</b> 10 random draws of as many channels in each layer" in page and "permutation p" in page
    channel = (workdir / "site/models/tiny/epoch-2/features.relu2/channel-0.html").read_text()
    assert "Switched off" in channel
    assert 'value="ablation"' in (workdir / "site/models/tiny/epoch-2/features.relu2/index.html").read_text()


def test_probe_transfer_and_comparison(atlas):
    import pandas as pd

    workdir, _ = atlas
    probe = pd.read_parquet(workdir / "results/tres/epoch-1/linear_probes.parquet")
    assert probe.layer.tolist() == ["relu", "layer1.0.relu1", "layer1.0", "layer2.0.relu1", "layer2.0"]
    assert probe.accuracy.between(0, 1).all()
    transfer = pd.read_parquet(workdir / "results/transfer/tiny.parquet")
    assert (workdir / "results/transfer/tiny/source.pt").is_file()  # the source-class training, a job of its own
    # the tiny model has a hidden linear layer, so its last hidden layer is frozen as well as its conv features
    assert set(transfer.method) == {"transfer", "last_hidden", "random", "scratch"} and sorted(set(transfer.shots)) == [1, 5]
    assert len(transfer) == 4 * 2 * 2
    page = (workdir / "site/compare.html").read_text()
    for text in ("Transfer to new classes", "Linear probes", "Top images at corresponding depths", 'href="models/tres/epoch-1/layer1.0/index.html"'):
        assert text in page
    assert 'href="compare.html"' in (workdir / "site/index.html").read_text()


def test_layer_ablation_variants(atlas):
    import pandas as pd

    workdir, _ = atlas
    table = pd.read_parquet(workdir / "results/tiny/variants.parquet")
    assert table.model.iloc[0] == "tiny" and set(table.model[1:]) == {"tiny-wide", "tiny-one_conv"}
    assert (table.epoch == 1).all() and table.test_error.between(0, 1).all()
    sizes = dict(zip(table.model, table.parameters, strict=True))
    assert sizes["tiny-wide"] > sizes["tiny"]
    assert (workdir / "results/tiny-wide/checkpoints/epoch-1.pt").is_file()
    assert not (workdir / "site/models/tiny-wide").exists()  # variants are trained and compared, not analysed
    page = (workdir / "site/models/tiny/index.html").read_text()
    assert "Layer ablation" in page and "tiny-one_conv" in page


def test_activation_maximisation_and_attributions(atlas):
    from convatlas.core.io import read_npz

    workdir, _ = atlas
    images = read_npz(workdir / "results/tiny/epoch-2/maximise/features.relu2.npz")
    assert images["noise"].shape == (8, 16, 16, 1) and images["top1"].shape == (8, 16, 16, 1)
    assert images["noise"].min() >= 0 and images["noise"].max() <= 1
    classes = read_npz(workdir / "results/tres/epoch-1/maximise/classes.npz")
    assert classes["images"].shape == (4, 16, 16, 1)
    layer = workdir / "site/models/tiny/epoch-2/features.relu2"
    assert 'src="img/maximised.png"' in (layer / "index.html").read_text()
    channel = (layer / "channel-3.html").read_text()
    assert 'src="img/3-max-noise.png"' in channel and 'src="img/3-max-top1.png"' in channel
    assert 'src="classes.png"' in (workdir / "site/models/tiny/index.html").read_text()
    maps = read_npz(workdir / "results/tiny/epoch-2/occlusion.npz")
    assert maps["gradcam_true"].shape == (4, 16, 16) and maps["guided_predicted"].shape == (4, 16, 16, 1)
    first = int(maps["images"][0])
    page = (workdir / f"site/models/tiny/epoch-2/analyses/occlusion-{first}.html").read_text()
    assert "Gradient attributions" in page and f'src="img/attribution-{first}.png"' in page


@pytest.mark.parametrize("key,value,message", [
    ("occlusion", {"windows": [3, 40]}, "config key occlusion.windows: window 40 is larger than the 16x16 images"),
    ("correspondence", {"class": "Sneaker"}, "config key correspondence.class: 'Sneaker' is not a class of shapes"),
    ("correspondence", {"parts": {"far": [10, 10, 30, 12]}}, "config key correspondence.parts.far: box [10, 10, 30, 12] lies outside"),
    ("transfer", {"models": ["nope"]}, "config key transfer.models: 'nope' names no model"),
    ("transfer", {"target_classes": [1, 2]}, "config key transfer.target_classes: must not share classes"),
])
def test_bad_analysis_settings_are_named(write_config, key, value, message, tiny_config, run_snakemake):
    config = tiny_config()
    config[key].update(value)
    result = run_snakemake(write_config(config), "-n", check=False)
    assert result.returncode != 0 and message in result.stdout + result.stderr


def test_unknown_analysis_layer_lists_valid_names(write_config, tiny_config, run_snakemake):
    config = tiny_config()
    config["analysis"]["layers"] = ["features.relu9"]
    result = run_snakemake(write_config(config), "-n", check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "config key analysis.layers: unknown layer 'features.relu9'" in out and "features.relu2" in out


def test_training_is_one_job_per_checkpoint_and_results_start_first(write_config, tiny_config, run_snakemake):
    """Each checkpoint's training job resumes the one before; jobs on saved checkpoints outrank
    training; the model with more analysed layers trains first; a variant trains last."""
    workdir = write_config(tiny_config())
    out = run_snakemake(workdir, "-n", "--cores", "2").stdout
    blocks = [block for block in re.split(r"\n(?=(?:local)?rule )", out) if re.match(r"(?:local)?rule \w+:", block)]

    def priority(block):
        match = re.search(r"^\s+priority: (\d+)$", block, flags=re.MULTILINE)
        return int(match.group(1)) if match else 0

    training = {re.search(r"wildcards: (.*)", b).group(1): b for b in blocks if re.match(r"(?:local)?rule train:", b)}
    assert set(training) == {"model=tiny, epoch=1", "model=tiny, epoch=2", "model=tres, epoch=1",
                             "model=tiny-wide, epoch=1", "model=tiny-one_conv, epoch=1"}
    assert "input: results/tiny/train/log-1.tsv" in training["model=tiny, epoch=2"]
    assert "input:" not in training["model=tiny, epoch=1"]
    ranks = {wildcards: priority(block) for wildcards, block in training.items()}
    assert ranks["model=tres, epoch=1"] > ranks["model=tiny, epoch=1"] == ranks["model=tiny, epoch=2"] > ranks["model=tiny-wide, epoch=1"] == 0
    results = [priority(b) for b in blocks if not re.match(r"(?:local)?rule (train|all):", b)]
    assert len(results) > 40 and min(results) > max(ranks.values())
    bad = run_snakemake(workdir, "-n", "results/tiny/train/log-3.tsv", check=False)
    assert bad.returncode != 0 and "models.tiny: 3 is not one of its checkpoint epochs [1, 2]" in bad.stdout + bad.stderr


def test_second_run_has_nothing_to_do(atlas, run_snakemake):
    workdir, _ = atlas
    again = run_snakemake(workdir, "--cores", "2", "--resources", "gpu=1", "-n")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_bad_config_stops_before_any_job(write_config, tiny_config, run_snakemake):
    config = tiny_config()
    config["models"]["tiny"]["checkpoints"] = [1, 9]
    workdir = write_config(config)
    result = run_snakemake(workdir, "--cores", "1", check=False)
    assert result.returncode != 0
    assert "config key models.tiny.checkpoints: epoch 9 is beyond epochs (2)" in result.stderr + result.stdout
    assert not (workdir / "results").exists()


def heavy_rules(repo):
    """The rules whose jobs run networks: those that ask for the gpu resource."""
    heavy = set()
    for path in (repo / "rules").glob("*.smk"):
        for block in re.split(r"\n(?=rule |checkpoint )", path.read_text()):
            match = re.match(r"(?:rule|checkpoint) (\w+):", block)
            if match and "gpu=" in block:
                heavy.add(match.group(1))
    return heavy


def test_slurm_profile_plans_every_rule_with_cluster_resources(write_config, tiny_config, run_snakemake, repo):
    """Every job gets memory and a runtime; every heavy job a GPU and several CPUs, the index a GPU
    only when it does the pass itself (sharded, its shard jobs hold the GPUs)."""
    config = tiny_config()
    config["analysis"]["shards"] = 2
    workdir = write_config(config)
    # a dry run needs a core count (1 when not given); without one, as on the cluster, jobs ask for
    # cluster_*_threads (tests/workflow/test_machine.py)
    result = run_snakemake(workdir, "-n", "--cores", "256", "--profile", str(repo / "profiles/slurm"), "--workflow-profile", "none")
    out = result.stdout + result.stderr
    blocks = {}
    for block in re.split(r"\n(?=rule )", out):
        match = re.match(r"rule (\w+):", block)
        if match:
            blocks.setdefault(match.group(1), block)
    heavy = heavy_rules(repo)
    assert {"train", "index_shard", "deconv", "maximise", "transfer_source", "transfer"} <= heavy <= set(blocks) | {"probe_index", "probe_index_shard", "probe_deconv"}
    for rule, block in blocks.items():
        if rule == "all":
            continue
        assert re.search(r"\bmem_mb=\d+", block) and re.search(r"\bruntime=\d+", block), (rule, block)
        threads = int(re.search(r"threads: (\d+)", block).group(1)) if "threads:" in block else 1
        if rule in heavy - {"index", "probe_index"}:
            assert re.search(r"\bgpu=1\b", block) and threads >= 4, (rule, block)
        else:
            assert not re.search(r"\bgpu=[1-9]", block), (rule, block)
    assert "mem_mb=16000" not in blocks["train"] and "runtime=240" in blocks["train"]  # memory: the estimate
    assert "gpu=0" in blocks["index"] and "index-shards/1.npz" in blocks["index"]


def test_lint_is_clean(run_snakemake, repo):
    result = run_snakemake(repo, "--lint", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr
