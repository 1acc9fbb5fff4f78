"""Intervals and tests for the numbers pages show (no torch: page jobs use them).

- A proportion (an accuracy, a fire rate) gets Wilson's score interval, which stays inside [0, 1]
  and keeps its coverage near 0 and 1 where the normal approximation does not.
- A difference of two accuracies measured on the same images (two models, a model and its ablated
  copy) is paired: only the images on which the two disagree carry information. Its interval is
  Agresti & Min's (2005) adjusted Wald interval for a difference of paired proportions (add 0.5 to
  each cell of the 2x2 table, then the normal approximation: it keeps its coverage for small counts
  and does not collapse to zero width when no image changed), and its test McNemar's exact test (a
  two-sided binomial test of the discordant pairs against 1/2).
- A difference is *within noise* when its 95% interval contains 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile
LEVEL = 0.95


def change_interval(lost, gained, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the accuracy change ``(gained - lost) / n`` of images classified twice
    (``lost``: right before, wrong after; ``gained``: the other way round), Agresti & Min's interval
    at confidence ``level``; elementwise over arrays of counts."""
    lost = np.asarray(lost, dtype=float) + 0.5
    gained = np.asarray(gained, dtype=float) + 0.5
    total = np.asarray(n, dtype=float) + 2.0
    change = (gained - lost) / total
    variance = ((gained + lost) - (gained - lost) ** 2 / total) / total**2
    half = NormalDist().inv_cdf(0.5 + level / 2) * np.sqrt(np.maximum(variance, 0.0))
    return change - half, change + half


def within_noise(low, high) -> np.ndarray:
    """Whether an interval contains no change."""
    return (np.asarray(low) <= 0) & (np.asarray(high) >= 0)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for ``successes`` out of ``n`` (95% by default); (nan, nan) for n = 0."""
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _log_binomial_pmf(k: int, n: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)


def mcnemar_p(only_first: int, only_second: int) -> float:
    """McNemar's exact two-sided p-value: ``only_first`` images right under the first condition only,
    ``only_second`` under the second only; 1 when they never disagree."""
    discordant = only_first + only_second
    if discordant == 0:
        return 1.0
    tail = [math.exp(_log_binomial_pmf(k, discordant)) for k in range(min(only_first, only_second) + 1)]
    return min(1.0, 2 * math.fsum(tail))


@dataclass(frozen=True)
class PairedDifference:
    """Accuracy of a second condition minus a first, on the same ``n`` images."""

    n: int
    only_first: int  # right under the first condition only
    only_second: int  # right under the second condition only

    @property
    def difference(self) -> float:
        return (self.only_second - self.only_first) / self.n

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% interval of the paired difference (:func:`change_interval`)."""
        low, high = change_interval(self.only_first, self.only_second, self.n)
        return float(low), float(high)

    @property
    def p_value(self) -> float:
        return mcnemar_p(self.only_first, self.only_second)

    @property
    def within_noise(self) -> bool:
        low, high = self.interval
        return low <= 0 <= high


def paired_difference(first_correct, second_correct) -> PairedDifference:
    """The paired difference of two per-image correctness vectors (booleans, the same images in order)."""
    import numpy as np

    first, second = np.asarray(first_correct, dtype=bool), np.asarray(second_correct, dtype=bool)
    if len(first) != len(second):
        raise ValueError(f"paired accuracies need the same images: {len(first)} against {len(second)}")
    return PairedDifference(len(first), int((first & ~second).sum()), int((second & ~first).sum()))


def control_summary(change: float, controls) -> dict:
    """How an experiment's accuracy ``change`` compares with its matched random draws' changes: their
    mean, standard deviation and range, how many draws cost at least as much, and the permutation
    p-value of that count, ``(1 + at_least) / (1 + draws)`` (one-sided: the experiment costs more)."""
    values = [float(v) for v in controls]
    draws = len(values)
    mean = math.fsum(values) / draws
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (draws - 1)) if draws > 1 else 0.0
    at_least = sum(v <= change for v in values)  # changes are negative when accuracy drops
    return {"draws": draws, "mean": mean, "sd": sd, "low": min(values), "high": max(values), "at_least": at_least,
            "p": (1 + at_least) / (1 + draws)}


def bootstrap_interval(statistic, n: int, draws: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """The percentile bootstrap interval of ``statistic(indices)`` over ``draws`` resamplings of
    ``n`` units with replacement (``statistic`` takes an int array of ``n`` unit indices; draws
    where it is NaN are left out); (nan, nan) with fewer than 2 units or no usable draw."""
    import numpy as np

    if n < 2:
        return float("nan"), float("nan")
    generator = np.random.default_rng(seed)
    values = np.array([statistic(generator.integers(0, n, n)) for _ in range(draws)], dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def mean_interval(values, draws: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """The mean of ``values`` (one per independent unit) and its 95% percentile bootstrap interval."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan"), float("nan")
    low, high = bootstrap_interval(lambda idx: values[idx].mean(), len(values), draws, seed)
    return float(values.mean()), low, high


def direction_verdict(low: float, high: float) -> str:
    """A claim that a quantity is positive, read from its 95% interval: ``reproduced`` when the
    interval lies above 0, ``not reproduced`` below 0, ``inconclusive`` when it holds 0 (or is NaN)."""
    if low > 0:
        return "reproduced"
    if high < 0:
        return "not reproduced"
    return "inconclusive"


T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
"""Student's t 97.5th percentiles for 1 to 30 degrees of freedom (beyond: the normal's)."""


def t_interval(values) -> tuple[float, float, float]:
    """The mean of a few independent ``values`` (e.g. draws) and its 95% Student-t interval; the
    interval is (nan, nan) with fewer than 2 values."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    mean = math.fsum(values) / n
    if n < 2:
        return mean, float("nan"), float("nan")
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = (T975[n - 2] if n - 1 <= len(T975) else Z95) * sd / math.sqrt(n)
    return mean, mean - half, mean + half
