"""Intervals and tests for the numbers pages show (no torch: page jobs use them).

- A proportion (an accuracy, a fire rate) gets Wilson's score interval, which stays inside [0, 1]
  and keeps its coverage near 0 and 1 where the normal approximation does not.
- A difference of two accuracies measured on the same images (two models, a model and its ablated
  copy) is paired: only the images on which the two disagree carry information. Its interval is the
  normal one for a paired difference of proportions, and its test McNemar's exact test (a two-sided
  binomial test of the discordant pairs against 1/2).
- A difference is *within noise* when its 95% interval contains 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


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
        """The 95% normal interval of the paired difference, ``d ± z * sqrt(b + c - (b - c)^2 / n) / n``."""
        b, c, n = self.only_first, self.only_second, self.n
        half = Z95 * math.sqrt(max(0.0, b + c - (c - b) ** 2 / n)) / n
        return self.difference - half, self.difference + half

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
