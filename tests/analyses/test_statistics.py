"""Intervals and tests against hand-computed and textbook cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from convatlas.analyses.statistics import (
    PairedDifference,
    change_interval,
    mcnemar_p,
    paired_difference,
    wilson_interval,
    within_noise,
)


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
    # Agresti & Min: 0.5 added to each cell, lost 1.5, gained 3.5, n 12
    centre, half = 2 / 12, 1.959963984540054 * math.sqrt(5 - 2 ** 2 / 12) / 12
    assert diff.interval == pytest.approx((centre - half, centre + half))
    assert diff.within_noise and diff.p_value == pytest.approx(2 * (1 + 4) / 16)
    assert not PairedDifference(10_000, 10, 80).within_noise
    with pytest.raises(ValueError, match="same images"):
        paired_difference([True], [True, False])


def test_interval_by_hand():
    # 2x2 table + 0.5 per cell: lost 10.5, gained 2.5, n 1002
    low, high = change_interval(10, 2, 1000)
    change = (2.5 - 10.5) / 1002
    sd = np.sqrt((13 - 8.0**2 / 1002) / 1002**2)
    assert low == pytest.approx(change - 1.959964 * sd) and high == pytest.approx(change + 1.959964 * sd)
    assert not within_noise(low, high)
    low, high = change_interval(0, 0, 1000)  # nothing changed: still an interval of about +-0.2 points
    assert low < 0 < high and high == pytest.approx(1.959964 / 1002, rel=1e-3)
    assert within_noise(low, high)


@pytest.mark.parametrize("p_lost, p_gained, n", [(0.01, 0.002, 1000), (0.002, 0.002, 5000), (0.05, 0.01, 200)])
def test_coverage_is_near_nominal(p_lost, p_gained, n):
    """Simulated paired ablations: the 95% interval holds the true change in about 95% of runs."""
    rng = np.random.default_rng(0)
    cells = rng.multinomial(n, [p_lost, p_gained, 1 - p_lost - p_gained], size=4000)
    low, high = change_interval(cells[:, 0], cells[:, 1], n)
    truth = p_gained - p_lost
    coverage = ((low <= truth) & (truth <= high)).mean()
    assert 0.93 <= coverage <= 0.995
