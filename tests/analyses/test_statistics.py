"""Intervals and tests against hand-computed and textbook cases."""
from __future__ import annotations

import math

import pytest

from convatlas.analyses.statistics import PairedDifference, mcnemar_p, paired_difference, wilson_interval


def test_wilson_intervals_match_textbook_values():
    # Newcombe (1998), Table I: 0/10 -> (0, 0.2775); 5/10 -> (0.2366, 0.7634); 81/263 -> (0.2553, 0.3662)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=5e-5)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    low, high = wilson_interval(3, 40)
    assert (1 - high, 1 - low) == pytest.approx(wilson_interval(37, 40))  # symmetric in success and failure
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_mcnemars_exact_p_value_is_a_binomial_tail_by_hand():
    assert mcnemar_p(0, 5) == pytest.approx(2 * 0.5 ** 5)
    assert mcnemar_p(8, 2) == pytest.approx(2 * (1 + 10 + 45) / 1024)
    assert mcnemar_p(5, 5) == 1.0 and mcnemar_p(0, 0) == 1.0


def test_a_paired_difference_counts_only_the_discordant_images():
    first = [True, True, False, False, True, False, True, True, False, True]
    second = [True, False, True, True, True, True, True, True, False, True]
    diff = paired_difference(first, second)
    assert (diff.n, diff.only_first, diff.only_second) == (10, 1, 3)
    assert diff.difference == pytest.approx(0.2)
    half = 1.959963984540054 * math.sqrt(4 - 4 / 10) / 10
    assert diff.interval == pytest.approx((0.2 - half, 0.2 + half))
    assert diff.within_noise and diff.p_value == pytest.approx(2 * (1 + 4) / 16)
    assert not PairedDifference(10_000, 10, 80).within_noise
    with pytest.raises(ValueError, match="same images"):
        paired_difference([True], [True, False])
