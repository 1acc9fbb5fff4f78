"""The ablation page, from a small experiments JSON and per-channel tables: no model, no training."""
import numpy as np
import pandas as pd
from PIL import Image

from convatlas.site import layout
from convatlas.site.pages.ablation import GALLERY_GAP, render_ablation

from .synthetic import CLASSES, pictures


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
