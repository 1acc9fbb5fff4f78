"""How much an accuracy changed when the same images were classified twice, with its uncertainty.

Ablating a channel changes the prediction on a few images: ``lost`` were right before and wrong
after, ``gained`` the other way round. The accuracy change is ``(gained - lost) / n``; only these
discordant images carry information about it (McNemar). Its interval is Agresti & Min's (2005)
adjusted Wald interval for a difference of paired proportions: add 0.5 to each cell of the 2x2
table, then use the normal approximation. It keeps its nominal coverage for small counts and, unlike
the plain Wald or a bootstrap, does not collapse to zero width when no image changed.
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

LEVEL = 0.95


def change_interval(lost, gained, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the accuracy change ``(gained - lost) / n`` at confidence ``level``;
    elementwise over arrays of counts."""
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
