"""Class selectivity and response histograms."""
import numpy as np
import pytest
import torch

from convatlas.analyses.responses import (
    HISTOGRAM_BINS,
    HISTOGRAM_EDGES,
    count_responses,
    min_active_images,
    selectivity_index,
)


def class_means(responses: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    rectified = np.maximum(responses, 0)
    return np.stack([rectified[labels == k].mean(axis=0) for k in range(classes)])


def test_a_channel_firing_on_one_image_is_not_the_most_selective():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 100)
    rare = np.zeros(1000)
    rare[3] = 0.01  # fires once, on a class-0 image: (top - rest) / (top + rest) would be 1
    selective = np.where(labels == 4, 2.0 + rng.random(1000), 0.1 * rng.random(1000))  # class 4 strongly
    broad = 1.0 + rng.random(1000)
    responses = np.stack([rare, selective, broad], axis=1)
    active = (responses > 0).sum(axis=0)
    got = selectivity_index(class_means(responses, labels, 10), active, 1000)
    assert np.isnan(got[0])
    assert got[1] > 0.9 and got[2] < 0.2
    assert np.nanargmax(got) == 1


def test_signed_responses_keep_the_index_within_zero_and_one():
    labels = np.repeat(np.arange(4), 50)
    responses = np.where(labels == 0, 1.0, -3.0)[:, None] + np.linspace(0, 0.5, 200)[:, None]  # negative mean
    got = selectivity_index(class_means(responses, labels, 4), (responses > 0).sum(axis=0), 200)
    assert got[0] == pytest.approx(1.0)
    # the unrectified formula gives (top - rest) / (top + rest) > 1 here
    raw = np.stack([responses[labels == k].mean(axis=0) for k in range(4)])
    top, rest = raw.max(axis=0), (raw.sum(axis=0) - raw.max(axis=0)) / 3
    assert (top - rest) / (top + rest) > 1 or (top + rest) < 0


def test_classes_without_images_are_left_out_and_the_threshold_scales():
    means = np.array([[2.0], [np.nan], [0.0]])
    assert selectivity_index(means, np.array([20]), 100)[0] == pytest.approx(1.0)
    assert min_active_images(50) == 10 and min_active_images(10_000) == 100 and min_active_images(10_001) == 101
    assert np.isnan(selectivity_index(means, np.array([99]), 10_000)[0])


def test_histogram_counts_equal_a_loop_and_add_up_over_batches():
    torch.manual_seed(0)
    scores = torch.cat([torch.randn(300, 3) * 5, torch.tensor([[0.0, 1e-9, 1e9], [2.0**-12, 2.0**14, -1.0]])])
    want = np.zeros((3, HISTOGRAM_BINS), dtype=np.int64)
    for row in scores.numpy():
        for c, s in enumerate(row):
            if s <= 0:
                want[c, 0] += 1
            else:
                want[c, 1 + np.searchsorted(HISTOGRAM_EDGES, s, side="right")] += 1
    assert count_responses(scores).tolist() == want.tolist()
    assert (count_responses(scores[:100]) + count_responses(scores[100:])).tolist() == want.tolist()
    assert want[2, -1] == 1 and want[1, 1] == 1  # beyond the last edge, and below the first
