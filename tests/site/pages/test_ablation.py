"""The ablation page, from a small experiments JSON and per-channel tables: no model, no training."""
import numpy as np
import pandas as pd
from PIL import Image

from convatlas.results.artifacts import AblationExperiments, ExperimentResult
from convatlas.site import layout
from convatlas.site.pages.ablation import GALLERY_GAP, render_ablation

from .synthetic import CLASSES, pictures


def test_ablation_page_lists_experiments_strongest_channels_and_flipped_images(renderer, tmp_path):
    k = len(CLASSES)
    experiment = ExperimentResult.from_dict({"channels": {"features.relu1": [1, 2]}, "accuracy_before": 0.9, "accuracy_after": 0.6,
                  "class_accuracy_before": [0.9] * k, "class_accuracy_after": [0.6] * k,
                  "confusion_before": np.eye(k, dtype=int).tolist(), "confusion_after": np.ones((k, k), int).tolist(),
                  "flipped": [{"image": 3, "label": 0, "now": 1}, {"image": 5, "label": 2, "now": 0}], "recovered": 1,
                  "images": 10, "change_interval": [-0.55, -0.05]})
    tables = {"features.relu1": pd.DataFrame({"channel": [0, 1, 2, 3], "accuracy_drop": [0.0, 0.3, 0.1, 0.02],
                                              "drop_low": [-0.1, 0.1, -0.05, -0.08], "drop_high": [0.1, 0.5, 0.25, 0.12],
                                              "base_accuracy": 0.9})}
    render_ablation(renderer, "tiny", 2, AblationExperiments(CLASSES, 10, {"off2": experiment}), tables, pictures)
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


def test_selective_experiments_are_read_against_their_random_draws(renderer, tmp_path):
    k = len(CLASSES)

    def experiment(after, controls_after):
        return ExperimentResult.from_dict({"channels": {"features.relu1": [1]}, "accuracy_before": 0.9, "accuracy_after": after,
                "class_accuracy_before": [0.9] * k, "class_accuracy_after": [after] * k,
                "confusion_before": np.eye(k, dtype=int).tolist(), "confusion_after": np.eye(k, dtype=int).tolist(),
                "flipped": [], "recovered": 0, "images": 100, "change_interval": [after - 0.95, after - 0.85],
                "controls": [{"channels": {"features.relu1": [2]}, "accuracy_after": a, "change_interval": [a - 0.95, a - 0.85]}
                             for a in controls_after]})

    experiments = {"more": experiment(0.6, [0.8, 0.7, 0.85]),  # -0.3 against -0.1, -0.2, -0.05: costs more than all 3
                   "less": experiment(0.85, [0.8, 0.7, 0.6]),  # -0.05 against -0.1, -0.2, -0.3: every draw costs more
                   "within": experiment(0.75, [0.8, 0.7, 0.85])}  # -0.15: one draw (-0.2) costs more
    render_ablation(renderer, "tiny", 2, AblationExperiments(CLASSES, 100, experiments), {}, pictures)
    page = (tmp_path / "site" / layout.ablation_page("tiny", 2)).read_text()
    sections = {part.split("</code>")[0]: part for part in page.split("<h2>Experiment <code>")[1:]}
    more, less, within = sections["more"], sections["less"], sections["within"]
    # mean of -0.1, -0.2, -0.05: -0.1167; SD sqrt(0.011667 / 2) = 0.0764
    assert "3 random draws of as many channels" in more
    assert "by −11.67 points on average (SD 7.64, from −20.00 points to −5.00 points)" in more
    assert "costs more than every one of the 3 random draws (permutation p = 0.25" in more  # (1 + 0) / (1 + 3)
    assert "Every one of the 3 random draws costs at least as much as the selective channels (permutation p = 1.00)" in less
    assert "1 of the 3 random draws cost at least as much (permutation p = 0.50)" in within
    assert "costs more than every one" not in less + within and "Every one of the" not in more + within
    assert not (tmp_path / "site" / layout.ablation_image("tiny", 2, "more-flipped")).exists()  # nothing flipped: no gallery
    assert (tmp_path / "site" / layout.ablation_image("tiny", 2, "more-confusion")).is_file()
