"""Receptive-field geometry: the input box each unit of a layer sees (no torch needed)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Axis:
    """Receptive field along one axis: unit i sees input pixels [start + i*jump, start + i*jump + size)."""

    size: int
    jump: int
    start: int

    def through(self, kernel: int, stride: int, padding: int, dilation: int = 1) -> Axis:
        span = dilation * (kernel - 1)
        return Axis(self.size + span * self.jump, self.jump * stride, self.start - padding * self.jump)

    def union(self, other: Axis) -> Axis:
        start = min(self.start, other.start)
        end = max(self.start + self.size, other.start + other.size)
        return Axis(end - start, max(self.jump, other.jump), start)


@dataclass(frozen=True)
class ReceptiveField:
    """The input box each unit of a layer sees; ``whole`` means every unit sees the whole image."""

    y: Axis
    x: Axis
    whole: bool = False

    def box(self, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
        """Input box ``(y0, x0, y1, x1)`` (end exclusive) of unit (y, x), clipped to the image."""
        if self.whole:
            return 0, 0, height, width
        y0 = self.y.start + y * self.y.jump
        x0 = self.x.start + x * self.x.jump
        return max(0, y0), max(0, x0), min(height, y0 + self.y.size), min(width, x0 + self.x.size)

    def unit_geometry(self, y: int, x: int, height: int, width: int):
        """``(box, origin, size)`` of unit (y, x), as :func:`convatlas.core.crops.receptive_patch` takes
        them: the clipped box, and the window shown around it: the unclipped field (so a unit at the
        border keeps its place), or, along an axis where the field is at least the image's side,
        the image's whole side (a field larger than the image holds nothing more to show)."""
        box = self.box(y, x, height, width)
        if self.whole:
            return box, (0, 0), (height, width)
        (oy, h), (ox, w) = _window(self.y, y, height), _window(self.x, x, width)
        return box, (oy, ox), (h, w)

    def size(self, height: int, width: int) -> tuple[int, int]:
        """Side lengths of the window shown around a unit (see :meth:`unit_geometry`): the unclipped
        field, at most the image's side."""
        return (height, width) if self.whole else (min(self.y.size, height), min(self.x.size, width))

    def union(self, other: ReceptiveField) -> ReceptiveField:
        if self.whole or other.whole:
            return WHOLE
        return ReceptiveField(self.y.union(other.y), self.x.union(other.x))


def _window(axis: Axis, index: int, side: int) -> tuple[int, int]:
    """(start, length) of the window shown along one axis for unit ``index``."""
    if axis.size >= side:
        return 0, side
    return axis.start + index * axis.jump, axis.size


WHOLE = ReceptiveField(Axis(0, 0, 0), Axis(0, 0, 0), whole=True)
PIXEL = ReceptiveField(Axis(1, 1, 0), Axis(1, 1, 0))
