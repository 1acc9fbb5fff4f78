"""Class selectivity and response histograms."""
import numpy as np
import pytest
import torch

from convatlas.analyses.responses import (
    HISTOGRAM_BINS,
    HISTOGRAM_EDGES,
    count_responses,
    min_active_images,
    ranked_channels,
    selectivity_index,
    selectivity_interval,
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


def test_nearly_silent_channels_are_not_ranked():
    """zf's fc1 #24 in the default atlas: fires on exactly 1% of the images with a largest response of
    0.21 where the layer's channels reach 4-6; its selectivity 1.00 ranked it first."""
    active = np.array([100, 100, 5000, 99, 3000])
    peak = np.array([0.21, 4.0, 5.0, 6.0, 3.0])
    assert ranked_channels(active, peak, 10_000).tolist() == [False, True, True, False, True]  # floor: 0.1 x median 4.0
    assert not ranked_channels(np.array([50]), np.array([0.0]), 100).any()


def test_the_selectivity_interval_matches_a_brute_force_bootstrap_over_images():
    """Against resampling each class's images with replacement (2,000 times): the normal resampling
    of class means gives the same 95% interval within 0.02 at 60 skewed responses a class."""
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(5), 60)
    responses = np.stack([np.where(labels == 2, 1.5, 0.5) * rng.exponential(1.0, 300),  # selective, noisy
                          rng.exponential(1.0, 300),  # not selective
                          np.where(labels == 0, rng.gamma(4.0, 1.0, 300), 0.05 * rng.random(300))], axis=1)
    rectified = np.maximum(responses, 0)
    sums = np.stack([rectified[labels == k].sum(axis=0) for k in range(5)])
    squares = np.stack([(rectified[labels == k] ** 2).sum(axis=0) for k in range(5)])
    counts = np.bincount(labels).astype(float)
    low, high = selectivity_interval(sums, squares, counts, draws=4000, seed=1)
    brute = []
    for _ in range(2000):
        picked = np.concatenate([rng.choice(np.flatnonzero(labels == k), 60) for k in range(5)])
        brute.append(selectivity_index(class_means(responses[picked], labels[picked], 5), np.full(3, 300), 300))
    want_low, want_high = np.percentile(np.stack(brute), [2.5, 97.5], axis=0)
    np.testing.assert_allclose(low, want_low, atol=0.02)
    np.testing.assert_allclose(high, want_high, atol=0.02)
    point = selectivity_index(class_means(responses, labels, 5), np.full(3, 300), 300)
    assert (low < point).all() and (point < high).all()


def test_with_one_image_a_class_there_is_no_interval():
    """Fourteen unlabelled photos classed by prediction, one a class: a selectivity with no interval,
    which the index then leaves undefined."""
    sums = np.arange(14.0).reshape(14, 1) + 1
    low, high = selectivity_interval(sums, sums ** 2, np.ones(14))
    assert np.isnan(low).all() and np.isnan(high).all()
    counts = np.array([2.0, 2.0] + [1.0] * 12)  # two classes with two images: an interval again
    low, high = selectivity_interval(sums * counts[:, None], sums ** 2 * counts[:, None] + 0.1, counts)
    assert not np.isnan(low).any()
