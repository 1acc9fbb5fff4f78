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
        """``(box, origin, size)`` of unit (y, x): the clipped box, the unclipped top-left corner and
        the unclipped (h, w), as :func:`convatlas.core.crops.receptive_patch` takes them."""
        box = self.box(y, x, height, width)
        if self.whole:
            return box, (0, 0), (height, width)
        return box, (self.y.start + y * self.y.jump, self.x.start + x * self.x.jump), (self.y.size, self.x.size)

    def size(self, height: int, width: int) -> tuple[int, int]:
        """Unclipped side lengths of the box (the image size when whole)."""
        return (height, width) if self.whole else (self.y.size, self.x.size)

    def union(self, other: ReceptiveField) -> ReceptiveField:
        if self.whole or other.whole:
            return WHOLE
        return ReceptiveField(self.y.union(other.y), self.x.union(other.x))


WHOLE = ReceptiveField(Axis(0, 0, 0), Axis(0, 0, 0), whole=True)
PIXEL = ReceptiveField(Axis(1, 1, 0), Axis(1, 1, 0))
