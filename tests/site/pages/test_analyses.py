"""The analysis pages (occlusion, correspondence, invariance), from small arrays: no model, no training."""
import numpy as np
import pandas as pd

from convatlas.results.artifacts import CorrespondenceDesign, InvarianceStrips
from convatlas.site import layout
from convatlas.site.pages.analyses import render_analyses

from ...artifacts import small_study
from .synthetic import CLASSES, missing_targets, pictures


def test_analysis_pages_render_only_the_analyses_given(renderer, tmp_path):
    invariance = pd.DataFrame([{"transform": "rotation", "value": v, "image": 0, "first_distance": 0.1, "top_distance": 0.2,
                                "probability": 0.5, "label": "disc"} for v in (0, 90)])
    strips = InvarianceStrips({"rotation": np.zeros((2, 1, 1, 12, 12), np.uint8)}, "features.relu1", "classifier.fc1_relu")
    render_analyses(renderer, "tiny", 2, CLASSES, ["features.relu1"], invariance=(invariance, strips))
    folder = tmp_path / "site" / layout.analyses_dir("tiny", 2)
    assert sorted(p.name for p in folder.glob("*.html")) == ["invariance.html"]


def test_analysis_pages_from_small_arrays(renderer, tmp_path):
    n, windows = 2, [3, 5]
    maps = {"activity": {w: np.ones((n, 6, 6), np.float32) for w in windows},
            "probability": {w: np.full((n, 6, 6), 0.5, np.float32) for w in windows},
            "predicted": {w: np.zeros((n, 6, 6), np.int64) for w in windows}}
    occlusion = small_study([4, 7], windows, stride=2, labels=np.array([0, 1]), predicted=np.array([0, 2]),
                            probability=np.array([0.9, 0.4]), channels=np.array([1, 3]), maps=maps)
    table = pd.DataFrame({"part": ["top", "random"], "layer": ["features.relu1"] * 2, "delta": [0.2, 0.4],
                          "std": [0.01, 0.02], "draws": [1, 3]})
    meta = CorrespondenceDesign("disc", [0, 3], {"top": [0, 2, 5, 10]}, ["features.relu1"])
    invariance = pd.DataFrame([{"transform": t, "value": v, "image": i, "first_distance": 0.1, "top_distance": 0.2,
                                "probability": 0.5, "label": "disc"}
                               for t in ("translation", "rotation", "scale") for v in (0, 1) for i in (0, 1)])
    strips = InvarianceStrips({t: np.zeros((2, 2, 1, 12, 12), np.uint8) for t in ("translation", "rotation", "scale")},
                              "features.relu1", "classifier.fc1_relu")
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
