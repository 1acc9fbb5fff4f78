"""Parts as pixel boxes: in pixels, or relative to the image when fractional."""
from convatlas.analyses.part_boxes import part_box


def test_part_boxes_in_pixels_or_relative():
    assert part_box([2, 3, 8, 9], 16, 16) == (2, 3, 8, 9)
    assert part_box([0.25, 0.0, 0.75, 0.5], 16, 20) == (4, 0, 12, 10)


def test_fractions_round_to_the_nearest_pixel():
    assert part_box([0.1, 0.26, 0.5, 1.0], 10, 30) == (1, 8, 5, 30)  # 7.8 -> 8


def test_whole_numbers_are_pixels_even_within_0_and_1():
    assert part_box([0, 0, 1, 1], 16, 16) == (0, 0, 1, 1)  # no fractional value: pixels
    assert part_box([0.0, 0.0, 1.0, 1.0], 16, 16) == (0, 0, 1, 1)
    assert part_box([2.0, 3.0, 8.0, 9.0], 16, 16) == (2, 3, 8, 9)


def test_values_beyond_1_are_pixels_truncated():
    assert part_box([0.5, 2, 4.7, 6], 16, 16) == (0, 2, 4, 6)
