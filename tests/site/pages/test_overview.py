"""The index page and the model pages, from small synthetic summaries: no model, no training."""
import pytest
from PIL import Image

from convatlas.site import layout
from convatlas.site.pages.overview import render_overview

from .synthetic import missing_targets, summary


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
