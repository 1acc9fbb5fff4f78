"""The paired accuracy-change interval: its formula, and its coverage in simulation."""
import numpy as np
import pytest

from convatlas.analyses.paired import change_interval, within_noise


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
