"""Receptive-field geometry against boxes worked out by hand and against a brute-force walk."""
import numpy as np

from convatlas.core.crops import receptive_patch
from convatlas.core.geometry import PIXEL, WHOLE, Axis, ReceptiveField


def test_a_field_larger_than_the_image_shows_the_image_side():
    field = ReceptiveField(Axis(403, 32, -170), Axis(5, 2, -1))  # EfficientNet-Lite0's _blocks.11 rows, a small x field
    assert field.size(224, 224) == (224, 5)
    box, origin, size = field.unit_geometry(6, 3, 224, 224)
    assert box == (22, 5, 224, 10) and origin == (0, 5) and size == (224, 5)
    image = np.arange(224 * 224, dtype=np.int64).reshape(224, 224, 1)
    patch = receptive_patch(image, box, origin, size, fill=-1)
    assert (patch[:22] == -1).all()  # above the unit's field: not part of it
    assert np.array_equal(patch[22:, :, 0], image[22:, 5:10, 0])


def brute_force_axis(layers, unit):
    """The input pixels a unit of a stack of (kernel, stride, padding, dilation) layers sees, by
    walking every path back to the input."""
    positions = {unit}
    for kernel, stride, padding, dilation in reversed(layers):
        positions = {p * stride - padding + k * dilation for p in positions for k in range(kernel)}
    return min(positions), max(positions) + 1


def test_an_axis_through_layers_matches_a_brute_force_walk():
    layers = [(5, 1, 2, 1), (3, 2, 1, 1), (3, 1, 1, 2), (3, 2, 0, 1)]
    axis = Axis(1, 1, 0)
    for layer in layers:
        axis = axis.through(*layer)
    for unit in range(4):
        start, end = brute_force_axis(layers, unit)
        assert (axis.start + unit * axis.jump, axis.start + unit * axis.jump + axis.size) == (start, end)


def test_the_union_of_two_axes_covers_both():
    a, b = Axis(3, 1, -1), Axis(5, 2, 2)
    assert a.union(b) == Axis(8, 2, -1) == b.union(a)  # [-1, 2) and [2, 7) -> [-1, 7)


def test_boxes_by_hand_clipped_to_the_image():
    field = ReceptiveField(Axis(5, 2, -2), Axis(3, 1, -1))
    assert field.box(0, 0, 10, 8) == (0, 0, 3, 2)  # rows [-2, 3), columns [-1, 2)
    assert field.box(2, 3, 10, 8) == (2, 2, 7, 5)
    assert field.box(5, 7, 10, 8) == (8, 6, 10, 8)  # rows [8, 13), columns [6, 9)
    assert field.size(10, 8) == (5, 3)


def test_unit_geometry_keeps_a_border_units_place():
    field = ReceptiveField(Axis(5, 2, -2), Axis(3, 1, -1))
    box, origin, size = field.unit_geometry(0, 0, 10, 8)
    assert box == (0, 0, 3, 2) and origin == (-2, -1) and size == (5, 3)
    image = np.arange(80).reshape(10, 8, 1)
    patch = receptive_patch(image, box, origin, size, fill=-1)
    expected = np.full((5, 3), -1)
    expected[2:, 1:] = image[0:3, 0:2, 0]
    assert np.array_equal(patch[:, :, 0], expected)


def test_whole_and_pixel_fields():
    assert WHOLE.box(3, 4, 10, 12) == (0, 0, 10, 12) and WHOLE.size(10, 12) == (10, 12)
    assert WHOLE.unit_geometry(0, 0, 10, 12) == ((0, 0, 10, 12), (0, 0), (10, 12))
    assert PIXEL.box(3, 4, 10, 12) == (3, 4, 4, 5)
    assert PIXEL.union(WHOLE) is WHOLE and WHOLE.union(PIXEL) is WHOLE
    wide = PIXEL.union(ReceptiveField(Axis(3, 1, 0), Axis(1, 1, 2)))
    assert wide == ReceptiveField(Axis(3, 1, 0), Axis(3, 1, 0))
