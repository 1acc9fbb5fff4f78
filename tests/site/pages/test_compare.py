"""The comparison page, from small synthetic tables: no model, no training."""
from dataclasses import replace

import pandas as pd
import pytest

from convatlas.site import layout
from convatlas.site.pages.compare import render_comparison

from .synthetic import LAYERS, stats_table, summary


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


def test_comparison_picks_only_channels_with_projections_and_omits_probes_without_labels(renderer, tmp_path):
    no_probe = pd.DataFrame({"layer": [layer["name"] for layer in LAYERS], "features": [4, 6], "train_accuracy": [float("nan")] * 2,
                             "accuracy": [float("nan")] * 2})
    render_comparison(renderer, {"tiny": 2}, {"tiny": summary()}, {"tiny": stats_table()}, {"tiny": no_probe},
                      {"tiny": [0]}, {}, None, {"tiny": {"features.relu1": {1, 2}}})
    page = (tmp_path / "site" / layout.compare_page()).read_text()
    assert 'href="models/tiny/epoch-2/features.relu1/channel-2.html"' in page  # channel 3 is more selective but not projected
    assert "channel-3.html" not in page
    assert "Linear probes" not in page and not (tmp_path / "site" / layout.compare_image("linear-probes")).exists()


def test_models_measured_on_the_same_images_are_compared_pairwise_and_unequal_training_is_flagged():
    import pandas as pd

    from convatlas.site.pages.compare import paired_comparisons

    labels = [0, 1, 2, 3] * 5
    right = pd.DataFrame({"image": range(20), "label": labels, "predicted": labels})
    wrong_two = right.assign(predicted=[(p + 1) % 4 if i < 2 else p for i, p in enumerate(labels)])
    summaries = {"a": replace(summary("a"), epoch=3, test_accuracy=0.9), "b": replace(summary("b"), epoch=5, test_accuracy=1.0),
                 "c": replace(summary("c"), epoch=5, test_accuracy=None)}  # c: unlabelled photos, nothing to compare
    rows = paired_comparisons(summaries, {"a": wrong_two, "b": right.sample(frac=1, random_state=0), "c": right})
    assert len(rows) == 1
    row = rows[0]
    assert (row["first"], row["second"], row["n"], row["only_first"], row["only_second"]) == ("a", "b", 20, 0, 2)
    assert row["difference"] == pytest.approx(0.1) and row["p"] == pytest.approx(0.5)  # 2 x 0.5^2
    assert row["noise"] and row["unequal"] and row["epochs"] == (3, 5)
    other_images = right.assign(image=range(1, 21))
    assert paired_comparisons(summaries, {"a": wrong_two, "b": other_images}) == []
