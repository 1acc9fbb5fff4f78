"""The findings (Zeiler & Fergus claims) and their statistics against hand computations."""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from convatlas.analyses.evolution import settling
from convatlas.analyses.findings import (
    correspondence_finding,
    evolution_finding,
    findings,
    invariance_layer_finding,
    invariance_output_finding,
    object_mask,
    occlusion_finding,
    smallest_steps,
    variants_finding,
    window_coverage,
)
from convatlas.analyses.statistics import bootstrap_interval, direction_verdict, mean_interval, t_interval

from ..artifacts import small_study


def test_bootstrap_and_t_intervals_by_hand():
    assert bootstrap_interval(lambda idx: 3.0, 5) == (3.0, 3.0)
    assert all(np.isnan(bootstrap_interval(lambda idx: 1.0, 1)))
    values = np.random.default_rng(0).normal(10, 2, 400)
    mean, low, high = mean_interval(values)
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))  # the normal interval of a mean
    assert mean == pytest.approx(values.mean()) and low == pytest.approx(mean - half, abs=0.04) and high == pytest.approx(mean + half, abs=0.04)
    mean, low, high = t_interval([1, 2, 3, 4, 5])  # SD 1.5811; t(4) = 2.776
    assert mean == 3 and (low, high) == pytest.approx((3 - 2.776 * 1.5811 / 5 ** 0.5, 3 + 2.776 * 1.5811 / 5 ** 0.5), abs=1e-3)
    assert np.isnan(t_interval([0.4])[1])
    assert [direction_verdict(*b) for b in ((0.1, 0.3), (-0.3, -0.1), (-0.1, 0.2), (np.nan, np.nan))] == [
        "reproduced", "not reproduced", "inconclusive", "inconclusive"]


def pairs_table(parts: dict[str, float], random: dict[str, float], images: int = 6, noise: float = 0.01) -> pd.DataFrame:
    generator = np.random.default_rng(1)
    rows = []
    for layer in parts:
        for i, j in combinations(range(images), 2):
            rows.append({"part": "toe", "layer": layer, "draw": 0, "first": i, "second": j,
                         "distance": parts[layer] + noise * generator.standard_normal()})
            for draw in range(3):
                rows.append({"part": "random", "layer": layer, "draw": draw, "first": i, "second": j,
                             "distance": random[layer] + noise * generator.standard_normal()})
    return pd.DataFrame(rows)


def test_correspondence_gap_shrinking_at_the_top_is_reproduced_and_keeping_it_is_not():
    table = pairs_table({"low": 0.1, "top": 0.45}, {"low": 0.5, "top": 0.5})
    finding = correspondence_finding(table, ["low", "top"])
    parts = table[(table.layer == "low") & (table.part == "toe")].distance.mean()
    random = table[(table.layer == "low") & (table.part == "random")].distance.mean()
    assert finding.rows[0]["gap"] == pytest.approx(1 - parts / random)  # 1 - Delta(parts) / Delta(random), by hand
    assert finding.verdict == "reproduced" and finding.n == 6 and finding.low > 0
    kept = correspondence_finding(pairs_table({"low": 0.1, "top": 0.15}, {"low": 0.5, "top": 0.5}), ["low", "top"])
    assert kept.verdict == "not reproduced" and "well below chance at the top" in kept.measured
    assert correspondence_finding(None).verdict == "not measured"


def invariance_table(first: float, top: float, probability: dict[str, float], images: int = 8) -> pd.DataFrame:
    steps = {"translation": [-4, -2, 0, 2, 4], "rotation": [0, 30, 90, 330, 360], "scale": [0.8, 0.9, 1.0, 1.1]}
    generator = np.random.default_rng(2)
    rows = []
    for kind, values in steps.items():
        for value in values:
            identity = value in (0, 360) if kind != "scale" else value == 1.0
            for image in range(images):
                rows.append({"transform": kind, "value": float(value), "image": image, "label": "x",
                             "first_distance": 0.0 if identity else first + 0.01 * generator.standard_normal(),
                             "top_distance": 0.0 if identity else top + 0.01 * generator.standard_normal(),
                             "probability": 0.9 if identity else probability[kind] + 0.02 * generator.standard_normal()})
    return pd.DataFrame(rows)


def test_invariance_findings_use_the_smallest_steps_and_compare_rotation():
    table = invariance_table(0.8, 0.3, {"translation": 0.8, "scale": 0.7, "rotation": 0.1})
    small = smallest_steps(table)
    assert sorted(set(small[small["transform"] == "translation"].value)) == [-2, 2]
    assert sorted(set(small[small["transform"] == "rotation"].value)) == [30, 330]
    assert sorted(set(small[small["transform"] == "scale"].value)) == [1.1]  # |log 1.1| < |log 0.9|
    layers = invariance_layer_finding(table, "a", "b")
    expected = (small.first_distance - small.top_distance).groupby(small.image).mean().mean()
    assert layers.estimate == pytest.approx(expected) and layers.verdict == "reproduced" and layers.n == 8
    output = invariance_output_finding(table)
    assert output.verdict == "reproduced" and output.estimate == pytest.approx(0.6, abs=0.02)  # scale 0.7 - rotation 0.1
    invariant = invariance_output_finding(invariance_table(0.8, 0.3, {"translation": 0.8, "scale": 0.7, "rotation": 0.85}))
    assert invariant.verdict == "not reproduced"
    assert invariance_layer_finding(invariance_table(0.3, 0.8, {"translation": 0.8, "scale": 0.7, "rotation": 0.1})).verdict == "not reproduced"


def test_object_mask_and_window_coverage_against_brute_force():
    image = np.zeros((1, 12, 12), np.uint8)
    image[0, 3:9, 0:7] = 200  # touches the left border: the background is still uniform
    mask = object_mask(image)
    assert mask is not None and mask.sum() == 42 and mask[3:9, 0:7].all()
    noisy = np.random.default_rng(0).integers(0, 255, (3, 12, 12), dtype=np.uint8)
    assert object_mask(noisy) is None
    for window, stride in ((5, 1), (4, 3)):
        coverage = window_coverage(mask, window, stride)
        for a, cy in enumerate(range(0, 12, stride)):
            for b, cx in enumerate(range(0, 12, stride)):
                y0, x0 = max(0, cy - window // 2), max(0, cx - window // 2)
                y1, x1 = min(12, cy - window // 2 + window), min(12, cx - window // 2 + window)
                assert coverage[a, b] == pytest.approx(mask[y0:y1, x0:x1].mean())


def occlusion_maps(object_drop: float, images: int = 6):
    pictures = np.zeros((images, 1, 12, 12), np.uint8)
    pictures[:, :, 2:8, 2:8] = 255
    coverage = window_coverage(pictures[0, 0] > 0, 3, 1)
    probability = np.where(coverage >= 0.5, 0.9 - object_drop, 0.88)[None].repeat(images, 0)
    probability = probability + np.linspace(0, 0.01, images)[:, None, None]
    maps = {kind: {1: probability, 3: probability} for kind in ("activity", "probability", "predicted")}
    return small_study(np.arange(images), windows=[1, 3], stride=1, probability=np.full(images, 0.9), maps=maps), pictures


def test_occlusion_finding_compares_object_and_background_squares():
    maps, pictures = occlusion_maps(0.5)
    finding = occlusion_finding(maps, pictures)
    drops = 0.9 - maps.maps["probability"][3]
    coverage = window_coverage(pictures[0, 0] > 0, 3, 1)
    expected = np.mean([d[coverage >= 0.5].mean() - d[coverage == 0].mean() for d in drops])
    assert finding.estimate == pytest.approx(expected) and finding.verdict == "reproduced" and finding.n == 6
    assert occlusion_finding(*occlusion_maps(-0.05)).verdict == "not reproduced"
    photos = np.random.default_rng(0).integers(0, 255, (6, 3, 12, 12), dtype=np.uint8)
    assert occlusion_finding(maps, photos).verdict == "not measured"


def test_evolution_finding_sees_lower_layers_settle_first():
    generator = np.random.default_rng(3)
    final = {"low": generator.normal(size=(50, 4)), "top": generator.normal(size=(50, 5))}
    early = {"low": final["low"] + 0.1 * generator.normal(size=(50, 4)), "top": final["top"] + 2 * generator.normal(size=(50, 5))}
    early["low"][:, 3] = 1.0  # a constant channel has no correlation
    table = settling({1: early, 3: final})
    finding = evolution_finding(table)
    assert finding.verdict == "reproduced" and finding.n == 3 + 5 and set(table.last_epoch) == {3}
    assert evolution_finding(None).verdict == "not measured"


def test_variants_finding_reads_paired_error_changes_by_kind():
    generator = np.random.default_rng(4)
    base = generator.random(2000) < 0.8
    worse = base & (generator.random(2000) < 0.9)  # about 8 points more error
    rows = [{"model": "zf", "epoch": 2, "parameters": 1000, "weight_layers": 5, "test_images": 2000, "test_correct": base},
            {"model": "zf-shallow", "epoch": 2, "parameters": 1200, "weight_layers": 4, "test_images": 2000, "test_correct": worse}]
    finding = variants_finding(pd.DataFrame(rows), "zf")
    assert finding.verdict == "reproduced" and finding.rows[0]["Zeiler & Fergus expect"] == "higher error"
    assert finding.rows[0]["change"] == pytest.approx(base.mean() - worse.mean())
    rows[1]["test_correct"] = base | (generator.random(2000) < 0.5)  # better: not what Zeiler & Fergus found
    assert variants_finding(pd.DataFrame(rows), "zf").verdict == "not reproduced"
    assert variants_finding(None, "zf").verdict == "not measured"


def test_fewer_than_five_images_give_no_interval_and_no_verdict():
    pairs = pairs_table({"low": 0.1, "top": 0.45}, {"low": 0.5, "top": 0.5}, images=3)
    table = invariance_table(0.8, 0.3, {"translation": 0.8, "scale": 0.7, "rotation": 0.1}, images=4)
    results = findings("zf", (pairs, ["low", "top"]), (table, "low", "top"))
    for finding in results[:3]:
        assert finding.verdict == "inconclusive" and np.isnan(finding.low) and "too few" in finding.measured
        assert finding.result.endswith("(no interval: n too small)")
    assert np.isnan(results[0].rows[0]["gap_low"]) and "95%" not in results[0].measured.split("Only")[0]
    assert findings("zf", (pairs_table({"low": 0.1, "top": 0.45}, {"low": 0.5, "top": 0.5}), ["low", "top"]))[0].verdict == "reproduced"


def test_all_findings_not_measured_without_analyses():
    results = findings("zf")
    assert [f.key for f in results] == ["table1", "fig5_layers", "fig5_output", "fig7", "fig4", "table3"]
    assert all(f.verdict == "not measured" and f.result == "–" for f in results)
