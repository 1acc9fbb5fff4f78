"""Layer and channel pages: every channel gets a page whose patches are the right crops."""
from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from convatlas.analyses.deconv import project_top_k
from convatlas.analyses.index import build_index
from convatlas.data.model_inputs import ModelInputs
from convatlas.nn.graph import ModelGraph
from convatlas.results.artifacts import ChannelArrays, LayerRecord
from convatlas.site.images import relevance_masked
from convatlas.site.linkcheck import broken_references
from convatlas.site.pages.layer import GAP, LayerPage, render_layer, sample_channels
from convatlas.site.render import Renderer, number


def field_crop(image, field, y, x):
    """The receptive field of unit (y, x) cut from a 16 px grey image by hand, grey (128) outside it."""
    size = field.y.size
    y0, x0 = field.y.start + y * field.y.jump, field.x.start + x * field.x.jump
    expected = np.full((size, size), 128, dtype=np.uint8)
    for dy in range(size):
        for dx in range(size):
            if 0 <= y0 + dy < 16 and 0 <= x0 + dx < 16:
                expected[dy, dx] = image[y0 + dy, x0 + dx]
    return expected


def layer_info(layer):
    return LayerRecord.of(layer)


def test_layer_pages_show_every_channel_with_the_right_patches(tmp_path, tied_zf, tied_probe, pictures_of, repo, tied_normalisation):
    MEAN, STD = tied_normalisation
    model, images = tied_zf, tied_probe
    layers = ModelGraph(model, (1, 16, 16)).layers
    index, stats, predictions = build_index(model, layers, ModelInputs(images, MEAN, STD, show_progress=False), k=9)
    names = [l.name for l in layers]
    site = tmp_path / "site"
    for layer in layers:
        projections = project_top_k(model, layer.name, index, ModelInputs(images, MEAN, STD, show_progress=False), methods=['deconvnet', 'guided', 'gradient_input'])
        evolution = {1: projections.pictures["deconvnet"][:, 0], 2: projections.pictures["deconvnet"][:, 0]}
        projections.filters = model.features.conv1.weight.detach().numpy() if layer.name == "features.relu1" else None
        page = LayerPage("tiny", 2, layer.name, layer_info(layer), names, [1, 2], index, stats, predictions,
                         pictures_of(images), images.classes, projections, evolution, overview_channels=4,
                         evolution_channels=2)
        render_layer(page, Renderer(repo / "templates", site))
    folder = site / "models/tiny/epoch-2/features.relu2"
    assert sorted(p.name for p in folder.glob("channel-*.html")) == sorted(f"channel-{c}.html" for c in range(6))
    page = (folder / "index.html").read_text()
    assert page.count('class="ccard') == 6 and "sprite.png" in page
    channel_page = (folder / "channel-3.html").read_text()
    assert "epoch-1/features.relu2/channel-3.html" in channel_page  # the same channel at the other checkpoint
    assert "channel-2.html" in channel_page and "channel-4.html" in channel_page

    # the rank-0 patch of channel 3 is the image crop around the top unit, upscaled
    row = index[(index.layer == "features.relu2") & (index.channel == 3) & (index["rank"] == 0)].iloc[0]
    field = layers[1].receptive_field
    size = field.y.size  # 11 px for conv5-pool-conv3
    expected = field_crop(images.data[row.image, 0].numpy(), field, row.y, row.x)
    sheet = np.asarray(Image.open(folder / "img/3-patches.png"))
    factor = 96 // size
    cell = sheet[: size * factor, : size * factor, 0]
    assert np.array_equal(cell[::factor, ::factor], expected)
    assert sheet.shape[0] == 3 * size * factor + 2 * GAP

    for name in ("3-deconvnet.png", "3-guided.png", "3-evolution.png"):
        assert (folder / "img" / name).is_file()
    # gradient x input: the same patch, masked by the unit's heatmap as zennit-crp masks reference images
    heat = project_top_k(model, 'features.relu2', index, ModelInputs(images, MEAN, STD, show_progress=False), methods=['gradient_input']).pictures["gradient_input"][3, 0]
    masked = relevance_masked(np.repeat(expected[..., None], 3, axis=2), heat)
    cell = np.asarray(Image.open(folder / "img/3-gradient_input.png"))[: size * factor, : size * factor]
    assert np.array_equal(cell[::factor, ::factor], masked)
    assert (masked == expected[..., None]).any() and (masked < expected[..., None]).any()  # partly kept, partly dimmed
    assert 'src="img/3-deconvnet.png"' in channel_page and "Feature evolution" in channel_page
    assert page.count('class="pair"') == 4 + 2  # overview and evolution samples
    first = (site / "models/tiny/epoch-2/features.relu1/index.html").read_text()
    assert 'src="img/filters.png"' in first
    assert (site / "models/tiny/epoch-2/features.relu1/img/4-filter.png").is_file()

    # linear layers use the whole image
    linear = (site / "models/tiny/epoch-2/classifier.fc1_relu/index.html").read_text()
    assert "the whole image" in linear
    # only links to the other epoch and to the model, index and feature-map pages (not rendered here) are missing
    missing = {m.split(": missing ")[1] for m in broken_references(site)}
    other_epoch = {m for m in missing if "epoch-1/" in m}
    assert other_epoch and missing - other_epoch == {"../../index.html", "../../../../index.html", "../feature-maps/index.html"}


def test_sample_channels_spread_evenly():
    assert sample_channels(64, 4) == [0, 21, 42, 63]
    assert sample_channels(3, 16) == [0, 1, 2]
    assert sample_channels(10, 0) == []


def test_projection_crops_match_a_direct_projection(tied_zf, tied_probe, tied_normalisation):
    MEAN, STD = tied_normalisation
    """project_top_k's cropped projection equals the full projection cut at the receptive field."""
    from convatlas.analyses.deconv import project
    from convatlas.data.transforms import normalise

    model, images = tied_zf, tied_probe
    layers = ModelGraph(model, (1, 16, 16)).layers
    index, _, _ = build_index(model, layers, ModelInputs(images, MEAN, STD, show_progress=False), k=3)
    cropped = project_top_k(model, 'features.relu2', index, ModelInputs(images, MEAN, STD, batch_size=5, show_progress=False))
    row = index[(index.layer == "features.relu2") & (index.channel == 4) & (index["rank"] == 1)].iloc[0]
    full = project(model, normalise(images.data[[row.image]], MEAN, STD), "features.relu2", [[4, row.y, row.x]])[0, 0]
    field = layers[1].receptive_field
    (y0, x0, y1, x1), (oy, ox), _ = field.unit_geometry(int(row.y), int(row.x), 16, 16)
    got = cropped.pictures["deconvnet"][4, 1, :, :, 0]
    assert np.allclose(got[y0 - oy:y1 - oy, x0 - ox:x1 - ox], full[y0:y1, x0:x1].numpy(), atol=1e-6)
    # nothing of the projection lies outside the receptive field, so cropping loses nothing
    assert np.isclose(np.abs(full.numpy()).sum(), np.abs(got).sum(), rtol=1e-5)


def test_channels_outside_the_selection_show_patches_only(tmp_path, tied_zf, tied_probe, pictures_of,
                                                          tied_normalisation, repo):
    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    layer = layers[1]
    index, stats, predictions = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=4)
    covered = [0, 5]
    projections = project_top_k(tied_zf, layer.name, index, ModelInputs(tied_probe, mean, std, show_progress=False), methods=['deconvnet'], channels=covered)
    maximised = ChannelArrays(np.array(covered), {"noise": np.random.default_rng(0).random((2, 16, 16, 1))})
    page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, projections, {1: projections.pictures["deconvnet"][:, 0]},
                     maximised=maximised, covered=covered, overview_channels=4, evolution_channels=4)
    render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    folder = tmp_path / "site/models/tiny/epoch-1/features.relu2"
    assert (folder / "img/5-deconvnet.png").is_file() and not (folder / "img/3-deconvnet.png").exists()
    assert (folder / "img/5-max-noise.png").is_file() and not (folder / "img/3-max-noise.png").exists()
    assert "3-deconvnet.png" not in (folder / "channel-3.html").read_text()
    assert (folder / "img/3-patches.png").is_file()
    overview = (folder / "index.html").read_text()
    assert "cover 2 of the 6 channels, spread evenly (0, 5;" in overview
    assert overview.count('class="pair"') == 2 + 2  # overview and evolution only of covered channels
    assert not [p for p in broken_references(tmp_path / "site") if "img/" in p]


def test_another_probe_dataset_has_its_own_top_k_beside_the_models_own(tmp_path, tied_zf, tied_probe, pictures_of,
                                                                        tied_normalisation, repo):
    from convatlas.site.pages.layer import ProbeView

    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    layer = layers[1]
    own = tied_probe.subset(40)  # images 0-39 as the model's own dataset
    other = tied_probe.subset_indices(torch.arange(40, 70))  # 30 others, a copy of 0-9 among them
    index, stats, predictions = build_index(tied_zf, layers, ModelInputs(own, mean, std, show_progress=False), k=4)
    o_index, o_stats, o_predictions = build_index(tied_zf, layers, ModelInputs(other, mean, std, show_progress=False), k=4, predicted_labels=True)
    o_projections = project_top_k(tied_zf, layer.name, o_index, ModelInputs(other, mean, std, show_progress=False), methods=['deconvnet'])
    probe = ProbeView("others", o_index, o_stats, o_predictions, pictures_of(other), len(other), True, o_projections)
    page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                     pictures_of(own), own.classes, project_top_k(tied_zf, layer.name, index, ModelInputs(own, mean, std, show_progress=False), methods=['deconvnet']),
                     dataset="shapes", probe_images=len(own), probes=[probe])
    render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    folder = tmp_path / "site/models/tiny/epoch-1/features.relu2"
    channel = (folder / "channel-1.html").read_text()
    assert 'id="on-others">Top 4 on others' in channel and "classes are the model's predictions" in channel
    assert (folder / "img/1-on-others-patches.png").is_file() and (folder / "img/1-on-others-deconvnet.png").is_file()
    # its patches are the other set's own top-4 images, fitted as the model sees them
    rows = o_index[(o_index.layer == layer.name) & (o_index.channel == 1)].sort_values("rank")
    for image in rows.image:
        assert f"image {image}<br>" in channel.split('id="on-others"')[1]
    layer_page = (folder / "index.html").read_text()
    assert '<select id="probe">' in layer_page and "img/sprite-others.png" in layer_page
    assert (folder / "img/sprite-others.png").is_file()
    # which dataset has each channel's largest activation, counted over the layer
    own_max = stats[stats.layer == layer.name].set_index("channel")["max"]
    other_max = o_stats[o_stats.layer == layer.name].set_index("channel")["max"]
    wins = int((other_max > own_max).sum())
    assert f"<b>others</b> (30 images, classes by prediction) has the strongest activation of {wins} channels" in layer_page
    assert f"<b>shapes</b> (40 images, the model's own) has the strongest activation of {6 - wins} channels" in layer_page
    assert not [p for p in broken_references(tmp_path / "site") if "img/" in p]


def test_a_dead_channel_shows_no_fake_top_images(tmp_path, tied_zf, tied_probe, pictures_of, tied_normalisation, repo):
    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    layer = layers[0]  # features.relu1: channel 2 is never positive (tied_zf)
    index, stats, predictions = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=4)
    projections = project_top_k(tied_zf, layer.name, index, ModelInputs(tied_probe, mean, std, show_progress=False), methods=['deconvnet'])
    maximised = ChannelArrays(np.arange(5), {"noise": np.random.default_rng(0).random((5, 16, 16, 1))})
    page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, projections, maximised=maximised, overview_channels=5,
                     dataset="shapes", probe_images=len(tied_probe))
    render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    folder = tmp_path / "site/models/tiny/epoch-1/features.relu1"
    dead = (folder / "channel-2.html").read_text()
    assert "This channel is dead: it is never positive on the 70 probe images of shapes" in dead
    assert "2-patches.png" not in dead and "2-deconvnet.png" not in dead and "2-max-noise.png" not in dead
    assert "Response by class" not in dead and "most:" not in dead and "class selectivity" not in dead
    assert not (folder / "img/2-patches.png").exists()
    alive = (folder / "channel-1.html").read_text()
    assert "1-patches.png" in alive and "is dead" not in alive
    overview = (folder / "index.html").read_text()
    assert 'data-text="2  dead"' in overview  # no class to match a class filter
    assert "channel-2.html\" class=\"pair\"" not in overview and overview.count('class="pair"') == 4  # overview skips it
    mosaic = np.asarray(Image.open(folder / "img/maximised.png"))
    cell = mosaic.shape[1] // 5
    assert (mosaic[:, 2 * cell + 2: 3 * cell - 2] == 128).all()  # the dead channel's optimised image is a grey cell


def test_least_activating_images_only_where_the_ranking_allows(tmp_path, tied_zf, tied_probe, pictures_of,
                                                                tied_normalisation, repo):
    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    index, stats, predictions = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=4)
    shown = tied = 0
    for layer in (layers[0], layers[-1]):  # features.relu1 and classifier.fc1_relu
        page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                         pictures_of(tied_probe), tied_probe.classes, None, dataset="shapes", probe_images=len(tied_probe))
        render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
        folder = tmp_path / f"site/models/tiny/epoch-1/{layer.name}"
        rows = stats[stats.layer == layer.name].set_index("channel")
        for channel, row in rows[~rows["dead"]].iterrows():
            text = (folder / f"channel-{channel}.html").read_text()
            values = np.asarray(row["lowest_values"])
            if values.min() == values.max():  # e.g. a ReLU unit silent on many images
                tied += 1
                assert "an arbitrary pick among equals" in text and f"{channel}-least.png" not in text
            else:
                shown += 1
                assert f"{channel}-least.png" in text and (folder / f"img/{channel}-least.png").is_file()
                for value, image in zip(values, row["lowest_images"], strict=True):
                    assert f"{number(float(value))} · image {image}<" in text
    assert shown and tied  # both cases occur here


def test_a_channel_firing_on_fewer_than_k_images_shows_only_those(tmp_path, tied_zf, tied_probe, pictures_of,
                                                                  tied_normalisation, repo):
    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    layer = layers[0]
    index, stats, predictions = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=4)
    nearly_dead = (index.layer == layer.name) & (index.channel == 1) & (index["rank"] >= 2)
    index.loc[nearly_dead, "value"] = 0.0  # channel 1 now fires on two images only: ranks 2-3 are silent ties
    page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, dataset="shapes", probe_images=len(tied_probe))
    render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    html = (tmp_path / "site/models/tiny/epoch-1/features.relu1/channel-1.html").read_text()
    assert "<h2>Top 2" in html and "It fires on only 2 probe images" in html
    assert html.count("#3 ") == 0 and html.count("#2 ") == 1
    full = (tmp_path / "site/models/tiny/epoch-1/features.relu1/channel-0.html").read_text()
    assert "<h2>Top 4" in full and "It fires on only" not in full


def test_the_sanity_checks_choose_the_lead_picture_and_the_layer_page_tabulates_them(tmp_path, tied_zf, tied_probe,
                                                                                   pictures_of, tied_normalisation, repo):
    """Checks computed as the deconv job computes them; then, with the deconvnet's made to fail, the
    guided projections lead; with both failing, the patches lead and the page says why."""
    from convatlas.analyses.randomisation import projection_checks

    mean, std = tied_normalisation
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    layer = layers[1]
    index, stats, predictions = build_index(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=4)
    projections = project_top_k(tied_zf, layer.name, index, ModelInputs(tied_probe, mean, std, show_progress=False), methods=['deconvnet', 'guided'])
    checks = projection_checks(tied_zf, layer.name, index, ModelInputs(tied_probe, mean, std, batch_size=7), projections=projections)
    assert set(checks) == {"check_tiles_deconvnet", "check_tiles_guided", "check_random_deconvnet", "check_random_guided"}
    assert all(len(values) == len(projections.channels) for values in checks.values())
    assert np.isfinite(checks["check_random_deconvnet"]).sum() <= 8  # sampled channels only

    def render(checks, sub):
        page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                         pictures_of(tied_probe), tied_probe.classes, replace(projections, checks=checks), overview_channels=2)
        render_layer(page, Renderer(repo / "templates", tmp_path / sub))
        folder = tmp_path / sub / "models/tiny/epoch-1/features.relu2"
        return (folder / "index.html").read_text(), (folder / "channel-0.html").read_text()

    n = len(projections.channels)
    failing_deconvnet = {**checks, "check_tiles_deconvnet": np.full(n, 0.99), "check_tiles_guided": np.full(n, 0.3),
                         "check_random_guided": np.full(n, 0.1)}
    layer_page, channel = render(failing_deconvnet, "a")
    assert "Can these pictures be trusted?" in layer_page and "Channel pages lead with the guided backpropagation" in layer_page
    assert channel.index("0-guided.png") < channel.index("0-patches.png") < channel.index("<details>") < channel.index("0-deconvnet.png")
    both_failing = {**failing_deconvnet, "check_random_guided": np.full(n, 0.8)}
    layer_page, channel = render(both_failing, "b")
    assert "No kind of projection passes both checks here, so channel pages lead with the image patches" in layer_page
    assert "deconvnet projections: nearly one picture whatever the image (median tile correlation 0.99)" in channel
    assert "guided backpropagation: hardly changed by re-initialising the learned weights (rank correlation 0.80)" in channel
    assert "The image patches lead." in channel


def test_ablation_effect_per_class_carries_each_class_images():
    import pandas as pd

    from convatlas.site.pages.layer import _ablation_effect, _class_counts

    predictions = pd.DataFrame({"image": range(8), "label": [0, 1, 1, 0, 1, 1, 0, 0], "predicted": 0, "probability": 1.0})
    counts = _class_counts(predictions, 6, 3)  # the first 6 images: labels 0, 1, 1, 0, 1, 1
    assert counts == [2, 4, 0]
    row = pd.Series({"base_accuracy": 0.5, "accuracy": 0.5, "accuracy_drop": 0.0, "drop_low": -0.1, "drop_high": 0.1,
                     "images": 6, "lost": 1, "gained": 1, "class_accuracy": [0.5, 0.5, float("nan")],
                     "base_class_accuracy": [1.0, 0.25, float("nan")]})
    effect = _ablation_effect(row, ["a", "b", "c"], counts)
    assert [c["images"] for c in effect["classes"]] == [2, 4, 0] and effect["noise"]


def test_channel_pages_show_examples_across_the_range_with_the_right_patches(tmp_path, tied_zf, tied_probe, pictures_of, repo):
    from convatlas.analyses.index import index_pass, index_tables, level_table

    mean, std = [0.3], [0.3]
    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    layer = layers[1]  # features.relu2
    accumulators, predictions, _ = index_pass(tied_zf, layers, ModelInputs(tied_probe, mean, std, show_progress=False), k=4)
    index, stats = index_tables(accumulators, tied_probe.classes)
    levels = level_table(accumulators)
    page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, dataset="shapes", probe_images=len(tied_probe), levels=levels)
    folder = render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    rows = levels[(levels.layer == layer.name) & (levels.channel == 3)]
    html = (folder / "channel-3.html").read_text()
    assert "Across its range" in html
    bins = rows.groupby("level").bin_low.first()
    assert len(set(bins)) == 3 and html.count("th percentile</b>") == 3  # three levels, three bins here
    assert html.index("<b>99th percentile") < html.index("<b>90th percentile") < html.index("<b>50th percentile")
    # the first example of the 50th percentile's row: the receptive-field crop at its (y, x)
    row = rows[(rows.level == np.float32(0.5)) & (rows["rank"] == 0)].iloc[0]
    size = layer.receptive_field.y.size
    expected = field_crop(tied_probe.data[row.image, 0].numpy(), layer.receptive_field, row.y, row.x)
    sheet = np.asarray(Image.open(folder / "img/3-levels.png"))
    factor = 96 // size
    top = 2 * (size * factor + GAP)  # the third row: levels run 99th, 90th, 50th
    assert np.array_equal(sheet[top:top + size * factor:factor, : size * factor:factor, 0], expected)
    assert f"{number(float(row.value))} · image {row.image}<" in html
    dead = (folder / "channel-2.html").read_text() if stats[stats.layer == layer.name].dead.iloc[2] else ""
    assert "Across its range" not in dead


def test_channel_pages_show_facets_and_the_layer_page_sorts_by_kinds(tmp_path, tied_zf, tied_probe, pictures_of, repo):
    from convatlas.analyses.index import facet_tables, index_pass, index_tables

    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    layer = layers[1]
    accumulators, predictions, embeddings = index_pass(tied_zf, layers, ModelInputs(tied_probe, [0.3], [0.3], show_progress=False),
                                                       k=4, kept=30)
    index, stats = index_tables(accumulators, tied_probe.classes)
    facets = facet_tables(accumulators, embeddings, predictions.label.to_numpy(), tied_probe.classes)
    page = LayerPage("tiny", 1, layer.name, layer_info(layer), [layer.name], [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, dataset="shapes", probe_images=len(tied_probe), facets=facets)
    folder = render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    rows = facets[(facets.layer == layer.name) & (facets.channel == 3)]
    html = (folder / "channel-3.html").read_text()
    assert f"Facets of its top {rows.images.iloc[0]} images" in html and html.count("<b>Facet ") == len(rows)
    kinds = int(rows.kinds.iloc[0])
    assert f"<b>{kinds} {'kind' if kinds == 1 else 'kinds'}</b>" in html and "they do not prove it" in html
    for row in rows.itertuples():
        assert f"{row.count} of {row.images} images" in html
    sheet = np.asarray(Image.open(folder / "img/3-facets.png"))
    assert sheet.shape[0] > 0 and (folder / "img/3-facets.png").is_file()
    layer_page = (folder / "index.html").read_text()
    assert '<option value="kinds">' in layer_page and f'data-kinds="{kinds * 100 + rows.entropy.iloc[0]}"' in layer_page


def test_channel_pages_link_the_channels_they_read_from_and_feed(tmp_path, tied_zf, tied_probe, pictures_of, repo):
    from convatlas.analyses.connections import connection_strengths, feed_strengths
    from convatlas.analyses.index import build_index
    from convatlas.results.artifacts import Projections

    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    names = [layer.name for layer in layers]
    inputs = ModelInputs(tied_probe, [0.3], [0.3], show_progress=False)
    index, stats, predictions = build_index(tied_zf, layers, inputs, k=4)
    reads = connection_strengths(tied_zf, names[0], names[1], index, inputs, list(range(6)))
    feeds = feed_strengths(tied_zf, names[1], names[2], index, inputs, list(range(6)))
    page = LayerPage("tiny", 1, names[1], layer_info(layers[1]), names, [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, dataset="shapes", probe_images=len(tied_probe),
                     projections=Projections(np.arange(6), connections=reads, connections_from=names[0], feeds=feeds,
                                             feeds_to=names[2]))
    folder = render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    html = (folder / "channel-3.html").read_text()
    strongest_in = int(np.argmax(np.abs(reads[3])))
    strongest_out = int(np.argmax(np.abs(feeds[3])))
    assert f'href="../{names[0]}/channel-{strongest_in}.html"' in html and f"{reads[3, strongest_in]:+.3g}" in html
    assert f'href="../{names[2]}/channel-{strongest_out}.html"' in html and f"{feeds[3, strongest_out]:+.3g}" in html
    expected = min(5, int((reads[3] != 0).sum())) + min(5, int((feeds[3] != 0).sum()))  # five each way, none of zero
    assert html.count('class="link"') == expected and expected >= 8
    assert "<b>Reads from</b>" in html and "<b>Feeds</b>" in html
    last = LayerPage("tiny", 1, names[1], layer_info(layers[1]), names[:2], [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, dataset="shapes", probe_images=len(tied_probe),
                     projections=Projections(np.arange(6), connections=reads, connections_from=names[0]))
    only_reads = (render_layer(last, Renderer(repo / "templates", tmp_path / "last")) / "channel-3.html").read_text()
    assert "<b>Reads from</b>" in only_reads and "<b>Feeds</b>" not in only_reads and "it feeds most" not in only_reads
    layer_page = (folder / "index.html").read_text()
    i, j = np.unravel_index(np.argmax(np.abs(reads)), reads.shape)
    assert "Strongest connections from" in layer_page and f"{reads[i, j]:+.3g}" in layer_page


def test_a_live_channel_without_facets_says_why(tmp_path, tied_zf, tied_probe, pictures_of, repo):
    from convatlas.analyses.index import facet_tables, index_pass, index_tables

    layers = ModelGraph(tied_zf, (1, 16, 16)).layers
    accumulators, predictions, embeddings = index_pass(tied_zf, layers, ModelInputs(tied_probe, [0.3], [0.3], show_progress=False),
                                                       k=4, kept=30)
    index, stats = index_tables(accumulators, tied_probe.classes)
    facets = facet_tables(accumulators, embeddings, predictions.label.to_numpy(), tied_probe.classes)
    facets = facets[~((facets.layer == layers[1].name) & (facets.channel == 3))]  # as for one no top image excites
    few = (facets.layer == layers[1].name) & (facets.channel == 4)
    facets.loc[few, "images"] = 6  # as for a channel with 6 positive top images: one facet, not split
    facets.loc[few, "top_class_ties"] = 2  # and two classes equally common among its images
    page = LayerPage("tiny", 1, layers[1].name, layer_info(layers[1]), [layers[1].name], [1], index, stats, predictions,
                     pictures_of(tied_probe), tied_probe.classes, dataset="shapes", probe_images=len(tied_probe), facets=facets)
    folder = render_layer(page, Renderer(repo / "templates", tmp_path / "site"))
    assert "nothing to group" in (folder / "channel-3.html").read_text()
    four = (folder / "channel-4.html").read_text()
    assert "nothing to group" not in four and "Facets of its top 6 images" in four
    assert "Only 6 of its top images give a positive response, too few to split (10 needed)" in four
    shared = int(round(facets[few].top_class_share.iloc[0] * facets[few]["count"].iloc[0]))
    assert f"no most common class: 2 classes have {shared} image{'s' if shared != 1 else ''} each" in four
    assert "most common class" in (folder / "channel-5.html").read_text()
    assert "too few to split" not in (folder / "channel-5.html").read_text()
