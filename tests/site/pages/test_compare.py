"""Page builders on small synthetic tables and arrays: no model, no training."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from convatlas.site import layout
from convatlas.site.linkcheck import broken_references
from convatlas.site.pages.ablation import GALLERY_GAP, render_ablation
from convatlas.site.pages.analyses import render_analyses
from convatlas.site.pages.compare import render_comparison
from convatlas.site.pages.feature_maps import render_feature_maps
from convatlas.site.pages.overview import render_overview
from convatlas.site.render import Renderer, relative_link

CLASSES = ["disc", "square", "ring"]
LAYERS = [{"name": "features.relu1", "kind": "conv", "shape": [4, 8, 8], "channels": 4, "receptive_field": 3},
          {"name": "classifier.fc1_relu", "kind": "linear", "shape": [6], "channels": 6, "receptive_field": None}]


def pictures(indices):
    """Deterministic 12x12 grey pictures, one per index."""
    indices = list(indices)
    return np.stack([np.full((1, 12, 12), 10 * i % 256, dtype=np.uint8) for i in indices]) if indices \
        else np.zeros((0, 1, 12, 12), np.uint8)


@pytest.fixture
def renderer(repo, tmp_path):
    return Renderer(repo / "templates", tmp_path / "site", "test atlas")


def missing_targets(site):
    return {problem.split(": missing ")[1] for problem in broken_references(site) if ": missing " in problem}


def summary(name="tiny"):
    return {"name": name, "arch": "zf", "params": {"widths": [4]}, "class_name": "ZFNet", "dataset": "shapes",
            "dataset_kind": "synthetic", "classes": CLASSES, "input_shape": [1, 12, 12], "parameters": 1234,
            "epoch": 2, "provenance": None, "test_accuracy": 0.75, "test_top5_accuracy": 1.0, "test_loss": 0.5,
            "per_class_accuracy": [0.5, 1.0, 0.75], "layers": LAYERS,
            "train_log": [{"epoch": e, "train_loss": 1.0 / e, "train_accuracy": 0.5, "test_loss": 1.0, "test_accuracy": 0.6,
                           "seconds": 1.5} for e in (1, 2)]}


def stats_table():
    rows = []
    for layer in LAYERS:
        for c in range(layer["channels"]):
            rows.append({"layer": layer["name"], "channel": c, "dead": c == 0, "selectivity": c / 10})
    return pd.DataFrame(rows)


def test_relative_links_between_site_paths():
    assert relative_link("models/m/epoch-1/l/channel-3.html", "models/m/index.html") == "../../index.html"
    assert relative_link("models/m/epoch-1/l/index.html", "models/m/epoch-1/l/img/sprite.png") == "img/sprite.png"
    assert relative_link("index.html", layout.model_page("m")) == "models/m/index.html"


def test_ablation_page_lists_experiments_strongest_channels_and_flipped_images(renderer, tmp_path):
    k = len(CLASSES)
    experiment = {"channels": {"features.relu1": [1, 2]}, "accuracy_before": 0.9, "accuracy_after": 0.6,
                  "class_accuracy_before": [0.9] * k, "class_accuracy_after": [0.6] * k,
                  "confusion_before": np.eye(k, dtype=int).tolist(), "confusion_after": np.ones((k, k), int).tolist(),
                  "flipped": [{"image": 3, "label": 0, "now": 1}, {"image": 5, "label": 2, "now": 0}], "recovered": 1,
                  "images": 10, "change_interval": [-0.55, -0.05]}
    tables = {"features.relu1": pd.DataFrame({"channel": [0, 1, 2, 3], "accuracy_drop": [0.0, 0.3, 0.1, 0.02],
                                              "drop_low": [-0.1, 0.1, -0.05, -0.08], "drop_high": [0.1, 0.5, 0.25, 0.12],
                                              "base_accuracy": 0.9})}
    render_ablation(renderer, "tiny", 2, {"classes": CLASSES, "images": 10, "experiments": {"off2": experiment}},
                    tables, pictures)
    page = (tmp_path / "site" / layout.ablation_page("tiny", 2)).read_text()
    assert "Experiment <code>off2</code>: 2 channels off together" in page
    assert ("Accuracy on 10 images 90.00% <span class=\"muted\">(59.58–98.21%)</span> → <b>60.00%</b> "
            "<span class=\"muted\">(31.27–83.18%)</span>:\n   −30.00 points (95% interval −55.00 to −5.00 points);") in page  # Wilson, by hand
    assert '<td class="num">−30.00 points</td><td class="num muted">−50.00 to −10.00 points</td>' in page  # channel 1
    assert '<td class="num noise">−10.00 points</td>' in page  # channel 2: its interval includes zero
    assert page.index('href="../features.relu1/channel-1.html">#1') < page.index('href="../features.relu1/channel-2.html">#2')
    gallery = np.asarray(Image.open(tmp_path / "site" / layout.ablation_image("tiny", 2, "off2-flipped")))
    cell = 12 * 4  # 12 px upscaled 4x towards 56 px
    assert gallery.shape[:2] == (cell, 2 * cell + GALLERY_GAP)
    assert f"background-position: -{cell + GALLERY_GAP}px 0" in page
    assert (tmp_path / "site" / layout.ablation_image("tiny", 2, "off2-confusion")).is_file()


def test_comparison_page_without_transfer_omits_the_section(renderer, tmp_path):
    probes = pd.DataFrame({"layer": [layer["name"] for layer in LAYERS], "features": [4, 6], "train_accuracy": [0.5, 0.8],
                           "accuracy": [0.4, 0.7]})
    render_comparison(renderer, {"tiny": 2}, {"tiny": summary()}, {"tiny": stats_table()}, {"tiny": probes},
                      {"tiny": [0, 4, 8, 9]}, {})
    page = (tmp_path / "site" / layout.compare_page()).read_text()
    assert "Transfer to new classes" not in page and "Linear probes" in page
    assert page.count('href="models/tiny/epoch-2/analyses/occlusion-') == 3  # three occluded images shown
    assert 'href="models/tiny/epoch-2/features.relu1/channel-3.html"' in page  # the most selective live channel
    assert (tmp_path / "site" / layout.compare_image("linear-probes")).is_file()


def test_comparison_page_with_transfer_tabulates_mean_and_interval(renderer, tmp_path):
    probes = pd.DataFrame({"layer": ["features.relu1"], "features": [4], "train_accuracy": [0.5], "accuracy": [0.4]})
    accuracy = {(1, "transfer"): [0.6, 0.7, 0.65], (1, "scratch"): [0.4, 0.4, 0.4],  # differences 0.2, 0.3, 0.25: ahead
                (5, "transfer"): [0.8, 0.8, 0.8], (5, "scratch"): [0.6, 0.8, 0.9]}  # 0.2, 0, -0.1: within noise
    transfer = pd.DataFrame([{"method": method, "shots": shots, "draw": draw, "accuracy": values[draw]}
                             for (shots, method), values in accuracy.items() for draw in range(3)]).assign(
        source_accuracy=0.9, test_images=200, source_classes="disc, square", target_classes="hstripes, vstripes")
    render_comparison(renderer, {"tiny": 2}, {"tiny": summary()}, {"tiny": stats_table()}, {"tiny": probes},
                      {"tiny": [0]}, {"tiny": transfer})
    page = (tmp_path / "site" / layout.compare_page()).read_text()
    assert "Transfer to new classes" in page and "tiny: 90.0% test accuracy on them" in page
    assert "source classes (disc, square)" in page and "per new class (hstripes, vstripes)" in page
    assert "Accuracy on 200 test images of the new classes" in page
    # mean 0.65, SD 0.05 over 3 draws: 0.65 +- 4.303 * 0.05 / sqrt(3) = 0.526 to 0.774
    assert ('<td class="num">1</td><td class="num">65.0% <span class="muted">(52.6% to 77.4%)</span></td>'
            '<td class="num">40.0% <span class="muted">(40.0% to 40.0%)</span></td>') in page
    assert "<th>frozen conv features</th><th>trained from scratch</th></tr>" in page  # only measured methods
    assert "over 3 draws" in page
    assert "tiny: the frozen conv features are ahead of training from scratch at 1 and behind at 0 of 2 budgets." in page
    assert "last hidden layer" not in page


def test_comparison_page_reads_a_last_hidden_layer_that_transfers_worse(renderer, tmp_path):
    methods = ["transfer", "last_hidden", "random", "scratch"]
    accuracy = {"transfer": [0.6, 0.8], "last_hidden": [0.5, 0.7], "random": [0.55, 0.75], "scratch": [0.5, 0.9]}
    transfer = pd.DataFrame([{"method": m, "shots": shots, "draw": draw, "accuracy": accuracy[m][i] + 0.01 * draw}
                             for m in methods for i, shots in enumerate((1, 5)) for draw in (0, 1)])
    transfer.loc[(transfer.method == "scratch") & (transfer.shots == 1) & (transfer.draw == 1), "accuracy"] = 0.7
    transfer = transfer.assign(source_accuracy=0.9, test_images=200, source_classes="disc, square",
                               target_classes="hstripes, vstripes", source_class_count=2)
    render_comparison(renderer, {"tiny": 2}, {"tiny": summary()}, {"tiny": stats_table()}, {}, {}, {"tiny": transfer})
    page = (tmp_path / "site" / layout.compare_page()).read_text()
    assert ("<th>frozen conv features</th><th>frozen last hidden layer</th><th>frozen untrained conv features</th>"
            "<th>trained from scratch</th>") in page
    # scratch: behind at 5 shots in both draws; at 1 shot ahead in draw 0, behind in draw 1 (0.61 < 0.7)
    assert ("tiny: the frozen conv features are ahead of the untrained ones at 2 and behind at 0 of 2 budgets, "
            "ahead of training from scratch at 0 and behind at 1 of 2 budgets; "
            "the last hidden layer is ahead of the conv features at 0 and behind at 2.") in page
    assert "trained to tell only 2 source classes apart" in page
    assert "Where the conv features are behind the untrained ones" not in page


def test_overview_pages_link_every_model_and_show_variants(renderer, tmp_path):
    for name in ("curves", "per_class", "classes"):
        Image.new("RGB", (4, 4)).save(renderer.path(layout.model_image("tiny", name)).parent.mkdir(parents=True, exist_ok=True)
                                       or renderer.path(layout.model_image("tiny", name)))
    variants = [{"model": "tiny", "params": "{}", "epoch": 2, "parameters": 10, "train_error": 0.1, "test_error": 0.2,
                 "train_top5_error": float("nan"), "test_top5_error": float("nan")}]
    render_overview(renderer, [summary()], {"tiny": [1, 2]}, {"tiny": variants})
    index = (tmp_path / "site" / layout.index_page()).read_text()
    model = (tmp_path / "site" / layout.model_page("tiny")).read_text()
    assert 'href="models/tiny/index.html"' in index
    assert "Layer ablation" in model and "top-5" not in model.split("Layer ablation")[1].split("</table>")[0]
    assert 'href="epoch-1/features.relu1/index.html">1</a>' in model
    missing = missing_targets(tmp_path / "site")
    assert missing and all("epoch-" in target or target in ("compare.html", "run.html") for target in missing)


@pytest.mark.parametrize("left_out", ["maximise", "occlusion", "ablation", "feature_maps", "all"])
def test_model_page_omits_the_sections_left_out(renderer, tmp_path, left_out):
    for name in ("curves", "per_class") if left_out in ("maximise", "all") else ("curves", "per_class", "classes"):
        Image.new("RGB", (4, 4)).save(renderer.path(layout.model_image("tiny", name)).parent.mkdir(parents=True, exist_ok=True)
                                       or renderer.path(layout.model_image("tiny", name)))
    sections = renderer.env.globals["sections"]
    off = list(sections) if left_out == "all" else [left_out]
    renderer.env.globals["sections"] = {**sections, **dict.fromkeys(off, False)}
    render_overview(renderer, [summary()], {"tiny": [2]}, {})
    model = (tmp_path / "site" / layout.model_page("tiny")).read_text()
    present = {"maximise": "Class images" in model, "feature_maps": "Feature maps" in model,
               "occlusion": "occlusion sensitivity" in model, "ablation": 'href="epoch-2/ablation/index.html"' in model}
    for name, shown in present.items():
        assert shown == (name not in off), name
    assert ("What the network depends on" in model) == (left_out != "all")
    assert all("epoch-" in t or t in ("compare.html", "run.html") for t in missing_targets(tmp_path / "site"))  # pages other jobs write


def test_analysis_pages_render_only_the_analyses_given(renderer, tmp_path):
    invariance = pd.DataFrame([{"transform": "rotation", "value": v, "image": 0, "first_distance": 0.1, "top_distance": 0.2,
                                "probability": 0.5, "label": "disc"} for v in (0, 90)])
    strips = {"rotation": np.zeros((2, 1, 1, 12, 12), np.uint8), "first_layer": np.array("features.relu1"),
              "top_layer": np.array("classifier.fc1_relu")}
    render_analyses(renderer, "tiny", 2, CLASSES, ["features.relu1"], invariance=(invariance, strips))
    folder = tmp_path / "site" / layout.analyses_dir("tiny", 2)
    assert sorted(p.name for p in folder.glob("*.html")) == ["invariance.html"]


def test_feature_map_pages_show_every_layer_of_every_image(renderer, tmp_path):
    maps = {"images": pictures([0, 1]), "labels": np.array([0, 2]), "predicted": np.array([0, 1]),
            "map features.relu1": np.random.default_rng(0).random((2, 4, 8, 8)).astype(np.float32),
            "map classifier.fc1_relu": np.zeros((2, 6), np.float32)}
    render_feature_maps(renderer, "tiny", 2, maps, LAYERS, CLASSES)
    page = (tmp_path / "site" / layout.feature_maps_page("tiny", 2, 1)).read_text()
    assert "predicted square" in page and "true class ring" in page
    for name in ("1-input", "1-features.relu1", "1-classifier.fc1_relu"):
        assert (tmp_path / "site" / layout.feature_maps_image("tiny", 2, name)).is_file()
    channel_pages = {f"../{layer}/channel-{c}.html" for layer, n in (("features.relu1", 4), ("classifier.fc1_relu", 6))
                     for c in range(n)}
    assert 'title="channel 3: max ' in page and 'href="../features.relu1/channel-3.html"' in page
    assert missing_targets(tmp_path / "site") <= {"../../index.html", "../../../../index.html",
                                                  "../features.relu1/index.html", "../classifier.fc1_relu/index.html",
                                                  *channel_pages}


def test_analysis_pages_from_small_arrays(renderer, tmp_path):
    n, windows = 2, [3, 5]
    occlusion = {"windows": np.array(windows), "stride": np.array(2), "layer": np.array("features.relu1"),
                 "images": np.array([4, 7]), "labels": np.array([0, 1]), "predicted": np.array([0, 2]),
                 "probability": np.array([0.9, 0.4]), "channels": np.array([1, 3]),
                 "projection": np.zeros((n, 12, 12, 1), np.float32)}
    for w in windows:
        occlusion[f"activity_{w}"] = np.ones((n, 6, 6), np.float32)
        occlusion[f"probability_{w}"] = np.full((n, 6, 6), 0.5, np.float32)
        occlusion[f"predicted_{w}"] = np.zeros((n, 6, 6), np.int64)
    table = pd.DataFrame({"part": ["top", "random"], "layer": ["features.relu1"] * 2, "delta": [0.2, 0.4],
                          "std": [0.01, 0.02], "draws": [1, 3]})
    meta = {"class": "disc", "images": [0, 3], "boxes": {"top": [0, 2, 5, 10]}, "layers": ["features.relu1"]}
    invariance = pd.DataFrame([{"transform": t, "value": v, "image": i, "first_distance": 0.1, "top_distance": 0.2,
                                "probability": 0.5, "label": "disc"}
                               for t in ("translation", "rotation", "scale") for v in (0, 1) for i in (0, 1)])
    strips = {t: np.zeros((2, 2, 1, 12, 12), np.uint8) for t in ("translation", "rotation", "scale")}
    strips.update(first_layer=np.array("features.relu1"), top_layer=np.array("classifier.fc1_relu"))
    render_analyses(renderer, "tiny", 2, CLASSES, ["features.relu1"], (occlusion, pictures([4, 7])),
                    (table, meta, pictures([0, 3])), (invariance, strips))
    summary_page = (tmp_path / "site" / layout.analysis_page("tiny", 2, "occlusion")).read_text()
    assert summary_page.index('href="occlusion-4.html"') < summary_page.index('href="occlusion-7.html"')  # larger drop first
    image_page = (tmp_path / "site" / layout.analysis_page("tiny", 2, "occlusion", 4)).read_text()
    assert 'href="../features.relu1/channel-1.html"' in image_page
    correspondence = (tmp_path / "site" / layout.analysis_page("tiny", 2, "correspondence")).read_text()
    assert "0.200 ± 0.010" in correspondence and "(3 draws)" in correspondence
    assert missing_targets(tmp_path / "site") <= {"../../index.html", "../../../../index.html", "../../findings.html",
                                                  "../features.relu1/channel-1.html", "../features.relu1/channel-3.html"}


def test_comparison_page_says_which_probe_dataset_excites_each_channel_most(renderer, tmp_path):
    from convatlas.site.pages.compare import excited_most

    probes = pd.DataFrame({"layer": ["features.relu1"], "features": [4], "train_accuracy": [0.5], "accuracy": [0.4]})
    own = stats_table().assign(max=[1.0, 2.0, 3.0, 0.0] + [1.0] * 6)
    photos = own.assign(max=[2.0, 2.0, 1.0, 0.5] + [0.5] * 6)  # channel 0 and 3 stronger; channel 1 a tie (own wins)
    rows = excited_most({"shapes": own, "photos": photos})
    first = rows[0]
    assert first["layer"] == "features.relu1" and first["channels"] == 4
    assert [(d["name"], d["most"], d["median_max"]) for d in first["datasets"]] == [("shapes", 2, 1.5), ("photos", 2, 1.5)]
    assert [d["most"] for d in rows[1]["datasets"]] == [6, 0]
    render_comparison(renderer, {"tiny": 2}, {"tiny": summary()}, {"tiny": own}, {"tiny": probes}, {"tiny": [0]}, {},
                      {"tiny": {"shapes": None, "photos": photos}})
    page = (tmp_path / "site" / layout.compare_page()).read_text()
    assert "Which probe dataset excites tiny" in page and "<th>photos: strongest on</th>" in page
    assert '<td class="num">2 (50.0%)</td><td class="num">1.50</td>' in page


def test_occlusion_figure_of_a_1000_class_model_colours_the_classes_it_shows(tmp_path):
    from convatlas.site.plots import occlusion_figure

    classes = [f"class {i}" for i in range(1000)]
    predicted = np.full((6, 6), 907, np.int64)
    predicted[:2] = 5
    maps = {"activity": {7: np.ones((6, 6))}, "probability": {7: np.full((6, 6), 0.5)}, "predicted": {7: predicted}}
    path = tmp_path / "occlusion.png"
    occlusion_figure(np.zeros((12, 12, 3)), np.zeros((12, 12, 3)), [7], maps, classes, 907, path)
    pixels = np.asarray(Image.open(path).convert("RGB"))
    assert pixels.shape[0] > 100
    # the class map's two classes get two different colours of the palette
    import matplotlib.pyplot as plt

    colours = {tuple(int(255 * v) for v in colour) for colour in plt.get_cmap("tab10").colors[:2]}
    found = {tuple(int(v) for v in p) for p in np.unique(pixels.reshape(-1, 3), axis=0)}
    assert all(any(sum(abs(a - b) for a, b in zip(c, f, strict=True)) <= 3 for f in found) for c in colours)


def test_comparison_picks_only_channels_with_projections_and_omits_probes_without_labels(renderer, tmp_path):
    no_probe = pd.DataFrame({"layer": [layer["name"] for layer in LAYERS], "features": [4, 6], "train_accuracy": [float("nan")] * 2,
                             "accuracy": [float("nan")] * 2})
    render_comparison(renderer, {"tiny": 2}, {"tiny": summary()}, {"tiny": stats_table()}, {"tiny": no_probe},
                      {"tiny": [0]}, {}, None, {"tiny": {"features.relu1": {1, 2}}})
    page = (tmp_path / "site" / layout.compare_page()).read_text()
    assert 'href="models/tiny/epoch-2/features.relu1/channel-2.html"' in page  # channel 3 is more selective but not projected
    assert "channel-3.html" not in page
    assert "Linear probes" not in page and not (tmp_path / "site" / layout.compare_image("linear-probes")).exists()


def test_signed_points_is_the_one_format_of_accuracy_changes():
    from convatlas.site.render import signed_points

    assert signed_points(0.0123, 2) == "+1.23 points" and signed_points(-0.008) == "−0.8 points"
    assert signed_points(-0.00001, 2) == "0.00 points" and signed_points(0.0) == "0.0 points"  # no "−0.00"
    assert signed_points(float("nan")) == "–"


def test_accuracies_carry_their_n_and_wilson_interval_and_counts_their_plural():
    from convatlas.site.render import accuracy_interval, plural, wilson

    assert wilson(0.5, 10) == "23.7–76.3%" and wilson(0.9, None) == "–"  # Newcombe's 5/10: 0.2366-0.7634
    assert accuracy_interval(0.9025, 10_000, 2) == "n = 10,000; 95%: 89.65–90.82%"  # 0.9023 ± 0.0058 by hand
    assert accuracy_interval(0.9, None) == "n unknown" and accuracy_interval(float("nan"), 10) == "–"
    assert plural(1, "image") == "1 image" and plural(1000, "image") == "1,000 images" and plural(0, "class", "classes") == "0 classes"


def test_models_measured_on_the_same_images_are_compared_pairwise_and_unequal_training_is_flagged():
    import pandas as pd

    from convatlas.site.pages.compare import paired_comparisons

    labels = [0, 1, 2, 3] * 5
    right = pd.DataFrame({"image": range(20), "label": labels, "predicted": labels})
    wrong_two = right.assign(predicted=[(p + 1) % 4 if i < 2 else p for i, p in enumerate(labels)])
    summaries = {"a": {"epoch": 3, "test_accuracy": 0.9}, "b": {"epoch": 5, "test_accuracy": 1.0},
                 "c": {"epoch": 5, "test_accuracy": None}}  # c: unlabelled photos, nothing to compare
    rows = paired_comparisons(summaries, {"a": wrong_two, "b": right.sample(frac=1, random_state=0), "c": right})
    assert len(rows) == 1
    row = rows[0]
    assert (row["first"], row["second"], row["n"], row["only_first"], row["only_second"]) == ("a", "b", 20, 0, 2)
    assert row["difference"] == pytest.approx(0.1) and row["p"] == pytest.approx(0.5)  # 2 x 0.5^2
    assert row["noise"] and row["unequal"] and row["epochs"] == (3, 5)
    other_images = right.assign(image=range(1, 21))
    assert paired_comparisons(summaries, {"a": wrong_two, "b": other_images}) == []


def test_numbers_are_fixed_notation_and_parameters_read_as_text():
    from convatlas.site.render import number, params_text

    assert number(5.94e-06) == "≈ 0" and number(0.012345) == "0.0123" and number(-2.5) == "−2.50"
    assert number(1234.5) == "1234" and number(0.21) == "0.210" and number(float("nan")) == "–" and number(0) == "0"
    assert params_text({}) == "defaults" and params_text('{"widths": [16, 32, 64]}') == "widths 16, 32, 64"
    assert params_text({"widths": [4, 8], "blocks": 1}) == "widths 4, 8; blocks 1"


def test_variants_are_compared_with_their_base_on_the_same_images():
    import numpy as np

    from convatlas.site.pages.overview import with_paired_changes

    base = np.array([True] * 90 + [False] * 10)
    variant = base.copy()
    variant[:12] = False  # 12 more errors, none fixed
    rows = with_paired_changes([{"model": "zf", "test_correct": base}, {"model": "zf-narrow", "test_correct": variant}])
    change = rows[1]["change"]
    assert rows[0]["change"] is None and change["error"] == pytest.approx(0.12)
    assert change["low"] > 0 and not change["noise"] and change["p"] == pytest.approx(2 * 0.5 ** 12)
    assert with_paired_changes([{"model": "old"}]) == [{"model": "old"}]  # tables written before: as they were


def test_findings_page_states_each_claim_with_its_test_and_verdict(renderer, tmp_path):
    from convatlas.analyses.findings import findings
    from convatlas.site.pages.findings import render_findings

    from ..analyses.test_findings import invariance_table, pairs_table

    pairs = pairs_table({"features.relu1": 0.1, "classifier.fc1_relu": 0.45}, {"features.relu1": 0.5, "classifier.fc1_relu": 0.5})
    invariance = (invariance_table(0.8, 0.3, {"translation": 0.8, "scale": 0.7, "rotation": 0.1}), "features.relu1",
                  "classifier.fc1_relu")
    results = findings("tiny", (pairs, ["features.relu1", "classifier.fc1_relu"]), invariance)
    render_findings(renderer, "tiny", 2, results, summary())
    page = (tmp_path / "site" / layout.findings_page("tiny")).read_text()
    assert page.count('class="verdict reproduced"') == 3 and page.count('class="verdict not-measured"') == 3
    assert "3 reproduced, 3 not measured" in page and "0.00 to" not in page.replace("+0.00", "") and "bootstrap over 6 images (15 pairs)" in page
    assert 'href="epoch-2/analyses/correspondence.html"' in page and 'href="epoch-2/analyses/invariance.html"' in page
    assert "e-0" not in page and "e+0" not in page  # fixed notation
    assert "No architecture variants of tiny are configured" in page
