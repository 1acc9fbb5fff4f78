"""Settings that scale with the image side, against the fractions worked out by hand."""
import pytest

from convatlas.workflow.input_scaling import (
    LIGHT_WINDOW_FRACTIONS,
    WINDOW_FRACTIONS,
    occlusion_positions,
    resolved_occlusion,
    scaled_step,
    scaled_windows,
)


def test_occlusion_and_jitter_scale_with_the_image():
    from convatlas.jobs.maximise import maximise_settings

    assert scaled_windows(28) == [3, 5, 7, 9]  # the defaults tuned on Fashion-MNIST
    assert scaled_windows(224) == [25, 41, 57, 73] and scaled_windows(8) == [1, 3]
    assert resolved_occlusion({"windows": "auto", "stride": "auto"}, 224) == {"windows": [25, 41, 57, 73], "stride": 8}
    assert resolved_occlusion({"windows": [4], "stride": 3}, 224) == {"windows": [4], "stride": 3}
    assert maximise_settings(side=28).jitter == 1 and maximise_settings(side=224).jitter == 8
    assert maximise_settings({"jitter": 2}, side=224).jitter == 2


@pytest.mark.parametrize("side", [1, 5, 8, 16, 28, 32, 64, 100, 224])
def test_windows_are_odd_distinct_and_near_their_fractions(side):
    windows = scaled_windows(side)
    assert all(w % 2 == 1 and w >= 1 for w in windows) and len(set(windows)) == len(windows)
    for window in windows:  # the odd number at or just above the fraction's rounded side
        assert any(abs(window - f * side) <= 1.5 for f in WINDOW_FRACTIONS) or window == 1


def test_light_windows_and_stride_at_photo_sizes():
    assert scaled_windows(224, LIGHT_WINDOW_FRACTIONS) == [41, 73]  # 0.18 * 224 = 40.3, 0.32 * 224 = 71.7
    assert resolved_occlusion({"windows": "auto", "stride": "auto", "images_per_class": 2}, 224, light=True) == {
        "windows": [41, 73], "stride": 16, "images_per_class": 2}


def test_the_step_is_one_pixel_per_28():
    assert [scaled_step(side) for side in (8, 28, 41, 42, 56, 224)] == [1, 1, 1, 2, 2, 8]


@pytest.mark.parametrize("side, stride", [(8, 1), (8, 3), (28, 1), (28, 5), (224, 16), (10, 20)])
def test_positions_count_every_stride_th_pixel_in_both_directions(side, stride):
    centres = len(range(0, side, stride))
    assert occlusion_positions(side, stride) == centres * centres
